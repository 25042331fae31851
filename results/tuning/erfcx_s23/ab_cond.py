import statistics, time, warnings, sys
sys.path.insert(0, "/tmp/s23/oldpkg")
import torch, soundfile as sf
from dps.codec import encode, parse
warnings.filterwarnings("ignore")
import dps_old.sampler.conditioning as oc
import dps.sampler.conditioning as nc
x, _ = sf.read("tests/fixtures/speech.flac", dtype="float64"); x = x[: 4 * 22050]
m = parse(encode(x, 16))
co = oc.NoisyMeanConditioning(oc.MeasurementTensors.from_measurements(m, "zero_bands", gain=3.0), compiled=True)
cn = nc.NoisyMeanConditioning(nc.MeasurementTensors.from_measurements(m, "zero_bands", gain=3.0), compiled=True)
xx = 0.1 * torch.randn(1, m.num_samples)
for sig in (1.0, 0.01, 1e-5):
    s = torch.full((1,), sig)
    go = co.likelihood_at(xx, s)[1]; gn = cn.gradient_at(xx, s)
    print("sigma", sig, "max rel diff grad", ((go - gn).abs().max() / go.abs().max()).item())
s = torch.full((1,), 0.01)
fs = {"old likelihood_at": lambda: co.likelihood_at(xx, s), "new gradient_at": lambda: cn.gradient_at(xx, s), "new likelihood_at": lambda: cn.likelihood_at(xx, s)}
res = {k: [] for k in fs}
for r in range(9):
    for k, f in fs.items():
        f(); t0 = time.perf_counter()
        for _ in range(40): f()
        res[k].append(1000 * (time.perf_counter() - t0) / 40)
for k, v in res.items():
    print(f"{k:18s} median {statistics.median(v):.2f} ms, per-round ratio to old {statistics.median([b / a for a, b in zip(res['old likelihood_at'], v)]):.3f}")
