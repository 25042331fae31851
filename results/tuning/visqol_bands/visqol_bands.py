"""Where does ViSQOL see the gain? Its per-band similarity (fvnsim: mean NSIM per gammatone band, the SVR's only
features in audio mode) for legacy and DPS on the tuning files at 16 kb/s, decodes from the eval cache.

python results/tuning/visqol_bands/visqol_bands.py --content music --data-root ~/.cache/dps/data --out OUT.json
"""

from __future__ import annotations

import json

import numpy as np

from dps.eval.__main__ import DEFAULT_CACHE
from dps.eval.table import tuning_decodes, tuning_parser
from dps.eval.visqol import Visqol


def main() -> None:
    ap = tuning_parser(__doc__)
    args = ap.parse_args()
    items, runner = tuning_decodes(args.data_root, args.content, cache=DEFAULT_CACHE, workers=1)
    visqol = Visqol("audio")
    fv: dict[str, list[list[float]]] = {"legacy": [], "dps": []}
    mos: dict[str, list[float]] = {"legacy": [], "dps": []}
    centres: list[float] = []
    for it in items:
        for name, key in (("legacy", "legacy"), ("dps", f"dps-noisy[{args.content}]")):
            r = visqol.measure(it.audio, runner.audio[(it.name, 16.0, key)], it.sample_rate)
            fv[name].append(np.asarray(r.fvnsim, dtype=float).tolist())
            mos[name].append(float(r.moslqo))
            centres = np.asarray(r.center_freq_bands, dtype=float).tolist()
    leg, dps = np.array(fv["legacy"]), np.array(fv["dps"])
    gain = float(np.mean(np.array(mos["dps"]) - np.array(mos["legacy"])))
    print(f"{args.content}: {len(items)} tuning files, 16 kb/s, fast; MOS-LQO gain {gain:+.3f}")
    print(f"{'band':>4} {'centre Hz':>9} {'legacy NSIM':>12} {'DPS - legacy':>13} {'files better':>13}")
    for b, f in enumerate(centres):
        d = dps[:, b] - leg[:, b]
        print(f"{b:>4} {f:>9.0f} {leg[:, b].mean():>12.3f} {d.mean():>+13.4f} {int((d > 0).sum()):>10}/{d.size}")
    args.out.write_text(
        json.dumps(
            {
                "content": args.content,
                "items": [it.name for it in items],
                "centre_hz": centres,
                "fvnsim": fv,
                "moslqo": mos,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
