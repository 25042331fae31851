"""Where the ViSQOL headroom over the legacy decoder lies: oracle decodings that restore one part of the truth.

Each oracle keeps the legacy decoding and replaces one set of MDCT coefficients by information from the
reference: the coded bins (what a better dequantizer inside the intervals could reach), the uncoded bins
(what a perfect prior could reach), or only the uncoded bins' per-frame band energy or magnitudes. The gap
between legacy and each oracle bounds what a decoder that recovers that information can gain.

python bench/headroom.py [--content speech,piano,music] [--bitrates 8,16,32] [--n-items 6] [--offset 0]
    [--eval-set validation|cross|tuning] [--out bench/results/headroom.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from dps.codec.encoder import analyze, encode_payload
from dps.codec.measurements import measurements_from_payload
from dps.dsp.mdct import imdct
from dps.eval.items import eval_set_manifest, items_from
from dps.eval.oracles import ORACLES, oracle_coefficients
from dps.eval.scoring import score_pairs
from dps.paths import DATA_ROOT, EVAL_SETS

METRIC = "visqol_audio_48k"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", default="speech,piano,music")
    ap.add_argument("--bitrates", default="8,16,32")
    ap.add_argument("--n-items", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--offset", type=float, default=0.0, help="item pick offset (0 = the result tables' items)")
    ap.add_argument("--data-root", type=Path, default=DATA_ROOT)
    ap.add_argument("--eval-set", default="validation", choices=list(EVAL_SETS))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/results/headroom.json"))
    args = ap.parse_args()
    rates = [float(b) for b in args.bitrates.split(",")]
    t0 = time.perf_counter()
    cells = []
    for content in args.content.split(","):
        manifest = eval_set_manifest(args.data_root, args.eval_set, content)
        items = items_from(manifest, content, args.n_items, args.seconds, offset=args.offset)
        for kbps in rates:
            pairs, uncoded = [], []
            for it in items:
                m = measurements_from_payload(encode_payload(it.audio, kbps))
                uncoded.append(float((~m.coded).mean()))
                for c in oracle_coefficients(m, analyze(it.audio, m.params)).values():
                    pairs.append((it.audio, imdct(torch.from_numpy(c), m.num_samples).numpy()))
            scores = [s[METRIC] for s in score_pairs(pairs, items[0].sample_rate, ["audio"], args.workers)]
            per = np.array(scores, dtype=np.float64).reshape(len(items), len(ORACLES))
            cell = {"content": content, "eval_set": args.eval_set, "bitrate": kbps, "items": [it.name for it in items]}
            cell["uncoded_fraction"] = float(np.mean(uncoded))
            cell.update({o: float(per[:, j].mean()) for j, o in enumerate(ORACLES)})
            cell["per_item"] = {o: per[:, j].tolist() for j, o in enumerate(ORACLES)}
            cells.append(cell)
            print(f"{content} {kbps:g} kb/s: " + " ".join(f"{o} {cell[o]:.3f}" for o in ORACLES), flush=True)
    print(f"\n{METRIC}, mean over items; columns restore one part of the reference in the legacy decoding\n")
    print("| content | kb/s | uncoded bins | " + " | ".join(ORACLES) + " |")
    print("|---" * (len(ORACLES) + 3) + "|")
    for c in cells:
        vals = " | ".join(f"{c[o]:.3f}" for o in ORACLES)
        print(f"| {c['content']} | {c['bitrate']:g} | {100 * c['uncoded_fraction']:.0f} % | {vals} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"metric": METRIC, "wall_s": round(time.perf_counter() - t0, 1), "cells": cells}, indent=2)
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
