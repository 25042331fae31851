"""One process, interleaved: session 22's compiled conditioning call (likelihood_at; c3c542c as dps_old, run.sh)
against this tree's gradient_at and likelihood_at, 4 s of speech at 16 kb/s, 9 rounds of 40 calls."""

import statistics
import sys
import time
import warnings

import soundfile as sf
import torch

import dps.sampler.conditioning as nc
from dps.codec import encode, parse

sys.path.insert(0, "/tmp/s23/oldpkg")  # dps_old
oc = __import__("dps_old.sampler.conditioning", fromlist=["NoisyMeanConditioning"])
warnings.filterwarnings("ignore")
x, _ = sf.read("tests/fixtures/speech.flac", dtype="float64")
m = parse(encode(x[: 4 * 22050], 16))
co = oc.NoisyMeanConditioning(oc.MeasurementTensors.from_measurements(m, "zero_bands", gain=3.0), compiled=True)
cn = nc.NoisyMeanConditioning(nc.MeasurementTensors.from_measurements(m, "zero_bands", gain=3.0), compiled=True)
xx = 0.1 * torch.randn(1, m.num_samples)
for sig in (1.0, 0.01, 1e-5):
    s = torch.full((1,), sig)
    go, gn = co.likelihood_at(xx, s)[1], cn.gradient_at(xx, s)
    print("sigma", sig, "max rel diff grad", ((go - gn).abs().max() / go.abs().max()).item())
s = torch.full((1,), 0.01)
fs = {
    "old likelihood_at": lambda: co.likelihood_at(xx, s),
    "new gradient_at": lambda: cn.gradient_at(xx, s),
    "new likelihood_at": lambda: cn.likelihood_at(xx, s),
}
res = {k: [] for k in fs}
for _ in range(9):
    for k, f in fs.items():
        f()
        t0 = time.perf_counter()
        for _ in range(40):
            f()
        res[k].append(1000 * (time.perf_counter() - t0) / 40)
for k, v in res.items():
    ratio = statistics.median([b / a for a, b in zip(res["old likelihood_at"], v)])
    print(f"{k:18s} median {statistics.median(v):.2f} ms, per-round ratio to old {ratio:.3f}")
