"""python -m dps.prior export CKPT OUT [--dtype float16] | soup A B [C ...] --output OUT | info FILE."""

from __future__ import annotations

import argparse
import json
import sys

from dps.cli_common import one_line_errors


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    from dps.prior.export import PriorError, export_prior, read_prior_metadata, soup_priors

    ap = argparse.ArgumentParser(prog="python -m dps.prior")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="checkpoint -> slim safetensors prior (EMA weights + config)")
    e.add_argument("checkpoint")
    e.add_argument("output")
    e.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    so = sub.add_parser("soup", help="average the weights of priors fine-tuned from one start (model soup)")
    so.add_argument("priors", nargs="+")
    so.add_argument("--output", required=True)
    so.add_argument("--weights", type=float, nargs="+", help="one per prior, summing to 1 (default: equal)")
    so.add_argument("--dtype", default="float16", choices=["float32", "float16", "bfloat16"])
    i = sub.add_parser("info", help="print a prior file's embedded config")
    i.add_argument("file")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "export":
            info = export_prior(args.checkpoint, args.output, args.dtype)
            print(
                f"{args.output}: {info['config'].get('content')} prior, step {info['global_step']}, "
                f"{info['train_wall_s'] / 60:.1f} min of training, EMA {info['ema']}"
            )
        elif args.cmd == "soup":
            from dps.prior.registry import resolve_prior

            paths = [resolve_prior(p) for p in args.priors]
            info = soup_priors(paths, args.output, args.weights, args.dtype)
            parts = ", ".join(f"{i['weight']:.3g} x {i['path']}" for i in info["soup"])
            print(f"{args.output}: {info['config'].get('content')} prior, soup of {parts}")
        else:
            print(json.dumps(read_prior_metadata(args.file), indent=2))
    except PriorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
