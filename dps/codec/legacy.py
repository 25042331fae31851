"""The legacy decoder: dequantize, noise-fill zero bins to the decoded band energy, inverse MDCT."""

from __future__ import annotations

import numpy as np
import torch

from dps.codec.measurements import Measurements
from dps.dsp.mdct import imdct


def legacy_coefficients(m: Measurements, fill_factor: float | None = None, seed: int = 0) -> np.ndarray:
    """X_hat = Delta q in coded bins; zero bins get noise with fill x (envelope energy - coded energy)."""
    fill = m.params.fill_factor if fill_factor is None else fill_factor
    x = m.dequantized()
    zero = m.q == 0
    idx = m.band_group_index()
    n_cells = m.env_index.size
    coded_energy = np.bincount(idx.ravel(), weights=(x**2).ravel(), minlength=n_cells)
    n_zero = np.bincount(idx.ravel(), weights=zero.ravel().astype(np.float64), minlength=n_cells)
    residual = np.maximum(m.envelope_energy().ravel() - coded_energy, 0.0)
    per_bin = np.where(n_zero > 0, fill * residual / np.maximum(n_zero, 1), 0.0)
    rng = np.random.Generator(np.random.PCG64(seed))
    noise = rng.standard_normal(x.shape) * np.sqrt(per_bin[idx])
    # Coded zero bins are known to be small: keep their fill inside the quantization interval.
    filled = np.clip(x + noise, m.lower, m.upper)
    return np.where(zero, filled, x)


def decode_legacy(m: Measurements, fill_factor: float | None = None, seed: int = 0) -> np.ndarray:
    """Legacy decoding of a parsed bitstream to a float64 waveform."""
    coeffs = legacy_coefficients(m, fill_factor, seed)
    return imdct(torch.from_numpy(coeffs), m.num_samples).numpy()
