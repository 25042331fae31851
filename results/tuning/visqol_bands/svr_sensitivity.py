"""How much does ViSQOL's audio-mode SVR move per band? MOS-LQO change for +0.01 NSIM in one band at a time, at
each file's legacy fvnsim (from visqol_bands.py), and the per-band NSIM changes of DPS weighted by it.

python results/tuning/visqol_bands/svr_sensitivity.py results/tuning/visqol_bands/{music,speech}.json
"""

from __future__ import annotations

import json
import sys

import numpy as np
from visqol.api import _DEFAULT_SVR_MODEL
from visqol.quality_mapper import SvrSimilarityToQualityMapper


def main() -> None:
    svr = SvrSimilarityToQualityMapper(_DEFAULT_SVR_MODEL)
    svr.init()
    h = 0.01
    for path in sys.argv[1:]:
        d = json.load(open(path))
        leg, dps = np.array(d["fvnsim"]["legacy"]), np.array(d["fvnsim"]["dps"])
        sens = np.zeros_like(leg)
        for i, f in enumerate(leg):
            base = svr.predict_quality(f)
            for b in range(f.size):
                g = f.copy()
                g[b] = min(g[b] + h, 1.0)
                sens[i, b] = (svr.predict_quality(g) - base) / h
        contrib = sens * (dps - leg)
        full = np.mean([svr.predict_quality(x) - svr.predict_quality(y) for x, y in zip(dps, leg, strict=True)])
        print(f"{d['content']}: MOS per unit NSIM by band (mean over files), and DPS's NSIM change x that")
        print(f"  linear sum {contrib.sum(1).mean():+.3f}, SVR on DPS's fvnsim {full:+.3f}")
        for b, c in enumerate(d["centre_hz"]):
            s, dc = sens[:, b].mean(), contrib[:, b].mean()
            print(f"  {b:>2} {c:>6.0f} Hz  dMOS/dNSIM {s:+7.2f}  DPS contribution {dc:+.4f}")


if __name__ == "__main__":
    main()
