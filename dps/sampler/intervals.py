"""Gaussian interval probabilities log(Phi(b) - Phi(a)) and their derivatives, stable in both tails."""

from __future__ import annotations

import math

import torch

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
TAIL = 50.0


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


def mills(z: torch.Tensor) -> torch.Tensor:
    """phi(z) / Phi(z) = sqrt(2/pi) / erfcx(-z/sqrt(2)): accurate in both tails."""
    return math.sqrt(2 / math.pi) / torch.special.erfcx(-z / math.sqrt(2))


def density_ratios(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """phi(a)/P and phi(b)/P with P = Phi(b) - Phi(a), free of cancellation in the tails (Mills ratios)."""
    flip = a > 0
    lo = torch.where(flip, -b, a)
    hi = torch.where(flip, -a, b)
    d = (torch.special.log_ndtr(lo) - torch.special.log_ndtr(hi)).clamp(max=0.0)
    one_minus_r = (-torch.expm1(d)).clamp(min=1e-300)
    tail_hi = mills(hi) / one_minus_r
    tail_lo = mills(lo) * torch.exp(d) / one_minus_r
    logp_mid = log_interval_prob(lo, hi)
    mid_hi = torch.exp(log_phi(hi) - logp_mid)
    mid_lo = torch.exp(log_phi(lo) - logp_mid)
    in_tail = hi <= 0
    r_hi = torch.where(in_tail, tail_hi, mid_hi)
    r_lo = torch.where(in_tail, tail_lo, mid_lo)
    return torch.where(flip, r_hi, r_lo), torch.where(flip, r_lo, r_hi)


def interval_loglik_and_grads(
    mean: torch.Tensor, scale: torch.Tensor | float, lower: torch.Tensor, upper: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log P(lower <= Y <= upper) for Y ~ N(mean, scale^2), with d/dmean and d/dscale in closed form.

    d/dmean = (phi(a) - phi(b)) / (scale P) = (m_trunc - mean) / scale^2;
    d/dscale = (a phi(a) - b phi(b)) / (scale P);  a, b = (lower, upper - mean) / scale.
    """
    a, b = standardize(mean, scale, lower, upper)
    logp = log_interval_prob(a, b)
    ra, rb = density_ratios(a, b)
    d_mean = (ra - rb) / scale
    d_scale = (a * ra - b * rb) / scale
    return logp, d_mean, d_scale


def standardize(
    mean: torch.Tensor, scale: torch.Tensor | float, lower: torch.Tensor, upper: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """a, b = (lower - mean)/scale, (upper - mean)/scale; an infinite bound becomes a finite one 50 scales
    beyond the other bound (or zero): Phi there is 0 or 1 to double precision, and autograd stays finite."""
    a_inf, b_inf = torch.isinf(lower), torch.isinf(upper)
    a0 = (torch.where(a_inf, mean, lower) - mean) / scale  # 0 where infinite, with finite gradients
    b0 = (torch.where(b_inf, mean, upper) - mean) / scale
    a = torch.where(a_inf, torch.clamp(b0, max=0.0) - TAIL, a0)
    b = torch.where(b_inf, torch.clamp(a0, min=0.0) + TAIL, b0)
    return a, b
