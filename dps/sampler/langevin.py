"""Annealed Langevin dynamics (Song & Ermon 2019) on the posterior: prior score + conditioning gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Conditioning(Protocol):
    def __call__(
        self, score_fn: ScoreFn, x: torch.Tensor, sigma: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, int]]: ...

    def gradient_at(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor: ...


def unconditional(
    score_fn: ScoreFn, x: torch.Tensor, sigma: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, dict[str, int]]:
    """No measurements: the prior score alone."""
    with torch.no_grad():
        return score_fn(x, sigma), torch.zeros_like(x), {"nfe": 1, "vjp": 0}


def sample(
    score_fn: ScoreFn,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    conditioning: Conditioning | None = None,
    steps_per_level: int = 3,
    step_size: float = 0.5,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    final_denoise: bool = False,
    final_temperature: float | None = None,
    progress: Callable[[int], Any] | None = None,
    network_sigma_min: float = 0.0,
    denoiser_refresh: int = 1,
) -> tuple[torch.Tensor, dict[str, int]]:
    """x <- x + a_t (S(x, s_t) + grad log p(y | x; s_t)) + T sqrt(2 a_t) n, a_t = step_size * s_t^2.

    step_size = epsilon / sigma_L^2 in Song & Ermon's a_t = epsilon sigma_t^2 / sigma_L^2. x is (B, T);
    final_temperature (if set) replaces the temperature on the last level, so the sample settles into the
    measurement intervals. Below network_sigma_min the prior score is left out (likelihood steps only, no
    network pass). With denoiser_refresh N > 1 the network runs on every N-th step of a level and the steps
    between take S(x, s_t) = (D - x) / s_t^2 with the denoised estimate D = x_k + s_t^2 S(x_k, s_t) of the last
    network step k (Tweedie's formula, D held fixed). Returns the last iterate and counts of network forward
    passes (nfe) and vector-Jacobian products (vjp).
    """
    cond = conditioning or unconditional
    if denoiser_refresh > 1 and getattr(cond, "needs_network_gradient", False):
        # The held steps take the noisy mean's likelihood; a Tweedie chain would silently change conditioning.
        raise ValueError(f"denoiser_refresh {denoiser_refresh}: needs conditioning noisy_mean, not Tweedie")
    stats = {"nfe": 0, "vjp": 0, "steps": 0}
    batch = x.shape[0]
    levels = sigmas.tolist()
    denoised = x
    for level, sigma in enumerate(levels):
        temp = final_temperature if (final_temperature is not None and level == len(levels) - 1) else temperature
        s = torch.full((batch,), sigma, dtype=x.dtype, device=x.device)
        alpha = step_size * sigma**2
        prior_free = sigma < network_sigma_min and conditioning is not None
        for k in range(steps_per_level):
            if prior_free:
                score, used = torch.zeros_like(x), {"nfe": 0, "vjp": 0}
                grad = cond.gradient_at(x, s)
            elif k % denoiser_refresh:
                score, used = (denoised - x) / sigma**2, {"nfe": 0, "vjp": 0}
                grad = cond.gradient_at(x, s)
            else:
                score, grad, used = cond(score_fn, x, s)
                if denoiser_refresh > 1:  # kept for the next steps of this level
                    denoised = x + sigma**2 * score
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device="cpu").to(x.device)
            # in place only on the new iterate: a score function may hand back a tensor it keeps
            x = torch.add(x, score + grad, alpha=alpha).add_(noise, alpha=temp * (2 * alpha) ** 0.5)
            stats["nfe"] += used["nfe"]
            stats["vjp"] += used["vjp"]
            stats["steps"] += 1
            if progress is not None:
                progress(1)
    if final_denoise:
        s = torch.full((batch,), float(sigmas[-1]), dtype=x.dtype, device=x.device)
        with torch.no_grad():
            x = x + float(sigmas[-1]) ** 2 * score_fn(x, s)
        stats["nfe"] += 1
    return x, stats
