"""Ideal code lengths of the parametric models, used by the encoder's rate control."""

from __future__ import annotations

import numpy as np

from dps.codec import allocation as al
from dps.codec.params import CodecParams


def laplace_bits(symbols: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """-log2 P(q) for a Laplace(0, b) quantized to unit bins centred on integers."""
    a = np.abs(symbols).astype(np.float64)
    inv = 1.0 / scale
    p_zero = -np.expm1(-0.5 * inv)
    log_p_nonzero = np.log(0.5) - (a - 0.5) * inv + np.log(-np.expm1(-inv))
    log_p = np.where(a == 0, np.log(np.maximum(p_zero, 1e-300)), log_p_nonzero)
    return -log_p / np.log(2.0)


def coefficient_bits_per_frame(
    coeffs: np.ndarray,
    env_index: np.ndarray,
    theta_index: np.ndarray,
    dither: np.ndarray | None,
    p: CodecParams,
) -> np.ndarray:
    """Bits each frame's coefficients cost at the given offsets (coded bands only)."""
    r8 = al.allocation_r8(env_index, theta_index, p)
    r8c = r8[:, p.band_of_bin]
    mask = r8c > 0
    if not mask.any():
        return np.zeros(coeffs.shape[0])
    step = al.step_sizes(env_index, r8, p)[:, p.band_of_bin][mask]
    q = al.quantize(coeffs[mask], step, None if dither is None else dither[mask], p)
    bits = np.zeros(coeffs.shape)
    bits[mask] = laplace_bits(q, al.model_scales(r8c[mask], p))
    return bits.sum(axis=1)
