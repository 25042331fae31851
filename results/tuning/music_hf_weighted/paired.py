"""Gain over legacy of each run's checkpoint on the 18 music tuning files, paired against the music prior shipped
until session 19 (its per-file scores from results/tuning/visqol_bands/music.json, the same `fast` decodes), or with
--against BASE against tune_BASE_{6,12}.json (e.g. shipped_fp16, the prior shipped since session 19).

python results/tuning/music_hf_weighted/paired.py [--dir DIR] [--against BASE] TAG [TAG ...]
(reads tune_TAG_{6,12}.json here, or in DIR: results/tuning/speech_p8 pairs speech runs the same way)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def gains(tag: str, where: Path = HERE) -> dict[str, float]:
    """Per-file DPS - legacy from tune_TAG_6.json and tune_TAG_12.json."""
    out = {}
    for n in (6, 12):
        d = json.loads((where / f"tune_{tag}_{n}.json").read_text())
        for it, leg, v in zip(d["items"], d["legacy"], d["results"][0]["per_item"], strict=True):
            out[it] = v - leg
    return out


def main() -> None:
    tags = sys.argv[1:]
    where = HERE
    if tags[:1] == ["--dir"]:
        where, tags = Path(tags[1]), tags[2:]
    if tags[:1] == ["--against"]:
        shipped, tags = gains(tags[1], where), tags[2:]
    else:
        vb = json.loads((HERE.parent / "visqol_bands" / "music.json").read_text())
        shipped = {it: d - g for it, d, g in zip(vb["items"], vb["moslqo"]["dps"], vb["moslqo"]["legacy"], strict=True)}
    for tag in tags:
        g_tag = gains(tag, where)
        gain = list(g_tag.values())
        base = [shipped[it] for it in g_tag]
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
