"""python -m dps.prior export CKPT OUT [--dtype float16] | info FILE."""

from __future__ import annotations

import argparse
import json
import sys

from dps.cli_common import one_line_errors


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    from dps.prior.export import PriorError, export_prior, read_prior_metadata

    ap = argparse.ArgumentParser(prog="python -m dps.prior")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="checkpoint -> slim safetensors prior (EMA weights + config)")
    e.add_argument("checkpoint")
    e.add_argument("output")
    e.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
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
        else:
            print(json.dumps(read_prior_metadata(args.file), indent=2))
    except PriorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
