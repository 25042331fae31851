"""One process, interleaved: the noisy-mean likelihood computed in a second thread while the network runs, against
the sequential step; `paper` settings (compiled bfloat16 network and conditioning), speech_lite, 4 s, LEVELS levels.

python overlap_ab.py LEVELS ROUNDS [--no-thread]  (--no-thread: both arms sequential; measured.txt has the output)
"""

import statistics
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import soundfile as sf
import torch

from dps.codec import encode, parse
from dps.prior.export import load_prior
from dps.sampler import DecodeSettings, PosteriorDecoder
from dps.sampler import conditioning as C

warnings.filterwarnings("ignore")
levels, rounds = int(sys.argv[1]), int(sys.argv[2])
use_thread = "--no-thread" not in sys.argv
x, _ = sf.read("tests/fixtures/speech.flac", dtype="float64")
m = parse(encode(x[: 4 * 22050], 16))
over = dict(levels=levels, network_compile=True, network_precision="bfloat16", conditioning_compile=True)
pool = ThreadPoolExecutor(1)
seq_call = C.NoisyMeanConditioning.__call__


def par_call(self, score_fn, x, sigma):
    fut = pool.submit(self.likelihood_at, x, sigma)
    with torch.no_grad():
        score = score_fn(x, sigma)
    return score, fut.result()[1], {"nfe": 1, "vjp": 0}


arms = {"seq": seq_call, "par": par_call if use_thread else seq_call}
prior = load_prior("dps/assets/priors/speech_lite.safetensors")
dec = PosteriorDecoder(prior, DecodeSettings.from_preset("configs/decode/paper.yaml", **over))
for f in arms.values():  # compiles
    C.NoisyMeanConditioning.__call__ = f
    dec.decode(m)
ms, outs = {k: [] for k in arms}, {}
for _ in range(rounds):
    for k, f in arms.items():
        C.NoisyMeanConditioning.__call__ = f
        t0 = time.perf_counter()
        outs[k], st = dec.decode(m)
        ms[k].append(1000 * (time.perf_counter() - t0) / st["steps"])
r = [b / a for a, b in zip(ms["seq"], ms["par"])]
for k, v in ms.items():
    print(k, f"{statistics.median(v):.2f}", [round(t, 1) for t in v])
diff = np.abs(outs["par"] - outs["seq"]).max()
print(f"par/seq median {statistics.median(r):.3f} range {min(r):.3f}-{max(r):.3f}; max abs diff {diff:.2e}")
