"""FLAC excerpts of a corpus (K per training track, 1 per validation track) small enough for a 64 MiB transfer.

Usage: python make_excerpts.py SRC_MANIFEST OUT_DIR K SECONDS N_VAL VAL_SECONDS
(the GPU music runs: DATA/music/manifest.jsonl .gpu/music 2 4.6 20 3; the continuation used 4.4 s)
"""

import sys
from pathlib import Path

import soundfile as sf

from dps.data.build import sha256_of
from dps.data.manifest import Entry, read_manifest, write_manifest

src, out = Path(sys.argv[1]), Path(sys.argv[2])
k_train, seconds, n_val, val_seconds = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
entries = read_manifest(src)
val = [e for e in entries if e.split == "validation"]
val = val[:: max(1, len(val) // n_val)][:n_val]
written = []
for e in [e for e in entries if e.split == "train"] + val:
    n = sf.info(str(src.parent / e.file)).frames
    seg = int((seconds if e.split == "train" else val_seconds) * e.sample_rate)
    k = k_train if e.split == "train" else 1
    for i in range(k):
        start = int((i + 1) * (n - seg) / (k + 1))  # evenly inside the track, away from its ends
        if start < 0:
            continue
        x, _ = sf.read(str(src.parent / e.file), start=start, frames=seg, dtype="int16")
        rel = f"audio/{e.split}/{Path(e.file).stem}_{i}.flac"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(out / rel), x, e.sample_rate, format="FLAC", subtype="PCM_16")
        dur = round(len(x) / e.sample_rate, 4)
        written.append(Entry(rel, e.source, e.track, e.split, dur, e.sample_rate, e.loudness_db, sha256_of(out / rel)))
write_manifest(out / "manifest.jsonl", written)
for s in ("train", "validation"):
    mins = sum(e.duration for e in written if e.split == s) / 60
    print(s, len([e for e in written if e.split == s]), f"{mins:.1f} min")
