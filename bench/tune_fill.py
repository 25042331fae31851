"""Tune the legacy decoder's noise-fill factor for ViSQOL on validation audio (run once, then frozen).

python bench/tune_fill.py FILE... [--fills 0.25,0.35,0.5,0.7,1.0] [--bitrates 8,16,24] [--out JSON]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dps.audio import load_audio
from dps.codec import decode_legacy, encode, parse
from dps.eval import Visqol


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--fills", default="0.25,0.35,0.5,0.7,1.0")
    ap.add_argument("--bitrates", default="8,16,24")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--out", default="bench/results/tune_fill.json")
    args = ap.parse_args()
    fills = [float(f) for f in args.fills.split(",")]
    rates = [float(b) for b in args.bitrates.split(",")]
    vis = Visqol("audio")
    scores = {f: {r: [] for r in rates} for f in fills}
    for path in args.files:
        x = load_audio(path).audio[: int(args.seconds * 22050)]
        for r in rates:
            m = parse(encode(x, r))
            for f in fills:
                scores[f][r].append(vis(x, decode_legacy(m, fill_factor=f), 22050))
    print("| fill | " + " | ".join(f"{r:g} kb/s" for r in rates) + " | mean |")
    print("|---" * (len(rates) + 2) + "|")
    rows = {}
    for f in fills:
        means = [float(np.mean(scores[f][r])) for r in rates]
        rows[f] = {"per_bitrate": dict(zip(map(str, rates), means)), "mean": float(np.mean(means))}
        print(f"| {f:g} | " + " | ".join(f"{m:.3f}" for m in means) + f" | {np.mean(means):.3f} |")
    best = max(rows, key=lambda f: rows[f]["mean"])
    print(f"best fill factor: {best:g}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"files": args.files, "rows": rows, "best": best}, indent=2))


if __name__ == "__main__":
    main()
