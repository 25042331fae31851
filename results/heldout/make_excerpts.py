"""Held-out excerpts for a content whose validation split has too few files (piano: 7, all used for tuning).

Usage: python results/heldout/make_excerpts.py DATA CONTENT N  ->  DATA/CONTENT/heldout_excerpts/*.wav
Each validation file gives about N / files 4 s excerpts, evenly spaced, none overlapping the loudest 4 s (the one
excerpt every table and tuning item takes from a file) and none quieter than -40 dBFS RMS.
"""

import sys
from pathlib import Path

import numpy as np

from dps.audio import load_audio, save_audio
from dps.data.manifest import read_manifest, resolve
from dps.eval.items import loudest_start

SECONDS, RATE, MIN_DB = 4.0, 22050, -40.0

data, content, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
manifest = data / content / "manifest.jsonl"
entries = sorted((e for e in read_manifest(manifest) if e.split == "validation"), key=lambda e: (e.source, e.file))
out = data / content / "heldout_excerpts"
out.mkdir(parents=True, exist_ok=True)
length = int(SECONDS * RATE)
per_file = -(-n // len(entries))
written = 0
for e in entries:
    x = load_audio(resolve(manifest, e), RATE).audio
    energy = np.concatenate([[0.0], np.cumsum(x**2)])
    loud = loudest_start(x, length)  # the excerpt the table and tuning items take from this file
    starts = [s for s in np.linspace(0, x.size - length, 4 * per_file).astype(int) if abs(s - loud) >= length]
    starts = [s for s in starts if 10 * np.log10((energy[s + length] - energy[s]) / length + 1e-20) >= MIN_DB]
    picks = np.linspace(0, len(starts) - 1, min(per_file, len(starts))).astype(int) if starts else []
    for s in [starts[i] for i in picks]:
        if written == n:
            break
        name = f"{Path(e.file).parent.name}_{Path(e.file).stem}_{s / RATE:07.2f}s.wav"
        save_audio(out / name, x[s : s + length], RATE)
        written += 1
print(f"{content}: {written} excerpts of {SECONDS:g} s from {len(entries)} validation files -> {out}")
