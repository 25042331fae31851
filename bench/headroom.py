"""Where the ViSQOL headroom over the legacy decoder lies: oracle decodings that restore one part of the truth.

Each oracle keeps the legacy decoding and replaces one set of MDCT coefficients by information from the
reference: the coded bins (what a better dequantizer inside the intervals could reach), the uncoded bins
(what a perfect prior could reach), or only the uncoded bins' per-frame band energy or magnitudes. The gap
between legacy and each oracle bounds what a decoder that recovers that information can gain.

With `--source dps` the same parts come from a DPS decode (the matched shipped prior, `--preset`) instead of the
reference: an ablation of what in the posterior decode carries its gain (e.g. `uncoded_magnitude`, the decode's
uncoded magnitudes with random signs, keeps its spectral envelope and drops its fine structure), plus a `dps` column.

python bench/headroom.py [--content speech,piano,music] [--bitrates 8,16,32] [--n-items 6] [--offset 0]
    [--eval-set validation|cross|tuning] [--source reference|dps] [--preset fast] [--out bench/results/headroom.json]
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
from dps.sampler.decoder import DecodeSettings, PosteriorDecoder

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
    ap.add_argument("--source", default="reference", choices=["reference", "dps"], help="restored from")
    ap.add_argument("--preset", default="fast", help="decode preset with --source dps")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/results/headroom.json"))
    args = ap.parse_args()
    rates = [float(b) for b in args.bitrates.split(",")]
    columns = [*ORACLES, "dps"] if args.source == "dps" else ORACLES
    t0 = time.perf_counter()
    cells = []
    for content in args.content.split(","):
        manifest = eval_set_manifest(args.data_root, args.eval_set, content)
        items = items_from(manifest, content, args.n_items, args.seconds, offset=args.offset)
        decoder = _decoder(content, args.preset) if args.source == "dps" else None
        for kbps in rates:
            pairs, uncoded = [], []
            for it in items:
                m = measurements_from_payload(encode_payload(it.audio, kbps))
                uncoded.append(float((~m.coded).mean()))
                if decoder is None:
                    source = analyze(it.audio, m.params)
                else:
                    source = analyze(decoder.decode(m, seed=0)[0], m.params)
                parts = list(oracle_coefficients(m, source).values()) + ([source] if decoder is not None else [])
                for c in parts:
                    pairs.append((it.audio, imdct(torch.from_numpy(c), m.num_samples).numpy()))
            scores = [s[METRIC] for s in score_pairs(pairs, items[0].sample_rate, ["audio"], args.workers)]
            per = np.array(scores, dtype=np.float64).reshape(len(items), len(columns))
            cell = {"content": content, "eval_set": args.eval_set, "bitrate": kbps, "items": [it.name for it in items]}
            cell["source"] = args.source if decoder is None else f"dps ({content} prior, {args.preset})"
            cell["uncoded_fraction"] = float(np.mean(uncoded))
            cell.update({o: float(per[:, j].mean()) for j, o in enumerate(columns)})
            cell["per_item"] = {o: per[:, j].tolist() for j, o in enumerate(columns)}
            cells.append(cell)
            print(f"{content} {kbps:g} kb/s: " + " ".join(f"{o} {cell[o]:.3f}" for o in columns), flush=True)
    print(f"\n{METRIC}, mean over items; columns restore one part of the {args.source} in the legacy decoding\n")
    print("| content | kb/s | uncoded bins | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 3) + "|")
    for c in cells:
        vals = " | ".join(f"{c[o]:.3f}" for o in columns)
        print(f"| {c['content']} | {c['bitrate']:g} | {100 * c['uncoded_fraction']:.0f} % | {vals} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"metric": METRIC, "wall_s": round(time.perf_counter() - t0, 1), "cells": cells}, indent=2)
    )
    print(f"wrote {args.out}")


def _decoder(content: str, preset: str) -> PosteriorDecoder:
    """A posterior decoder with the content's shipped prior and the preset's settings."""
    from dps.api import load_prior

    return PosteriorDecoder(load_prior(content), DecodeSettings.from_preset(preset))


if __name__ == "__main__":
    main()
