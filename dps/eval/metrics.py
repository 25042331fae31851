"""Cheap secondary metrics with no dependency beyond numpy."""

from __future__ import annotations

import numpy as np


def snr_db(reference: np.ndarray, degraded: np.ndarray) -> float:
    """SNR = 10 log10(|x|^2 / |x - y|^2) in dB."""
    ref = np.asarray(reference, dtype=np.float64)
    err = ref - np.asarray(degraded, dtype=np.float64)[: ref.size]
    return float(10.0 * np.log10(np.sum(ref**2) / max(np.sum(err**2), 1e-30)))


def log_spectral_distance(reference: np.ndarray, degraded: np.ndarray, n_fft: int = 1024) -> float:
    """LSD = mean over frames of the RMS over bins of 10 log10(|X|^2 / |Y|^2), in dB."""

    def power(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        hop = n_fft // 4
        n = 1 + max(0, (x.size - n_fft) // hop)
        idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
        frames = np.pad(x, (0, max(0, n_fft - x.size)))[idx] * np.hanning(n_fft)
        return np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10

    a, b = power(reference), power(degraded[: len(reference)])
    return float(np.mean(np.sqrt(np.mean((10 * np.log10(a / b)) ** 2, axis=1))))
