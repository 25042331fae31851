"""Band envelope quantization and bit allocation, computed identically by encoder and decoder."""

from __future__ import annotations

import numpy as np

from dps.codec.params import CodecParams

ENV_MIN_DB = -120.0  # the lowest envelope index means "at most this loud" (lower energy bound 0)
ENV_MAX_DB = 48.0  # the highest means "at least this loud" (upper bound infinite)
THETA_LEVELS = 256
THETA_MIN_DB = -130.0
R8_MAX = 88  # allotted resolution capped at 11 bits so indices stay within the coder's range
REL_SLACK = 1e-9  # intervals widened by this relative amount to absorb float rounding


def env_index_range(p: CodecParams) -> tuple[int, int]:
    return int(np.floor(ENV_MIN_DB / p.env_step_db)), int(np.ceil(ENV_MAX_DB / p.env_step_db))


def num_groups(num_frames: int, p: CodecParams) -> int:
    return -(-num_frames // p.env_group)


def group_of_frame(num_frames: int, p: CodecParams) -> np.ndarray:
    return np.arange(num_frames) // p.env_group


def group_counts(num_frames: int, p: CodecParams) -> np.ndarray:
    """Number of coefficients behind each envelope value, (groups, bands)."""
    frames_in_group = np.bincount(group_of_frame(num_frames, p), minlength=num_groups(num_frames, p))
    return frames_in_group[:, None] * p.band_sizes[None, :]


def band_group_energy(coeffs: np.ndarray, p: CodecParams) -> np.ndarray:
    """P[g, b] = sum over the band's bins and the group's frames of X^2."""
    per_frame = np.add.reduceat(coeffs**2, p.band_edges[:-1], axis=1)
    starts = np.arange(0, coeffs.shape[0], p.env_group)
    return np.add.reduceat(per_frame, starts, axis=0)


def quantize_envelope(coeffs: np.ndarray, p: CodecParams) -> np.ndarray:
    """i_E = round(10 log10(mean X^2) / step), clipped to the index range."""
    energy = band_group_energy(coeffs, p)
    mean = energy / group_counts(coeffs.shape[0], p)
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(mean)
    lo, hi = env_index_range(p)
    idx = np.floor(db / p.env_step_db + 0.5)
    return np.clip(np.nan_to_num(idx, neginf=lo), lo, hi).astype(np.int32)


def envelope_db(env_index: np.ndarray, p: CodecParams) -> np.ndarray:
    return env_index.astype(np.float64) * p.env_step_db


def energy_intervals(env_index: np.ndarray, num_frames: int, p: CodecParams) -> tuple[np.ndarray, np.ndarray]:
    """[P_lo, P_hi] = n * 10^((E_hat -/+ step/2)/10): what the envelope says about each band energy."""
    lo_idx, hi_idx = env_index_range(p)
    counts = group_counts(num_frames, p)
    e = envelope_db(env_index, p)
    lower = counts * 10.0 ** ((e - p.env_step_db / 2) / 10.0) * (1 - REL_SLACK)
    upper = counts * 10.0 ** ((e + p.env_step_db / 2) / 10.0) * (1 + REL_SLACK)
    lower = np.where(env_index <= lo_idx, 0.0, lower)
    upper = np.where(env_index >= hi_idx, np.inf, upper)
    return lower, upper


def theta_db(theta_index: np.ndarray, p: CodecParams) -> np.ndarray:
    return THETA_MIN_DB + theta_index.astype(np.float64) * p.theta_step_db


def allocation_r8(env_index: np.ndarray, theta_index: np.ndarray, p: CodecParams) -> np.ndarray:
    """Water-filling r = max(0, (alpha E_hat + tilt b - theta_t) / 6.02) in eighths of a bit, (frames, bands)."""
    num_frames = theta_index.shape[0]
    e = envelope_db(env_index, p)[group_of_frame(num_frames, p)]
    tilt = p.alloc_tilt_db * (p.num_bands - 1 - np.arange(p.num_bands))
    margin = p.alloc_alpha * e + tilt[None, :] - theta_db(theta_index, p)[:, None]
    r8 = np.floor(margin / 6.02 * 8.0)
    r8 = np.where(r8 < p.r_min * 8.0, 0.0, np.minimum(r8, R8_MAX))
    lo_idx, _ = env_index_range(p)
    r8 = np.where(env_index[group_of_frame(num_frames, p)] <= lo_idx, 0.0, r8)
    return r8.astype(np.int32)


def step_sizes(env_index: np.ndarray, r8: np.ndarray, p: CodecParams) -> np.ndarray:
    """Delta[t, b] = g[b, t] 2^-r with g the decoded band RMS; inf where the band is uncoded."""
    num_frames = r8.shape[0]
    g = 10.0 ** (envelope_db(env_index, p)[group_of_frame(num_frames, p)] / 20.0)
    step = g * 2.0 ** (-r8 / 8.0)
    return np.where(r8 > 0, step, np.inf)


def model_scales(r8_per_coef: np.ndarray, p: CodecParams) -> np.ndarray:
    """Laplace scale b = c 2^r / sqrt(2): an index of RMS 2^r, the coder's parametric model."""
    return p.coef_scale * 2.0 ** (r8_per_coef / 8.0) / np.sqrt(2.0)


def dither_values(shape: tuple[int, int], p: CodecParams) -> np.ndarray:
    """Subtractive dither in units of the step, U(-1/2, 1/2), reproducible from the header's seed."""
    rng = np.random.Generator(np.random.PCG64(p.dither_seed))
    return rng.random(shape) - 0.5


def quantize(coeffs: np.ndarray, step: np.ndarray, dither: np.ndarray | None, p: CodecParams) -> np.ndarray:
    """Mid-tread uniform quantizer with optional dead zone: q = sign(v) max(0, floor(|v| + 1/2 - dz))."""
    with np.errstate(invalid="ignore", divide="ignore"):
        v = coeffs / step
        if dither is not None:
            v = v + dither
        q = np.sign(v) * np.maximum(0.0, np.floor(np.abs(v) + 0.5 - p.deadzone))
    return np.where(np.isfinite(step), q, 0.0).astype(np.int32)


def coefficient_intervals(
    q: np.ndarray, step: np.ndarray, dither: np.ndarray | None, energy_upper: np.ndarray, p: CodecParams
) -> tuple[np.ndarray, np.ndarray]:
    """X in [Delta(q - 1/2 + dz) - d, Delta(q + 1/2 + dz) - d] (signed by q); |X| <= sqrt(P_hi) if uncoded."""
    dz = p.deadzone
    qf = q.astype(np.float64)
    lo_v = np.where(q > 0, qf - 0.5 + dz, np.where(q < 0, qf - 0.5 - dz, -0.5 - dz))
    hi_v = np.where(q > 0, qf + 0.5 + dz, np.where(q < 0, qf + 0.5 - dz, 0.5 + dz))
    if dither is not None:
        lo_v = lo_v - dither
        hi_v = hi_v - dither
    coded = np.isfinite(step)
    safe = np.where(coded, step, 0.0)
    slack = REL_SLACK * safe * (np.abs(qf) + 1.0)
    lower = lo_v * safe - slack
    upper = hi_v * safe + slack
    num_frames = q.shape[0]
    bound = np.sqrt(energy_upper)[group_of_frame(num_frames, p)][:, p.band_of_bin] * (1 + REL_SLACK)
    lower = np.where(coded, lower, -bound)
    upper = np.where(coded, upper, bound)
    return lower, upper


def dequantize(q: np.ndarray, step: np.ndarray, dither: np.ndarray | None, p: CodecParams) -> np.ndarray:
    """Interval midpoints: X_hat = Delta (q + sign(q) dz) - Delta d, zero where uncoded."""
    qf = q.astype(np.float64)
    v = qf + np.sign(qf) * p.deadzone
    if dither is not None:
        v = v - dither
    return np.where(np.isfinite(step), v * np.where(np.isfinite(step), step, 0.0), 0.0)
