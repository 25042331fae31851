"""dps train CONFIG [key=value ...]: train a score prior (Lightning; DDP with trainer.devices=N)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a score prior", description=__doc__)
    p.add_argument("config", help="a content name (speech, piano, music, joint, smoke) or a prior YAML")
    p.add_argument("overrides", nargs="*", help="OmegaConf dotlist, e.g. trainer.max_steps=1000 size=base")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dps.prior.config import load_prior_config, to_yaml

    config = load_prior_config(args.config, args.overrides)
    if args.dry_run:
        print(to_yaml(config), end="")
        return 0
    from dps.prior.training import train

    train(config)
    return 0
