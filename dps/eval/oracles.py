"""Oracle decodings: the legacy decoding with one part of the reference restored (headroom analysis)."""

from __future__ import annotations

import numpy as np

from dps.codec.legacy import legacy_coefficients
from dps.codec.measurements import Measurements

ORACLES = ["legacy", "true_coded", "uncoded_frame_energy", "uncoded_magnitude", "true_uncoded"]


def _cell_energy(x: np.ndarray, cells: np.ndarray, n: int) -> np.ndarray:
    """Sum of x^2 per cell index."""
    return np.bincount(cells.ravel(), weights=(x**2).ravel(), minlength=n)


def oracle_coefficients(m: Measurements, ref: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Legacy MDCT coefficients with one part replaced by the reference's (frames, hop) per oracle."""
    leg = legacy_coefficients(m, seed=seed)
    unc = ~m.coded
    # One cell per (frame, band): finer in time than the envelope's frame groups.
    cells = np.arange(m.num_frames)[:, None] * m.params.num_bands + m.band_of_bin[None, :]
    n = m.num_frames * m.params.num_bands
    gain = np.sqrt(
        _cell_energy(np.where(unc, ref, 0.0), cells, n)
        / np.maximum(_cell_energy(np.where(unc, leg, 0.0), cells, n), 1e-30)
    )
    rng = np.random.Generator(np.random.PCG64(seed + 1))
    signs = rng.choice([-1.0, 1.0], size=ref.shape)
    return {
        "legacy": leg,
        "true_coded": np.where(unc, leg, ref),
        "uncoded_frame_energy": np.where(unc, leg * gain[cells], leg),
        "uncoded_magnitude": np.where(unc, np.abs(ref) * signs, leg),
        "true_uncoded": np.where(unc, ref, leg),
    }
