"""Train a score prior: `python train.py CONFIG [key=value ...] [--dry-run]` is `dps train`."""

import sys

from dps.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
