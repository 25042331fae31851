"""Compiled bfloat16 forward on 4 s of candidate mdct_unet networks (random weights), interleaved rounds of 20 calls.

python netspeed.py patch|blocks [ROUNDS]  (measured.txt has the output)
"""

import statistics
import sys
import time

import torch

from dps.prior.networks import build_network

SETS = {
    "patch": {
        "p8_24": dict(patch_bins=8, channels=(24, 48, 64, 96)),
        "p16_24": dict(patch_bins=16, channels=(24, 48, 64, 96)),
        "p8_16": dict(patch_bins=8, channels=(16, 48, 64, 96)),
        "p16_32": dict(patch_bins=16, channels=(32, 48, 64, 96)),
    },
    "blocks": {
        "p8_24": dict(patch_bins=8, channels=(24, 48, 64, 96)),
        "p8_24_b1": dict(patch_bins=8, channels=(24, 48, 64, 96), blocks=1),
        "p8_24_32": dict(patch_bins=8, channels=(24, 32, 64, 96)),
        "p8_24_3lv": dict(patch_bins=8, channels=(24, 48, 64)),
    },
}


def main() -> None:
    variants = SETS[sys.argv[1]]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    torch.manual_seed(0)
    x, c = torch.randn(1, 88200) * 0.1, torch.full((1,), 0.1)
    fns = {}
    for name, kw in variants.items():
        net = build_network("mdct_unet", **{"blocks": 2, "kernel": 3, "emb_dim": 128, "attention": False, **kw})
        fns[name] = torch.compile(net.eval())
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            for _ in range(3):
                fns[name](x, c)
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for name, f in fns.items():
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                t = time_calls(f, x, c)
            times[name].append(t)
    for name, t in times.items():
        ratio = statistics.median([a / b for a, b in zip(t, times["p8_24"])])
        print(f"{name}: median {statistics.median(t):.2f} ms  ratio to p8_24 {ratio:.3f}")


def time_calls(f, x: torch.Tensor, c: torch.Tensor, n: int = 20) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        f(x, c)
    return (time.perf_counter() - t0) / n * 1e3


if __name__ == "__main__":
    main()
