"""dps encode: audio file -> .dps bitstream."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("encode", help="audio file -> .dps bitstream", description=__doc__)
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--bitrate", default="16", help="target kb/s in [8, 48] (default 16)")
    p.add_argument("--config", default=None, help="codec YAML (default: configs/codec.yaml's values)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dps.audio import check_output, load_audio, write_bytes_atomic
    from dps.codec import check_bitrate, encode, load_codec_params

    inp, out = Path(args.input), Path(args.output)
    check_output(out, [inp], args.force)
    t0 = time.perf_counter()
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
    return 0
