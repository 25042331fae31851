"""The `dps` command: encode, decode, train, eval, data and prior subcommands."""

from __future__ import annotations

import argparse
import sys

from dps import __version__
from dps.cli import codec, data, decode, evaluate, prior, train
from dps.cli.common import one_line_errors

SUBCOMMANDS = (codec, decode, train, evaluate, data, prior)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="dps", description="Audio decoding by diffusion posterior sampling: codec, decoders, priors, evaluation."
    )
    ap.add_argument("--version", action="version", version=f"dps {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return ap


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args, extra = ap.parse_known_args(argv)
    if extra:  # `dps train speech --dry-run a=b`: argparse leaves dotlist overrides after an option unparsed
        if not hasattr(args, "overrides") or any(e.startswith("-") or "=" not in e for e in extra):
            ap.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides += extra
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for commands that start copies of themselves
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
