"""Train a score prior: python train.py configs/prior/speech.yaml [key=value ...] [--dry-run]."""

from __future__ import annotations

import argparse
import sys

from dps.cli_common import one_line_errors


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("config", help="a prior YAML under configs/prior/")
    ap.add_argument("overrides", nargs="*", help="OmegaConf dotlist, e.g. trainer.max_steps=1000 size=base")
    ap.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    args = ap.parse_intermixed_args(argv)
    from dps.prior.config import load_prior_config, to_yaml

    config = load_prior_config(args.config, args.overrides)
    if args.dry_run:
        print(to_yaml(config), end="")
        return 0
    from dps.prior.training import train

    train(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
