"""One process, interleaved: session 22's code (c3c542c, as package dps_old under /tmp/s23/oldpkg; run.sh) against
this tree's with network_freeze, `paper` settings (compiled bfloat16 network and conditioning, one chunk) on 4 s of
speech with speech_lite, LEVELS levels x 3 steps. Usage: python ab_step.py LEVELS ROUNDS [OUT.json]"""

import json
import statistics
import sys
import time
import warnings

import numpy as np
import soundfile as sf

from dps.codec import encode, parse

sys.path.insert(0, "/tmp/s23/oldpkg")  # dps_old
warnings.filterwarnings("ignore")
levels, rounds = int(sys.argv[1]), int(sys.argv[2])
x, _ = sf.read("tests/fixtures/speech.flac", dtype="float64")
m = parse(encode(x[: 4 * 22050], 16))
over = dict(levels=levels, network_compile=True, network_precision="bfloat16", conditioning_compile=True)
decs = {}
for name, pkg in (("old", "dps_old"), ("new", "dps")):
    exp = __import__(f"{pkg}.prior.export", fromlist=["load_prior"])
    samp = __import__(f"{pkg}.sampler", fromlist=["DecodeSettings", "PosteriorDecoder"])
    prior = exp.load_prior("dps/assets/priors/speech_lite.safetensors")
    kw = dict(over, network_freeze=True) if name == "new" else over
    decs[name] = samp.PosteriorDecoder(prior, samp.DecodeSettings.from_preset("configs/decode/paper.yaml", **kw))
    decs[name].decode(m)  # compiles
ms = {k: [] for k in decs}
outs = {}
for _ in range(rounds):
    for k, d in decs.items():
        t0 = time.perf_counter()
        outs[k], st = d.decode(m)
        ms[k].append(1000 * (time.perf_counter() - t0) / st["steps"])
ratios = [b / a for a, b in zip(ms["old"], ms["new"])]
for k, v in ms.items():
    rate = statistics.median(v)
    rounds_ms = ", ".join(f"{t:.1f}" for t in v)
    print(f"{k}: ms/step median {rate:.2f} ({rounds_ms}), paper RTF at that rate {rate * 1501 / 4000:.2f}")
print(f"new / old per round: median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}")
rel = float(np.sqrt(np.mean((outs["new"] - outs["old"]) ** 2) / np.mean(outs["old"] ** 2)))
print(f"relative RMS difference of the two decodes: {rel:.2e}")
if len(sys.argv) > 3:
    out = {"levels": levels, "ms_per_step": ms, "ratio_per_round": ratios, "relative_rms_difference": rel}
    with open(sys.argv[3], "w") as f:
        json.dump(out, f, indent=1)
