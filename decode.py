"""Decode a .dps bitstream, or encode-then-decode an audio file: the main job's entry point.

python decode.py [INPUT] [--bitrate 16] [--decoder legacy] [--output OUT.wav] [--seed N]
With no INPUT it decodes the shipped example clip and prints its quality figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

from dps.audio import check_output, load_audio, save_audio
from dps.cli_common import one_line_errors
from dps.codec import check_bitrate, decode_legacy, encode, load_codec_params, parse
from dps.eval.metrics import snr_db

DECODERS = ("legacy",)


def example_clip() -> Path:
    return Path(str(resources.files("dps") / "assets" / "example_speech.flac"))


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=None, help=".dps stream or audio file (default: shipped clip)")
    ap.add_argument("--bitrate", default="16", help="kb/s in [8, 48] when INPUT is audio (default 16)")
    ap.add_argument("--decoder", default="legacy", choices=DECODERS)
    ap.add_argument("--output", default=None, help="output audio (default: INPUT-stem.DECODER.wav here)")
    ap.add_argument("--codec-config", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="overwrite an existing output")
    ap.add_argument("--no-metrics", action="store_true", help="skip ViSQOL when a reference is known")
    args = ap.parse_args(argv)
    inp = Path(args.input) if args.input else example_clip()
    out = Path(args.output) if args.output else Path(f"{inp.stem}.{args.decoder}.wav")
    check_output(out, [inp], args.force or args.input is None)
    t0 = time.perf_counter()
    reference = None
    if inp.suffix == ".dps":
        if not inp.is_file():
            raise FileNotFoundError(f"{inp}: no such file")
        data = inp.read_bytes()
    else:
        kbps = check_bitrate(args.bitrate)
        params = load_codec_params(args.codec_config)
        reference = load_audio(inp, params.sample_rate, quiet=False).audio
        data = encode(reference, kbps, params)
    m = parse(data)
    decoded = decode_legacy(m, seed=args.seed)
    save_audio(out, decoded, m.sample_rate)
    wall = time.perf_counter() - t0
    rate = len(data) * 8 / m.duration_s / 1000
    print(f"{out}: {m.duration_s:.2f} s decoded by {args.decoder} from {rate:.2f} kb/s in {wall:.2f} s")
    if reference is not None:
        line = f"SNR {snr_db(reference, decoded):.2f} dB"
        if not args.no_metrics:
            from dps.eval.visqol import Visqol

            line += f", ViSQOL audio {Visqol('audio')(reference, np.asarray(decoded), m.sample_rate):.3f}"
        print(f"{args.decoder}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
