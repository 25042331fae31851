"""One process, interleaved: HEAD's code (as dps_old) against the work tree's, `paper` settings (compiled bfloat16
network and conditioning, one chunk) on 4 s of speech with speech_lite, LEVELS levels x 3 steps.
Usage: python ab_step.py LEVELS ROUNDS [OUT.json]"""
import json, statistics, sys, time, warnings
sys.path.insert(0, "/tmp/s23/oldpkg")
import numpy as np, soundfile as sf
from dps.codec import encode, parse
warnings.filterwarnings("ignore")
levels, rounds = int(sys.argv[1]), int(sys.argv[2])
x, _ = sf.read("tests/fixtures/speech.flac", dtype="float64"); x = x[: 4 * 22050]
m = parse(encode(x, 16))
over = dict(levels=levels, network_compile=True, network_precision="bfloat16", conditioning_compile=True)
new_over = dict(over, network_freeze=True)
decs = {}
for name, pkg in (("old", "dps_old"), ("new", "dps")):
    exp = __import__(f"{pkg}.prior.export", fromlist=["load_prior"])
    samp = __import__(f"{pkg}.sampler", fromlist=["DecodeSettings", "PosteriorDecoder"])
    prior = exp.load_prior("dps/assets/priors/speech_lite.safetensors")
    decs[name] = samp.PosteriorDecoder(prior, samp.DecodeSettings.from_preset("configs/decode/paper.yaml", **(new_over if name == "new" else over)))
    decs[name].decode(m)
ms = {k: [] for k in decs}; outs = {}
for _ in range(rounds):
    for k, d in decs.items():
        t0 = time.perf_counter(); outs[k], st = d.decode(m); ms[k].append(1000 * (time.perf_counter() - t0) / st["steps"])
ratios = [b / a for a, b in zip(ms["old"], ms["new"])]
for k, v in ms.items():
    print(f"{k}: ms/step median {statistics.median(v):.2f} (rounds {', '.join(f'{t:.1f}' for t in v)}), paper RTF at that rate {statistics.median(v) * 1501 / 4000:.2f}")
print(f"new / old per round: median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}")
rel = float(np.sqrt(np.mean((outs["new"] - outs["old"]) ** 2) / np.mean(outs["old"] ** 2)))
print(f"relative RMS difference of the two decodes: {rel:.2e}")
if len(sys.argv) > 3:
    json.dump({"levels": levels, "ms_per_step": ms, "ratio_per_round": ratios, "relative_rms_difference": rel}, open(sys.argv[3], "w"), indent=1)
