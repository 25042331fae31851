"""Gaussian interval probabilities log(Phi(b) - Phi(a)) and their derivatives, stable in both tails."""

from __future__ import annotations

import math

import torch

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
BOUND = 1e4


def log_phi(z: torch.Tensor) -> torch.Tensor:
    """log of the standard normal density."""
    return -0.5 * z * z - _LOG_SQRT_2PI


def log_interval_prob(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """log(Phi(b) - Phi(a)) for a < b: flip to the lower tail, then log_ndtr differences (no cancellation)."""
    flip = a > 0
    lo = torch.where(flip, -b, a)
    hi = torch.where(flip, -a, b)
    log_hi = torch.special.log_ndtr(hi)
    log_lo = torch.special.log_ndtr(lo)
    # both in the lower tail: log Phi(hi) + log1p(-Phi(lo)/Phi(hi))
    tail = log_hi + torch.log1p(-torch.exp((log_lo - log_hi).clamp(max=0.0)).clamp(max=1 - 1e-16))
    # straddling zero: 1 - Phi(lo) - Phi(-hi), both terms <= 1/2
    middle = torch.log1p(-(torch.exp(log_lo) + torch.special.ndtr(-hi)).clamp(max=1 - 1e-16))
    return torch.where(hi <= 0, tail, middle)


def interval_loglik_and_grads(
    mean: torch.Tensor, scale: torch.Tensor | float, lower: torch.Tensor, upper: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log P(lower <= Y <= upper) for Y ~ N(mean, scale^2), with d/dmean and d/dscale in closed form.

    d/dmean = (phi(a) - phi(b)) / (scale P) = (m_trunc - mean) / scale^2;
    d/dscale = (a phi(a) - b phi(b)) / (scale P);  a, b = (lower, upper - mean) / scale.
    """
    a, b = standardize(mean, scale, lower, upper)
    logp = log_interval_prob(a, b)
    ra = torch.exp(log_phi(a) - logp)  # phi(a)/P, 0 where a = -inf
    rb = torch.exp(log_phi(b) - logp)
    d_mean = (ra - rb) / scale
    d_scale = (a * ra - b * rb) / scale
    return logp, d_mean, d_scale


def standardize(
    mean: torch.Tensor, scale: torch.Tensor | float, lower: torch.Tensor, upper: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(lower - mean)/scale, (upper - mean)/scale clipped to +-1e4: beyond that Phi is exactly 0 or 1 in
    float64, and finite bounds keep autograd free of inf * 0."""
    a = ((lower - mean) / scale).clamp(-BOUND, BOUND)
    b = ((upper - mean) / scale).clamp(-BOUND, BOUND)
    return a, b
