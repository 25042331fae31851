"""One output from K posterior chains: their waveform mean, or a power mean in the bins the bitstream leaves uncoded."""

from __future__ import annotations

import numpy as np
import torch

from dps.codec.measurements import Measurements
from dps.dsp.mdct import imdct, mdct

AVERAGES = ("waveform", "power")


def combine_chains(chains: np.ndarray, m: Measurements, average: str = "waveform") -> np.ndarray:
    """(K, T) chains -> (T,). waveform: the mean, a Monte Carlo E[x | y]. power: in the MDCT domain the coded bins'
    mean, and in the uncoded ones |X| = sqrt(mean_k X_k^2), the posterior mean power E[X^2 | y], with the first
    chain's signs (where chains disagree, a waveform mean cancels the level that ViSQOL scores there)."""
    if average not in AVERAGES:
        raise ValueError(f"sample_average: expected one of {', '.join(AVERAGES)}, got {average!r}")
    if average == "waveform" or chains.shape[0] == 1:
        return chains.mean(0)
    coeffs = mdct(torch.from_numpy(chains), m.params.hop).numpy()  # (K, frames, hop)
    sign = np.where(coeffs[0] < 0, -1.0, 1.0)
    power = sign * np.sqrt((coeffs**2).mean(0))
    return imdct(torch.from_numpy(np.where(m.coded, coeffs.mean(0), power)), m.num_samples).numpy()
