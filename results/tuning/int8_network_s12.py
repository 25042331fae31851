"""Is an int8 MDCT U-Net faster than a compiled bfloat16 one on this CPU, and how far off is its output? (session 12)

Needs `pip install torchao` (not a dependency). python results/tuning/int8_network_s12.py
Four 1.486 s chunks of the speech fixture through the shipped speech prior's network at several noise levels.
"""

import statistics
import sys
import time
import warnings

import soundfile as sf
import torch
import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as xiq
from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

from dps.dsp.mdct import quiet_dynamo_basis_warning
from dps.prior.export import load_prior
from dps.prior.registry import resolve_prior

warnings.filterwarnings("ignore")
quiet_dynamo_basis_warning()
CHUNK = 32768


def main() -> None:
    prior = load_prior(resolve_prior("speech")).eval()
    net, sd = prior.denoiser.net.eval(), prior.denoiser.sigma_data
    x0, _ = sf.read("tests/fixtures/speech.flac", dtype="float32")
    xs = torch.stack([torch.from_numpy(x0[i * CHUNK : (i + 1) * CHUNK]) for i in range(4)])
    xs = xs / xs.pow(2).mean(1, keepdim=True).sqrt() * sd
    gen = torch.Generator().manual_seed(0)

    def net_in(sig: float) -> tuple[torch.Tensor, torch.Tensor]:
        """The network's inputs c_in (x + sigma n) and c_noise, as the EDM denoiser forms them."""
        x = xs + sig * torch.randn(xs.shape, generator=gen)
        return x / (sig**2 + sd**2) ** 0.5, torch.full((4,), sig).log() / 4

    def median_ms(f, n: int = 8) -> float:
        a = net_in(1e-2)
        f(*a)
        f(*a)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            f(*a)
            times.append(1000 * (time.perf_counter() - t0))
        return statistics.median(times)

    basis_cache = sys.modules["dps.dsp.mdct"]._basis
    with torch.no_grad():
        exported = torch.export.export(net, net_in(1e-2)).module()
        basis_cache.cache_clear()  # export ran the lru_cache'd MDCT basis on fake tensors and the cache kept them
        quantizer = xiq.X86InductorQuantizer()
        quantizer.set_global(xiq.get_default_x86_inductor_quantization_config())
        prepared = prepare_pt2e(exported, quantizer)
        for sig in (1.0, 0.3, 0.1, 0.03, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4):  # calibration
            prepared(*net_in(sig))
        int8 = torch.compile(convert_pt2e(prepared))
        basis_cache.cache_clear()
        compiled = torch.compile(net)

        def bf16(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return compiled(a, b).float()

        for sig in (0.3, 1e-2, 1e-3, 1e-4):
            a = net_in(sig)
            ref = net(*a)
            e8, eb = ((f(*a) - ref).norm() / ref.norm() for f in (int8, bf16))
            print(f"sigma {sig}: relative error of the output, int8 {float(e8):.4f}, bfloat16 {float(eb):.4f}")
        for _ in range(2):
            ms = [median_ms(f) for f in (net, bf16, int8)]
            print(f"ms: float32 eager {ms[0]:.1f}, bf16 compiled {ms[1]:.1f}, int8 {ms[2]:.1f}")


if __name__ == "__main__":
    main()
