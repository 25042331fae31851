"""Share of each corpus file's energy above 8 kHz (and the highest frequency with energy within 60 dB of the peak
band), per content and split: does the training audio carry the top octave the decoders are scored on?

python results/tuning/hf_content/hf_content.py ~/.cache/dps/data > results/tuning/hf_content/hf_content.txt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf


def stats(path: Path, seconds: float = 60.0) -> tuple[float, float]:
    info = sf.info(str(path))
    start = max(0, int((info.frames - seconds * info.samplerate) // 2))
    x, sr = sf.read(str(path), start=start, frames=int(seconds * info.samplerate), dtype="float32", always_2d=True)
    x = x.mean(1)
    n = 2048
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[:: n // 2] * np.hanning(n)
    p = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(0)
    f = np.fft.rfftfreq(n, 1 / sr)
    share = p[f >= 8000].sum() / max(p.sum(), 1e-30)
    bands = np.array([p[(f >= lo) & (f < lo + 500)].mean() for lo in range(0, int(sr / 2) - 499, 500)])
    live = np.nonzero(bands > bands.max() * 1e-6)[0]
    return float(share), float((live.max() + 1) * 500 if live.size else 0)


def main() -> None:
    root = Path(sys.argv[1])
    print(
        "| content | split | files | median energy share above 8 kHz | files with < 0.1 % above 8 kHz "
        "| median top band (-60 dB) |"
    )
    print("|---|---|---|---|---|---|")
    for content in ("speech", "piano", "music"):
        entries = [json.loads(line) for line in (root / content / "manifest.jsonl").open()]
        for split in ("train", "validation"):
            es = [e for e in entries if e["split"] == split]
            es = es[:: max(1, len(es) // 40)]  # at most ~40 files per split, spread over the sorted manifest
            rows = [stats(root / content / e["file"]) for e in es]
            share = np.array([r[0] for r in rows])
            top = np.array([r[1] for r in rows])
            print(
                f"| {content} | {split} | {len(rows)} | {100 * np.median(share):.2f} % | "
                f"{int((share < 1e-3).sum())} | {np.median(top) / 1000:.1f} kHz |",
                flush=True,
            )


if __name__ == "__main__":
    main()
