"""python -m dps encode|decode: the codec's command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dps.audio import check_output, load_audio, save_audio, write_bytes_atomic
from dps.cli_common import one_line_errors
from dps.codec import check_bitrate, decode_legacy, encode, load_codec_params, parse


def _read_stream(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path.read_bytes()


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dps", description="MDCT transform codec (.dps bitstreams)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    enc = sub.add_parser("encode", help="audio file -> .dps bitstream")
    enc.add_argument("input")
    enc.add_argument("output")
    enc.add_argument("--bitrate", default="16", help="target kb/s in [8, 48] (default 16)")
    enc.add_argument("--config", default=None, help="codec YAML (default: built-in, same as configs/codec.yaml)")
    enc.add_argument("--force", action="store_true", help="overwrite an existing output")
    dec = sub.add_parser("decode", help=".dps bitstream -> audio file (legacy decoder)")
    dec.add_argument("input")
    dec.add_argument("output")
    dec.add_argument("--fill", type=float, default=None, help="noise-fill factor (default: tuned value)")
    dec.add_argument("--seed", type=int, default=0)
    dec.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    inp, out = Path(args.input), Path(args.output)
    check_output(out, [inp], args.force)
    t0 = time.perf_counter()
    if args.cmd == "encode":
        kbps = check_bitrate(args.bitrate)
        params = load_codec_params(args.config)
        loaded = load_audio(inp, params.sample_rate, quiet=False)
        data = encode(loaded.audio, kbps, params)
        write_bytes_atomic(out, data)
        dur = loaded.audio.size / params.sample_rate
        print(
            f"{out}: {len(data)} bytes, {len(data) * 8 / dur / 1000:.2f} kb/s for {dur:.2f} s "
            f"(target {kbps:g}), {time.perf_counter() - t0:.2f} s"
        )
    else:
        m = parse(_read_stream(inp))
        y = decode_legacy(m, fill_factor=args.fill, seed=args.seed)
        save_audio(out, y, m.sample_rate)
        print(f"{out}: {m.duration_s:.2f} s at {m.sample_rate} Hz (legacy), {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
