"""Gain over legacy of each run's checkpoint on the 18 music tuning files, paired against the shipped music prior
(its per-file scores from results/tuning/visqol_bands/music.json, the same `fast` decodes).

python results/tuning/music_hf_weighted/paired.py TAG [TAG ...]   (reads tune_TAG_6.json and tune_TAG_12.json here)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    vb = json.loads((HERE.parent / "visqol_bands" / "music.json").read_text())
    shipped = {it: d - g for it, d, g in zip(vb["items"], vb["moslqo"]["dps"], vb["moslqo"]["legacy"], strict=True)}
    for tag in sys.argv[1:]:
        gain, base = [], []
        for n in (6, 12):
            d = json.loads((HERE / f"tune_{tag}_{n}.json").read_text())
            for it, leg, v in zip(d["items"], d["legacy"], d["results"][0]["per_item"], strict=True):
                gain.append(v - leg)
                base.append(shipped[it])
        g, b = np.array(gain), np.array(base)
        diff = g - b
        sem = diff.std(ddof=1) / np.sqrt(diff.size)
        print(
            f"{tag}: 6 files {g[:6].mean():+.3f}, 12 files {g[6:].mean():+.3f}, 18 files {g.mean():+.3f} "
            f"(shipped {b.mean():+.3f}); paired {diff.mean():+.3f} ± {sem:.3f}, better on {(diff > 0).sum()}/18, "
            f"worst file {g.min():+.3f}"
        )


if __name__ == "__main__":
    main()
