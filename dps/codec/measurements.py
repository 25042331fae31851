"""What a bitstream says about the signal: per-coefficient and per-band-energy intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dps.codec import allocation as al
from dps.codec.bitstream import Payload, parse_payload
from dps.codec.params import CodecParams


@dataclass
class Measurements:
    """The measurement operator's output y, in the two views the posterior sampler conditions on."""

    params: CodecParams
    num_samples: int
    bitrate_bps: int
    q: np.ndarray  # (frames, hop) quantization indices
    step: np.ndarray  # (frames, hop) step size, inf where uncoded
    dither: np.ndarray | None  # (frames, hop) in units of the step
    lower: np.ndarray  # (frames, hop) coefficient interval
    upper: np.ndarray
    env_index: np.ndarray  # (groups, bands)
    energy_lower: np.ndarray  # (groups, bands): bounds on sum of X^2 over band x group
    energy_upper: np.ndarray
    theta_index: np.ndarray  # (frames,)

    @property
    def num_frames(self) -> int:
        return self.q.shape[0]

    @property
    def sample_rate(self) -> int:
        return self.params.sample_rate

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.params.sample_rate

    @property
    def coded(self) -> np.ndarray:
        return np.isfinite(self.step)

    @property
    def group_of_frame(self) -> np.ndarray:
        return al.group_of_frame(self.num_frames, self.params)

    @property
    def band_of_bin(self) -> np.ndarray:
        return self.params.band_of_bin

    @property
    def group_counts(self) -> np.ndarray:
        return al.group_counts(self.num_frames, self.params)

    def envelope_energy(self) -> np.ndarray:
        """Band energy at the decoded envelope value n * 10^(E_hat/10), (groups, bands)."""
        return self.group_counts * 10.0 ** (al.envelope_db(self.env_index, self.params) / 10.0)

    def band_group_index(self) -> np.ndarray:
        """For each coefficient, the flat index g * bands + b of its envelope value, (frames, hop)."""
        g = self.group_of_frame[:, None]
        return g * self.params.num_bands + self.band_of_bin[None, :]

    def dequantized(self) -> np.ndarray:
        return al.dequantize(self.q, self.step, self.dither, self.params)


def measurements_from_payload(pl: Payload) -> Measurements:
    p = pl.params
    r8 = al.allocation_r8(pl.env_index, pl.theta_index, p)
    step = al.step_sizes(pl.env_index, r8, p)[:, p.band_of_bin]
    dither = al.dither_values(pl.q.shape, p) if p.dither else None
    e_lo, e_hi = al.energy_intervals(pl.env_index, pl.num_frames, p)
    lower, upper = al.coefficient_intervals(pl.q, step, dither, e_hi, p)
    return Measurements(
        p, pl.num_samples, pl.bitrate_bps, pl.q, step, dither, lower, upper, pl.env_index, e_lo, e_hi, pl.theta_index
    )


def parse(data: bytes, fill_factor: float | None = None) -> Measurements:
    """Bitstream bytes to Measurements; raises BitstreamError on any damage."""
    kwargs = {} if fill_factor is None else {"fill_factor": fill_factor}
    return measurements_from_payload(parse_payload(data, **kwargs))
