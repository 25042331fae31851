"""ViSQOL v3 (visqol-python): audio mode at 48 kHz, speech mode at 16 kHz, with guarded inputs."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
import torchaudio

MODE_RATES = {"audio": 48000, "speech": 16000}
MIN_SECONDS = {"audio": 1.0, "speech": 0.75}  # shorter input fails inside ViSQOL (too few frames for one patch)


class VisqolError(ValueError):
    """Input ViSQOL would mis-score or fail on: silent, non-finite, too short, or mismatched signals."""


class Visqol:
    """A reusable ViSQOL scorer; resamples explicitly to the mode's rate, named in `metric_name`."""

    def __init__(self, mode: str = "audio") -> None:
        if mode not in MODE_RATES:
            raise ValueError(f"ViSQOL mode: expected one of {sorted(MODE_RATES)}, got {mode!r}")
        from visqol import VisqolApi

        logging.getLogger("visqol").setLevel(logging.ERROR)
        self.mode = mode
        self.rate = MODE_RATES[mode]
        self._api = VisqolApi()
        self._api.create(mode=mode)

    @property
    def metric_name(self) -> str:
        return f"visqol_{self.mode}_{self.rate // 1000}k"

    def _prepare(self, x: np.ndarray, sample_rate: int, what: str) -> np.ndarray:
        if not isinstance(sample_rate, (int, np.integer)) or sample_rate < 4000:
            raise VisqolError(f"ViSQOL {what}: sample rate must be an integer >= 4000 Hz, got {sample_rate!r}")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 1:
            raise VisqolError(f"ViSQOL {what}: expected mono 1-D audio, got shape {x.shape}")
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise VisqolError(f"ViSQOL {what}: empty or non-finite samples")
        if np.max(np.abs(x)) < 1e-6:
            raise VisqolError(f"ViSQOL {what}: signal is silent")
        need = MIN_SECONDS[self.mode]
        if x.size < need * sample_rate:
            got = x.size / sample_rate
            raise VisqolError(f"ViSQOL {what}: {got:.2f} s is too short; {self.mode} mode needs at least {need} s")
        if sample_rate != self.rate:
            x = torchaudio.functional.resample(torch.from_numpy(x), sample_rate, self.rate).numpy()
        return np.ascontiguousarray(x, dtype=np.float64)

    def __call__(self, reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
        """MOS-LQO of degraded against reference, both at sample_rate."""
        score = float(self.measure(reference, degraded, sample_rate).moslqo)
        if not np.isfinite(score):
            raise VisqolError("ViSQOL returned a non-finite score")
        return score

    def measure(self, reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> Any:
        """ViSQOL's whole result (moslqo, per-band fvnsim, centre_freq_bands, ...) for guarded, resampled input."""
        ref = self._prepare(reference, sample_rate, "reference")
        deg = self._prepare(degraded, sample_rate, "degraded")
        n = min(ref.size, deg.size)
        if abs(ref.size - deg.size) > 0.01 * ref.size:
            raise VisqolError(f"ViSQOL: lengths differ, reference {ref.size} vs degraded {deg.size} samples")
        return self._api.measure_from_arrays(ref[:n], deg[:n], self.rate)
