"""Gaussian interval probabilities log(Phi(b) - Phi(a)) and their derivatives, stable in both tails."""

from __future__ import annotations

import math

import torch

_LOG_HALF = math.log(0.5)
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_INV_SQRT_PI = 1 / math.sqrt(math.pi)
TAIL = 50.0
_ASYMPTOTIC_FROM = 10.0  # series error (2n-1)!!/(2x^2)^n < 1e-16 at 12 terms; exp(x^2) rounding ~1e-14 below it


def erfcx_nonneg(x: torch.Tensor) -> torch.Tensor:
    """erfcx(x) = exp(x^2) erfc(x) for x >= 0. Under torch.compile from element-wise ops inductor vectorizes
    (torch.special.erfcx is a scalar loop there; 0.7 ms of a 4 s step): exp(x^2) erfc(x) below 10, the asymptotic
    series (1 / (x sqrt(pi))) sum_n (-1)^n (2n-1)!! / (2x^2)^n (12 terms) above, relative error < 1e-14.
    Eager, where each of those ops is a pass of its own, the library kernel."""
    if not torch.compiler.is_compiling():
        return torch.special.erfcx(x)
    big = x > _ASYMPTOTIC_FROM
    small = torch.where(big, 0.0, x)
    near = torch.exp(small * small) * torch.erfc(small)
    large = torch.where(big, x, _ASYMPTOTIC_FROM)
    w = 0.5 / (large * large)
    series = torch.ones_like(large)
    for n in range(12, 0, -1):  # Horner: 1 - w (1 - 3w (1 - 5w (...)))
        series = 1.0 - (2 * n - 1) * w * series
    return torch.where(big, series * _INV_SQRT_PI / large, near)


def interval_loglik_and_grads(
    mean: torch.Tensor, scale: torch.Tensor | float, lower: torch.Tensor, upper: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log P(lower <= Y <= upper) for Y ~ N(mean, scale^2), with d/dmean and d/dscale in closed form.

    d/dmean = (phi(a) - phi(b)) / (scale P) = (m_trunc - mean) / scale^2;
    d/dscale = (a phi(a) - b phi(b)) / (scale P);  a, b = (lower, upper - mean) / scale.
    After reflecting into the lower tail (lo <= 0), Phi(z) = erfcx(|z|/sqrt 2) exp(-z^2/2) / 2 for z <= 0, so one
    erfcx per bound gives P, log P and the Mills ratios phi/Phi without cancellation (4x cheaper than log_ndtr).
    """
    a, b = standardize(mean, scale, lower, upper)
    flip = a > 0
    lo = torch.where(flip, -b, a)
    hi = torch.where(flip, -a, b)
    e_lo = erfcx_nonneg(-lo * _SQRT_HALF)
    e_hi = erfcx_nonneg(hi.abs() * _SQRT_HALF)
    tail = hi <= 0
    # both bounds in the lower tail: P = Phi(hi) (1 - r), r = Phi(lo) / Phi(hi), log r free of z^2 cancellation
    log_r = torch.where(tail, -0.5 * (lo - hi) * (lo + hi) + torch.log(e_lo / e_hi), -1.0)
    r = torch.exp(log_r)
    one_minus_r = (-torch.expm1(log_r)).clamp(min=1e-300)
    logp_tail = _LOG_HALF - 0.5 * hi * hi + torch.log(e_hi) + torch.log(one_minus_r)
    # straddling zero: P = 1 - Phi(lo) - Phi(-hi), both terms <= 1/2
    g_lo, g_hi = torch.exp(-0.5 * lo * lo), torch.exp(-0.5 * hi * hi)
    q_mid = (0.5 * (g_lo * e_lo + g_hi * e_hi)).clamp(max=1 - 1e-16)
    p_mid = 1 - q_mid
    logp = torch.where(tail, logp_tail, torch.log1p(-q_mid))
    mills_lo, mills_hi = _SQRT_2_OVER_PI / e_lo, _SQRT_2_OVER_PI / e_hi
    r_hi = torch.where(tail, mills_hi / one_minus_r, g_hi * _INV_SQRT_2PI / p_mid)
    r_lo = torch.where(tail, mills_lo * r / one_minus_r, g_lo * _INV_SQRT_2PI / p_mid)
    ra, rb = torch.where(flip, r_hi, r_lo), torch.where(flip, r_lo, r_hi)
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
