"""Legacy vs DPS ViSQOL on a few validation items: the first end-to-end number (the full table is issue 6).

python bench/quick_eval.py FILE... [--prior speech] [--bitrates 8,16,24,32,48] [--seconds 4]
                                   [--conditionings noisy_mean,tweedie] [--out bench/results/quick_eval.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dps.audio import load_audio
from dps.codec import decode_legacy, encode, parse
from dps.eval import Visqol
from dps.prior.export import load_prior
from dps.prior.registry import resolve_prior
from dps.sampler import DecodeSettings, PosteriorDecoder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--prior", default="speech")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--bitrates", default="8,16,24,32,48")
    ap.add_argument("--conditionings", default="noisy_mean")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--out", default="bench/results/quick_eval.json")
    args = ap.parse_args()
    vis = Visqol("audio")
    prior = load_prior(resolve_prior(args.prior))
    conds = args.conditionings.split(",")
    decoders = {c: PosteriorDecoder(prior, DecodeSettings.from_preset(args.preset, conditioning=c)) for c in conds}
    items = {Path(f).stem: load_audio(f).audio[: int(args.seconds * 22050)] for f in args.files}
    table = {}
    for kb in [float(b) for b in args.bitrates.split(",")]:
        scores = {"legacy": []} | {f"dps-{c}": [] for c in conds}
        for x in items.values():
            m = parse(encode(x, kb))
            scores["legacy"].append(vis(x, decode_legacy(m), 22050))
            for c, dec in decoders.items():
                scores[f"dps-{c}"].append(vis(x, dec.decode(m)[0], 22050))
        table[kb] = {k: float(np.mean(v)) for k, v in scores.items()} | {"items": {k: v for k, v in scores.items()}}
        print(f"{kb:g} kb/s: " + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in scores.items()), flush=True)
    cols = ["legacy"] + [f"dps-{c}" for c in conds]
    print("\n| kb/s | " + " | ".join(cols) + " | DPS - legacy |")
    print("|---" * (len(cols) + 2) + "|")
    for kb, row in table.items():
        best = max(row[c] for c in cols[1:])
        print(f"| {kb:g} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + f" | {best - row['legacy']:+.3f} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "files": args.files,
                "prior": args.prior,
                "preset": args.preset,
                "table": {str(k): v for k, v in table.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
