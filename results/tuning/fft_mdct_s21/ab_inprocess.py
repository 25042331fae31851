r"""One process, interleaved: session 20's code (commit 7248c90, as package dps_s20) against this tree's, with and
without the one FiLM matmul: `paper` settings (compiled bfloat16 network and conditioning, one chunk) on 4 s of speech
with speech_lite, fewer levels. Usage: python ab_inprocess.py LEVELS ROUNDS [OUT.json], after
  git worktree add /tmp/head 7248c90 && mkdir /tmp/s20pkg && cp -r /tmp/head/dps /tmp/s20pkg/dps_s20 &&
  grep -rl 'dps\.' /tmp/s20pkg/dps_s20 | xargs sed -i -E 's/(from|import) dps(\.| )/\1 dps_s20\2/g'
"""

import json
import statistics
import sys
import time
import warnings

import numpy as np
import soundfile as sf

from dps.codec import encode, parse

sys.path.insert(0, "/tmp/s20pkg")  # dps_s20
warnings.filterwarnings("ignore")
levels, rounds = int(sys.argv[1]), int(sys.argv[2])
x, _ = sf.read("tests/fixtures/speech.flac", dtype="float64")
x = x[: 4 * 22050]
m = parse(encode(x, 16))
over = dict(levels=levels, network_compile=True, network_precision="bfloat16", conditioning_compile=True)
decs = {}


def per_block(net):
    def films(emb):  # each ResBlock's own projection, as before the one-matmul FiLM
        blocks = [*(b for level in net.down_blocks for b in level), net.mid1, net.mid2]
        blocks += [b for level in net.up_blocks for b in level]
        return [b.film(emb) for b in blocks]

    return films


for name, pkg in (("s20", "dps_s20"), ("new_no_film_matmul", "dps"), ("new", "dps")):
    exp = __import__(f"{pkg}.prior.export", fromlist=["load_prior"])
    samp = __import__(f"{pkg}.sampler", fromlist=["DecodeSettings", "PosteriorDecoder"])
    prior = exp.load_prior("dps/assets/priors/speech_lite.safetensors")
    if name == "new_no_film_matmul":
        net = prior.denoiser.net
        net.block_films = per_block(net)
    decs[name] = samp.PosteriorDecoder(prior, samp.DecodeSettings.from_preset("configs/decode/paper.yaml", **over))
    decs[name].decode(m)  # compiles
ms = {k: [] for k in decs}
outs = {}
for _ in range(rounds):
    for k, d in decs.items():
        t0 = time.perf_counter()
        outs[k], st = d.decode(m)
        w = time.perf_counter() - t0
        ms[k].append(1000 * w / st["steps"])
ratios = [b / a for a, b in zip(ms["s20"], ms["new"])]
film_ratios = [b / a for a, b in zip(ms["new_no_film_matmul"], ms["new"])]
for k, v in ms.items():
    print(
        f"{k}: ms/step median {statistics.median(v):.2f} (rounds {', '.join(f'{t:.1f}' for t in v)}), "
        f"paper RTF at that rate {statistics.median(v) * 1501 / 4000:.2f}"
    )
print(f"new / s20 per round: median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}")
print(
    f"new / new without the one FiLM matmul per round: median {statistics.median(film_ratios):.3f}, "
    f"range {min(film_ratios):.3f}-{max(film_ratios):.3f}"
)
rel = float(np.sqrt(np.mean((outs["new"] - outs["s20"]) ** 2) / np.mean(outs["s20"] ** 2)))
print(f"relative RMS difference of the two decodes: {rel:.2e}")
if len(sys.argv) > 3:
    json.dump(
        {
            "levels": levels,
            "ms_per_step": ms,
            "ratio_per_round": ratios,
            "film_ratio_per_round": film_ratios,
            "relative_rms_difference": rel,
        },
        open(sys.argv[3], "w"),
        indent=1,
    )
