"""Decode a .dps bitstream, or encode-then-decode audio: `python decode.py [INPUT] ...` is `dps decode`.

With no INPUT it decodes the shipped example clip with the shipped speech prior and prints legacy vs DPS ViSQOL.
"""

import sys

from dps.cli import main

if __name__ == "__main__":
    sys.exit(main(["decode", *sys.argv[1:]]))
