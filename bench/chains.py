"""How K posterior chains are best combined: one decode with K chains, its combinations scored against legacy.

Each item is encoded once and decoded once with `--chains` K chains in one network batch (the `--preset`, `samples`
set to K); the combinations of its first k chains are then scored (ViSQOL audio) without decoding again:
`power{k}` (`sample_average: power`: in the uncoded bins sqrt(mean_k X_k^2) with the first chain's signs, the
coded bins' mean; k = 1 is one chain alone), `waveform{K}` (the chains' mean), `q1_{K}` and `q3_{K}` (the power
mean with exponent 1 or 3 instead of 2), `power{K}_freq3` and `power{K}_time3` (the power smoothed over 3 uncoded
bins or frames). Gains are over legacy, paired per item, with the gain over one chain.

python bench/chains.py [--content speech,piano,music] [--eval-set tuning] [--items CONTENT=PATH] [--n-items 16]
    [--seconds 8] [--bitrate 16] [--chains 8] [--preset fast] [--out bench/results/chains.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import convolve1d

from dps.codec import decode_legacy, encode, parse
from dps.codec.measurements import Measurements
from dps.dsp.mdct import imdct, mdct
from dps.eval.items import eval_set_manifest, items_from
from dps.eval.scoring import score_pairs
from dps.eval.table import ci95
from dps.paths import DATA_ROOT, EVAL_SETS
from dps.prior.export import load_prior
from dps.prior.registry import resolve_prior
from dps.sampler.combine import combine_chains
from dps.sampler.decoder import DecodeSettings, PosteriorDecoder

METRIC = "visqol_audio_48k"


def q_mean(chains: np.ndarray, m: Measurements, q: float = 2.0, smooth_axis: int | None = None) -> np.ndarray:
    """The power average of `combine_chains` with |X| = (mean_k |X_k|^q)^(1/q) in the uncoded bins, optionally
    smoothed over 3 uncoded neighbours along frames (axis 0) or bins (axis 1) before the root."""
    coeffs = mdct(torch.from_numpy(chains), m.params.hop).numpy()
    uncoded = ~m.coded
    level = (np.abs(coeffs) ** q).mean(0)
    if smooth_axis is not None:
        num = convolve1d(level * uncoded, np.ones(3), axis=smooth_axis, mode="constant")
        den = convolve1d(uncoded.astype(np.float64), np.ones(3), axis=smooth_axis, mode="constant")
        level = np.where(uncoded, num / np.maximum(den, 1e-12), level)
    sign = np.where(coeffs[0] < 0, -1.0, 1.0)
    out = np.where(m.coded, coeffs.mean(0), sign * level ** (1 / q))
    return imdct(torch.from_numpy(out), m.num_samples).numpy()


def combinations(chains: np.ndarray, m: Measurements) -> dict[str, np.ndarray]:
    """Every scored combination of (K, T) chains, by name."""
    k_max = chains.shape[0]
    out = {f"power{k}": combine_chains(chains[:k], m, "power") for k in (2**i for i in range(8)) if k <= k_max}
    out[f"waveform{k_max}"] = combine_chains(chains, m, "waveform")
    out[f"q1_{k_max}"] = q_mean(chains, m, 1.0)
    out[f"q3_{k_max}"] = q_mean(chains, m, 3.0)
    out[f"power{k_max}_freq3"] = q_mean(chains, m, 2.0, smooth_axis=1)
    out[f"power{k_max}_time3"] = q_mean(chains, m, 2.0, smooth_axis=0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", default="speech,piano,music")
    ap.add_argument("--eval-set", default="tuning", choices=list(EVAL_SETS))
    ap.add_argument("--items", action="append", default=[], help="CONTENT=PATH instead of the eval set's manifest")
    ap.add_argument("--data-root", type=Path, default=DATA_ROOT)
    ap.add_argument("--n-items", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--bitrate", type=float, default=16.0)
    ap.add_argument("--chains", type=int, default=8)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/results/chains.json"))
    args = ap.parse_args()
    if args.chains < 2:
        ap.error(f"--chains: expected at least 2, got {args.chains}")
    paths = dict(spec.split("=", 1) for spec in args.items)
    settings = DecodeSettings.from_preset(args.preset, samples=args.chains)
    t0 = time.perf_counter()
    cells = []
    for content in args.content.split(","):
        spec = paths.get(content) or eval_set_manifest(args.data_root, args.eval_set, content)
        items = items_from(spec, content, args.n_items, args.seconds)
        decoder = PosteriorDecoder(load_prior(resolve_prior(content)), settings)
        pairs, names = [], []
        for it in items:
            m = parse(encode(it.audio, args.bitrate))
            combos = {"legacy": decode_legacy(m, seed=0)} | combinations(decoder.decode_chains(m, seed=0)[0], m)
            names = list(combos)
            pairs += [(it.audio, x) for x in combos.values()]
        scores = [s[METRIC] for s in score_pairs(pairs, items[0].sample_rate, ["audio"], args.workers)]
        per = np.array(scores, dtype=np.float64).reshape(len(items), len(names))
        gains = per[:, 1:] - per[:, :1]
        cell = {"content": content, "items": [it.name for it in items], "bitrate": args.bitrate}
        cell |= {"preset": args.preset, "chains": args.chains, "legacy": float(per[:, 0].mean())}
        print(f"\n{content}, {len(items)} items, {args.bitrate:g} kb/s, {args.preset} x {args.chains} chains")
        print("| combination | gain over legacy | worst item | over one chain | items better |\n|---|---|---|---|---|")
        for j, name in enumerate(names[1:]):
            g, d = gains[:, j], gains[:, j] - gains[:, 0]
            (gm, gh), (dm, dh) = ci95(g.tolist()), ci95(d.tolist())
            cell[name] = {"gain": gm, "ci95": gh, "worst": float(g.min()), "over_one": dm, "over_one_ci95": dh}
            cell[name]["per_item"] = g.tolist()
            print(
                f"| {name} | {gm:+.4f} ± {gh:.4f} | {g.min():+.3f} | {dm:+.4f} ± {dh:.4f} | {(d > 0).sum()}/{len(d)} |"
            )
        cells.append(cell)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"cells": cells, "seconds": time.perf_counter() - t0}, indent=1))
    tmp.replace(args.out)
    print(f"\n{time.perf_counter() - t0:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
