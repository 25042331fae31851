"""Where in frequency does DPS beat legacy? Hybrids that keep DPS's MDCT bins below F Hz and legacy's above (and the
reverse), scored with ViSQOL on the tuning files; decodes come from the eval cache (same settings as the presets).

python results/tuning/band_hybrid/band_hybrid.py --content music --data-root ~/.cache/dps/data --out OUT.json
"""

from __future__ import annotations

import json

import numpy as np
import torch

from dps.dsp.mdct import imdct, mdct
from dps.eval.__main__ import DEFAULT_CACHE
from dps.eval.table import tuning_decodes, tuning_parser, variant_gains

CUTS_HZ = [1000, 2000, 3000, 4000, 6000, 8000]


def hybrid(low: np.ndarray, high: np.ndarray, cut_hz: float, sr: int = 22050, hop: int = 256) -> np.ndarray:
    """MDCT bins of `low` below cut_hz and of `high` above it (bin k centred at (k + 1/2) sr / (2 hop))."""
    a, b = mdct(torch.from_numpy(low), hop), mdct(torch.from_numpy(high), hop)
    k = int(round(cut_hz * 2 * hop / sr))
    a[..., k:] = b[..., k:]
    return imdct(a, low.size).numpy()


def main() -> None:
    ap = tuning_parser(__doc__)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    items, runner = tuning_decodes(args.data_root, args.content, cache=DEFAULT_CACHE, workers=args.workers)
    label = f"dps-noisy[{args.content}]"
    variants = {"legacy": lambda d, g: g, "dps": lambda d, g: d}
    for f in CUTS_HZ:
        variants[f"dps<{f}"] = lambda d, g, f=f: hybrid(d, g, f)
        variants[f"legacy<{f}"] = lambda d, g, f=f: hybrid(g, d, f)
    pairs, keys = [], []
    for it in items:
        d, g = runner.audio[(it.name, 16.0, label)], runner.audio[(it.name, 16.0, "legacy")]
        for name, fn in variants.items():
            pairs.append((it.audio, fn(d, g)))
            keys.append((it.name, name))
    table, rows = variant_gains(items, pairs, keys, "legacy", args.workers)
    print(f"{args.content}: {len(items)} tuning files, 16 kb/s, fast, matched prior")
    for name, row in rows.items():
        print(f"{name:<12} {row['mean']:+.3f} ± {row['sem']:.3f}  worst {row['min']:+.3f}")
    args.out.write_text(json.dumps({"content": args.content, "rows": rows, "scores": table}, indent=2))


if __name__ == "__main__":
    main()
