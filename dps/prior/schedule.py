"""Variance-exploding noise schedule: the training density of sigma and the sampler's levels."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class NoiseSchedule:
    """x_sigma = x + sigma n with sigma in [sigma_min, sigma_max]; one object for training and sampling."""

    sigma_min: float = 1e-4
    sigma_max: float = 1.0
    sigma_data: float = 0.1  # RMS of the training audio (segments are normalized to it)
    density: str = "log_uniform"  # or "log_normal" (EDM: ln sigma ~ N(p_mean, p_std^2), clipped to the range)
    p_mean: float = -3.0
    p_std: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.sigma_min < self.sigma_max:
            raise ValueError(f"schedule: need 0 < sigma_min < sigma_max, got {self.sigma_min}, {self.sigma_max}")
        if self.density not in ("log_uniform", "log_normal"):
            raise ValueError(f"schedule.density: expected log_uniform or log_normal, got {self.density!r}")

    def sample(self, n: int, generator: torch.Generator | None = None, device: Any = None) -> torch.Tensor:
        """Draw training noise levels from the configured density."""
        lo, hi = math.log(self.sigma_min), math.log(self.sigma_max)
        if self.density == "log_uniform":
            u = torch.rand(n, generator=generator, device=device, dtype=torch.float64)
            return torch.exp(lo + (hi - lo) * u).float()
        z = torch.randn(n, generator=generator, device=device, dtype=torch.float64)
        return torch.exp((self.p_mean + self.p_std * z).clamp(lo, hi)).float()

    def levels(self, num: int, sigma_max: float | None = None, sigma_min: float | None = None) -> torch.Tensor:
        """Geometric sigma_1 > ... > sigma_L (float64), as annealed Langevin uses them."""
        hi = self.sigma_max if sigma_max is None else sigma_max
        lo = self.sigma_min if sigma_min is None else sigma_min
        if num == 1:
            return torch.tensor([hi], dtype=torch.float64)
        return torch.exp(torch.linspace(math.log(hi), math.log(lo), num, dtype=torch.float64))

    def buckets(self, num: int = 8) -> torch.Tensor:
        """Edges of log-spaced sigma buckets for the per-sigma loss curve."""
        return torch.exp(torch.linspace(math.log(self.sigma_min), math.log(self.sigma_max), num + 1))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
