"""Codec benchmark: speed (x real time, one core), bitrate error, side-information share, coded fraction.

python bench/codec.py [--out bench/results/codec.json]   (uses the test fixtures; ~1 minute)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from dps.codec import decode_legacy, encode, parse  # noqa: E402
from dps.codec.bitstream import bit_budget  # noqa: E402
from dps.eval.metrics import snr_db  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BITRATES = (8, 16, 24, 32, 48)
CONTENT = ("speech", "piano", "music")


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "codec.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    items = {n: sf.read(ROOT / "tests" / "fixtures" / f"{n}.flac", dtype="float64")[0] for n in CONTENT}
    rows = []
    for kbps in BITRATES:
        enc_x, dec_x, errs, side, coded, snrs = [], [], [], [], [], []
        for x in items.values():
            dur = x.size / 22050
            data = encode(x, kbps)
            enc_x.append(dur / best_of(lambda x=x, kbps=kbps: encode(x, kbps)))
            dec_x.append(dur / best_of(lambda data=data: decode_legacy(parse(data))))
            errs.append(100.0 * (len(data) * 8 / dur / 1000 / kbps - 1))
            side.append(100.0 * bit_budget(data)["side_share"])
            m = parse(data)
            coded.append(100.0 * (m.q != 0).mean())
            snrs.append(snr_db(x, decode_legacy(m)))
        rows.append(
            {
                "kbps": kbps,
                "encode_x_realtime": float(np.min(enc_x)),
                "decode_x_realtime": float(np.min(dec_x)),
                "bitrate_error_pct": [round(e, 2) for e in errs],
                "max_abs_error_pct": float(np.max(np.abs(errs))),
                "side_info_pct": float(np.max(side)),
                "nonzero_coef_pct": float(np.mean(coded)),
                "legacy_snr_db": float(np.mean(snrs)),
            }
        )
    print(
        "| kb/s | encode (x RT, 1 core, slowest item) | legacy decode (x RT) | bitrate error % "
        "(speech/piano/music) | side info % (max) | nonzero coefficients % | legacy SNR dB |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['kbps']} | {r['encode_x_realtime']:.0f} | {r['decode_x_realtime']:.0f} | "
            f"{' / '.join(f'{e:+.2f}' for e in r['bitrate_error_pct'])} | {r['side_info_pct']:.1f} | "
            f"{r['nonzero_coef_pct']:.1f} | {r['legacy_snr_db']:.2f} |"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "torch_threads": 1,
        "items": {n: x.size / 22050 for n, x in items.items()},
    }
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
