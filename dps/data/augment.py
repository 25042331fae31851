"""Training-time augmentation for priors that generalize across voices, instruments and recording chains: a speed
change (pitch and tempo together), one spectral gain curve (tilt, low and high shelves, band-limiting) applied by
FFT, and low-level noise, all drawn from the segment's own generator, so an item is a function of
(seed, epoch, index)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Augment:
    """Each effect applies with its own probability; ranges are symmetric around no change unless stated."""

    p_speed: float = 0.0
    speed: float = 0.03  # factor in [1 - speed, 1 + speed]
    p_tilt: float = 0.0
    tilt_db_per_octave: float = 3.0
    p_shelf: float = 0.0
    shelf_db: float = 6.0  # each of a low shelf (100-500 Hz) and a high shelf (2-8 kHz)
    p_lowpass: float = 0.0
    lowpass_hz: tuple[float, float] = (4000.0, 10000.0)  # cut-off range
    p_noise: float = 0.0
    noise_snr_db: tuple[float, float] = (30.0, 50.0)  # white noise this far below the segment

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> Augment:
        cfg = dict(cfg or {})
        known = {f.name for f in fields(cls)}
        if set(cfg) - known:
            raise ValueError(
                f"data.augment: unknown field(s) {sorted(set(cfg) - known)}, expected some of {sorted(known)}"
            )
        for k in ("lowpass_hz", "noise_snr_db"):
            if k in cfg:
                cfg[k] = tuple(float(v) for v in cfg[k])
        out = cls(**cfg)
        for f in fields(cls):
            if f.name.startswith("p_") and not 0.0 <= getattr(out, f.name) <= 1.0:
                raise ValueError(f"data.augment.{f.name}: expected a probability in [0, 1], got {getattr(out, f.name)}")
        if not 0.0 <= out.speed < 0.5:
            raise ValueError(f"data.augment.speed: expected a value in [0, 0.5), got {out.speed}")
        return out

    @property
    def enabled(self) -> bool:
        return any(getattr(self, f.name) > 0 for f in fields(self) if f.name.startswith("p_"))

    def read_length(self, segment: int) -> int:
        """Samples to read for one segment: enough for the fastest speed-up."""
        return segment if self.p_speed == 0 else math.ceil(segment * (1 + self.speed)) + 2

    def __call__(self, x: np.ndarray, segment: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        """x holds read_length(segment) samples; returns `segment` augmented samples (float32)."""
        draws = rng.random(5)  # one draw per effect, always, so an effect's odds never shift the others' values
        y = x.astype(np.float64)
        factor = 1.0 + rng.uniform(-self.speed, self.speed)
        if draws[0] < self.p_speed:  # read at `factor` times the rate: linear interpolation
            y = np.interp(np.arange(segment) * factor, np.arange(y.size), y)
        y = y[:segment]
        gain = np.zeros(segment // 2 + 1)  # dB per rfft bin
        f = np.fft.rfftfreq(segment, 1.0 / sample_rate)
        octaves = np.log2(np.maximum(f, 20.0) / 1000.0)
        tilt = rng.uniform(-self.tilt_db_per_octave, self.tilt_db_per_octave)
        if draws[1] < self.p_tilt:
            gain += tilt * octaves
        lo_db, hi_db = rng.uniform(-self.shelf_db, self.shelf_db, 2)
        lo_hz, hi_hz = rng.uniform(100.0, 500.0), rng.uniform(2000.0, 8000.0)
        if draws[2] < self.p_shelf:  # smooth shelves: a logistic in log-frequency, about an octave wide
            gain += lo_db / (1 + (np.maximum(f, 1.0) / lo_hz) ** 4) + hi_db / (1 + (hi_hz / np.maximum(f, 1.0)) ** 4)
        cut = rng.uniform(*self.lowpass_hz)
        if draws[3] < self.p_lowpass:  # -60 dB over the third of an octave above the cut-off
            gain += -60.0 * np.clip(np.log2(np.maximum(f, 1.0) / cut) * 3, 0.0, 1.0)
        if gain.any():
            y = np.fft.irfft(np.fft.rfft(y) * 10 ** (gain / 20), n=segment)
        snr = rng.uniform(*self.noise_snr_db)
        noise = rng.standard_normal(segment)
        if draws[4] < self.p_noise:
            rms = math.sqrt(float(np.mean(y**2)) + 1e-20)
            y = y + noise * rms * 10 ** (-snr / 20)
        return y.astype(np.float32)
