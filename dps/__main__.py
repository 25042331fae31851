"""python -m dps: the same as the `dps` command."""

import sys

from dps.cli import main

if __name__ == "__main__":
    sys.exit(main())
