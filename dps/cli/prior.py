"""dps prior export CKPT OUT | soup A B [C ...] --output OUT | info FILE_OR_NAME."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prior", help="export, average or inspect prior files", description=__doc__)
    s = p.add_subparsers(dest="prior_command", required=True, metavar="ACTION")
    e = s.add_parser("export", help="checkpoint -> slim safetensors prior (EMA weights + config)")
    e.add_argument("checkpoint")
    e.add_argument("output")
    e.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    e.set_defaults(run=export)
    so = s.add_parser("soup", help="average the weights of priors fine-tuned from one start (model soup)")
    so.add_argument("priors", nargs="+")
    so.add_argument("--output", required=True)
    so.add_argument("--weights", type=float, nargs="+", help="one per prior, summing to 1 (default: equal)")
    so.add_argument("--dtype", default="float16", choices=["float32", "float16", "bfloat16"])
    so.set_defaults(run=soup)
    i = s.add_parser("info", help="print a prior file's embedded config (a shipped name or a file)")
    i.add_argument("file")
    i.set_defaults(run=info)


def export(args: argparse.Namespace) -> int:
    from dps.prior.export import export_prior

    meta = export_prior(args.checkpoint, args.output, args.dtype)
    print(
        f"{args.output}: {meta['config'].get('content')} prior, step {meta['global_step']}, "
        f"{meta['train_wall_s'] / 60:.1f} min of training, EMA {meta['ema']}"
    )
    return 0


def soup(args: argparse.Namespace) -> int:
    from dps.prior.export import soup_priors
    from dps.prior.registry import resolve_prior

    meta = soup_priors([resolve_prior(p) for p in args.priors], args.output, args.weights, args.dtype)
    parts = ", ".join(f"{i['weight']:.3g} x {i['path']}" for i in meta["soup"])
    print(f"{args.output}: {meta['config'].get('content')} prior, soup of {parts}")
    return 0


def info(args: argparse.Namespace) -> int:
    from dps.prior.export import read_prior_metadata
    from dps.prior.registry import resolve_prior

    print(json.dumps(read_prior_metadata(resolve_prior(args.file)), indent=2))
    return 0
