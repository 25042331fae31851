"""How do legacy and DPS render each octave? Level (dB against the reference) and log-spectral distance per band of
an STFT, on the tuning files at 16 kb/s with the presets' decodes from the eval cache.

python results/tuning/hf_render/hf_render.py --content music --data-root ~/.cache/dps/data --out OUT.json
"""

from __future__ import annotations

import json

import numpy as np
import torch

from dps.eval.__main__ import DEFAULT_CACHE
from dps.eval.table import tuning_decodes, tuning_parser

BANDS_HZ = [
    (0, 2000),
    (2000, 4000),
    (4000, 6000),
    (6000, 8000),
    (8000, 11025),
    (8960, 10000),
    (10000, 10500),
    (10500, 11025),
]
SR, NFFT = 22050, 512


def band_db(x: np.ndarray) -> np.ndarray:
    """|STFT|^2 in dB, frames x bins (Hann 512, hop 128), floored 100 dB under the file's peak bin."""
    spec = torch.stft(torch.from_numpy(x).float(), NFFT, 128, window=torch.hann_window(NFFT), return_complex=True)
    p = spec.abs().pow(2).T.numpy() + 1e-20
    db = 10 * np.log10(p)
    return np.maximum(db, db.max() - 100)


def main() -> None:
    ap = tuning_parser(__doc__)
    args = ap.parse_args()
    items, runner = tuning_decodes(args.data_root, args.content, cache=DEFAULT_CACHE, workers=1)
    label = f"dps-noisy[{args.content}]"
    freqs = np.arange(NFFT // 2 + 1) * SR / NFFT
    rows: dict[str, dict[str, list[float]]] = {}
    for it in items:
        ref = band_db(it.audio)
        dec = {
            "legacy": band_db(runner.audio[(it.name, 16.0, "legacy")]),
            "dps": band_db(runner.audio[(it.name, 16.0, label)]),
        }
        for lo, hi in BANDS_HZ:
            m = (freqs >= lo) & (freqs < hi)
            ref_level = 10 * np.log10(np.mean(10 ** (ref[:, m] / 10)))
            for name, d in dec.items():
                level = 10 * np.log10(np.mean(10 ** (d[:, m] / 10))) - ref_level
                lsd = float(np.sqrt(np.mean((d[:, m] - ref[:, m]) ** 2)))
                r = rows.setdefault(f"{lo}-{hi} {name}", {"level_db": [], "lsd_db": []})
                r["level_db"].append(float(level))
                r["lsd_db"].append(lsd)
    print(f"{args.content}: {len(items)} tuning files, 16 kb/s; level = decoded - reference (dB), LSD in dB")
    print(f"{'band':<18}{'level median':>14}{'level IQR':>18}{'LSD mean':>10}")
    for k, r in rows.items():
        lv = np.array(r["level_db"])
        q1, q3 = np.percentile(lv, [25, 75])
        print(f"{k:<18}{np.median(lv):>+14.2f}{f'{q1:+.2f}..{q3:+.2f}':>18}{np.mean(r['lsd_db']):>10.2f}")
    args.out.write_text(
        json.dumps({"content": args.content, "items": [it.name for it in items], "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
