"""Does ViSQOL reward a quieter rendering of the uncoded bins? The presets' decodes (eval cache) with every MDCT bin
that quantized to zero scaled by a gain, legacy and DPS alike, scored on the tuning files at 16 kb/s.

python results/tuning/uncoded_gain/uncoded_gain.py --content music --data-root ~/.cache/dps/data --out OUT.json
"""

from __future__ import annotations

import json

import numpy as np
import torch

from dps.codec.encoder import encode_payload
from dps.codec.measurements import measurements_from_payload
from dps.dsp.mdct import imdct, mdct
from dps.eval.__main__ import DEFAULT_CACHE
from dps.eval.table import tuning_decodes, tuning_parser, variant_gains

GAINS = [1.0, 0.85, 0.7, 0.5, 1.15, 1.3]


def scaled(c: np.ndarray, uncoded: np.ndarray, gain: float, num_samples: int, min_bin: int = 0) -> np.ndarray:
    """The waveform of MDCT coefficients c with their uncoded bins (at or above min_bin) multiplied by gain."""
    sel = uncoded.copy()
    sel[:, :min_bin] = False
    return imdct(torch.from_numpy(np.where(sel, c * gain, c)), num_samples).numpy()


def main() -> None:
    ap = tuning_parser(__doc__)
    ap.add_argument("--min-hz", type=float, default=0.0, help="scale only uncoded bins above this frequency")
    args = ap.parse_args()
    items, runner = tuning_decodes(args.data_root, args.content, cache=DEFAULT_CACHE, workers=1)
    label = f"dps-noisy[{args.content}]"
    pairs, keys = [], []
    for it in items:
        m = measurements_from_payload(encode_payload(it.audio, 16.0))
        hop = m.params.hop
        min_bin = int(round(args.min_hz * 2 * hop / it.sample_rate))
        for dec, key in (("legacy", "legacy"), ("dps", label)):
            audio = runner.audio[(it.name, 16.0, key)]
            c = mdct(torch.from_numpy(audio), hop).numpy()
            for g in GAINS:
                pairs.append((it.audio, scaled(c, ~m.coded, g, audio.size, min_bin)))
                keys.append((it.name, f"{dec} x{g:g}"))
    table, rows = variant_gains(items, pairs, keys, "legacy x1")
    print(f"{args.content}: {len(items)} tuning files, 16 kb/s, fast, uncoded bins above {args.min_hz:g} Hz scaled")
    for name, row in rows.items():
        print(f"{name:<12} {row['mean']:+.3f} ± {row['sem']:.3f}  worst {row['min']:+.3f}")
    args.out.write_text(
        json.dumps({"content": args.content, "min_hz": args.min_hz, "rows": rows, "scores": table}, indent=2)
    )


if __name__ == "__main__":
    main()
