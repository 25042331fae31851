"""Does a temporal envelope for the uncoded bins, estimated from the coded bins, raise legacy's ViSQOL? (session 12)

python results/tuning/temporal_shaping.py speech|music  (6 tuning files, 16 kb/s; one line per variant)
"""

import sys
from pathlib import Path

import numpy as np
import torch

from dps.codec.encoder import analyze, encode_payload
from dps.codec.measurements import measurements_from_payload
from dps.dsp.mdct import imdct
from dps.eval.items import items_from
from dps.eval.oracles import oracle_coefficients
from dps.eval.scoring import score_pairs

content = sys.argv[1]
kbps = 16.0
items = items_from(Path.home() / ".cache/dps/data" / content / "manifest.jsonl", content, 6, 4.0, offset=0.5)


def shaped(m, leg, gamma, hf_only):
    unc = ~m.coded
    F, N = leg.shape
    coded_e = np.where(m.coded, m.dequantized() ** 2, 0.0)
    if hf_only:  # coded energy above bin N // 8 (1.4 kHz) only: transients show there
        coded_e = coded_e * (np.arange(N)[None, :] >= N // 8)
    ef = coded_e.sum(1) + 1e-12  # (F,)
    g = m.group_of_frame
    out = leg.copy()
    B = m.params.num_bands
    for grp in np.unique(g):
        fr = np.where(g == grp)[0]
        w = ef[fr] ** gamma
        w = w / w.sum()
        for b in range(B):
            bins = m.band_of_bin == b
            cell = unc[np.ix_(fr, bins)]
            if not cell.any():
                continue
            vals = np.where(cell, leg[np.ix_(fr, bins)], 0.0)
            e_f = (vals**2).sum(1)
            tot = e_f.sum()
            if tot <= 0:
                continue
            target = tot * w
            gain = np.sqrt(target / np.maximum(e_f, 1e-30))
            out[np.ix_(fr, bins)] = np.where(cell, vals * gain[:, None], leg[np.ix_(fr, bins)])
    return out


pairs = []
names = []
variants = [
    ("legacy", None),
    ("oracle_frame", None),
    ("g0.5", (0.5, False)),
    ("g1", (1.0, False)),
    ("g0.5hf", (0.5, True)),
    ("g1hf", (1.0, True)),
]
for it in items:
    m = measurements_from_payload(encode_payload(it.audio, kbps))
    ref = analyze(it.audio, m.params)
    orc = oracle_coefficients(m, ref)
    leg = orc["legacy"]
    for name, v in variants:
        c = leg if name == "legacy" else orc["uncoded_frame_energy"] if name == "oracle_frame" else shaped(m, leg, *v)
        pairs.append((it.audio, imdct(torch.from_numpy(c), m.num_samples).numpy()))
scores = np.array([s["visqol_audio_48k"] for s in score_pairs(pairs, items[0].sample_rate, ["audio"], 1)]).reshape(
    len(items), len(variants)
)
for j, (name, _) in enumerate(variants):
    d = scores[:, j] - scores[:, 0]
    print(content, f"{name:14s} {scores[:, j].mean():.3f} {d.mean():+.3f} min {d.min():+.3f}")
