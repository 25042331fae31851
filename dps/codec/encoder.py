"""The encoder: envelope, rate-controlled allocation, scalar quantization, entropy coding."""

from __future__ import annotations

import numpy as np
import torch

from dps.codec import allocation as al
from dps.codec import bitstream as bs
from dps.codec.params import CodecParams, check_bitrate
from dps.codec.ratecontrol import coefficient_bits_per_frame, laplace_bits
from dps.dsp.mdct import mdct

THETA_BITS_PER_FRAME = 0.05  # the per-frame offsets mostly repeat: near-free after delta coding


def analyze(audio: np.ndarray, p: CodecParams) -> np.ndarray:
    """MDCT coefficients (frames, hop) in float64."""
    return mdct(torch.from_numpy(np.asarray(audio, dtype=np.float64)), p.hop).numpy()


def _envelope_side(env_index: np.ndarray, p: CodecParams) -> tuple[tuple[int, int, int, int], float]:
    """Per-context Laplace scales (header codes) and the envelope's ideal cost in bits."""
    res = bs.envelope_residuals(env_index, p)
    ctx = bs.envelope_contexts(res)
    codes = []
    for c in range(4):
        sel = np.abs(res[ctx == c])
        codes.append(bs.scale_code(max(float(sel.mean()) if sel.size else 0.5, 0.08)))
    scales = bs.env_scales_from_codes(tuple(codes))
    bits = float(laplace_bits(res, scales[ctx]).sum())
    return tuple(codes), bits  # type: ignore[return-value]


def _search_theta(coeffs, env_index, dither, p, budget_bits) -> np.ndarray:
    """Bisection for the lowest offset whose bits fit, then a prefix of frames one step finer to fill up."""
    frames = coeffs.shape[0]

    def bits_at(j: int) -> np.ndarray:
        return coefficient_bits_per_frame(coeffs, env_index, np.full(frames, j), dither, p)

    lo, hi = 0, al.THETA_LEVELS - 1  # bits decrease as the offset rises
    if bits_at(hi).sum() > budget_bits:
        return np.full(frames, hi, dtype=np.int32)
    while lo < hi:
        mid = (lo + hi) // 2
        if bits_at(mid).sum() <= budget_bits:
            hi = mid
        else:
            lo = mid + 1
    theta = np.full(frames, lo, dtype=np.int32)
    if lo == 0:
        return theta
    base = bits_at(lo)
    extra = bits_at(lo - 1) - base
    room = budget_bits - base.sum()
    m = int(np.searchsorted(np.cumsum(extra), room, side="right"))
    theta[:m] = lo - 1
    return theta


def encode_payload(audio: np.ndarray, bitrate_kbps: float, params: CodecParams | None = None) -> bs.Payload:
    """Quantize a 1-D signal at the codec's sample rate to a Payload meeting the target bitrate."""
    kbps = check_bitrate(bitrate_kbps)
    p = bs.canonical_params(params or CodecParams())
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"audio: expected a non-empty 1-D signal, got shape {audio.shape}")
    coeffs = analyze(audio, p)
    env_index = al.quantize_envelope(coeffs, p)
    codes, env_bits = _envelope_side(env_index, p)
    dither = al.dither_values(coeffs.shape, p) if p.dither else None
    frames = coeffs.shape[0]
    n_blocks = -(-frames // p.block_frames)
    target_bits = kbps * 1000.0 * audio.size / p.sample_rate
    template = bs.Payload(
        p,
        audio.size,
        int(round(kbps * 1000)),
        codes,
        env_index,
        np.zeros(frames, np.int32),
        np.zeros((frames, p.hop), np.int32),
    )
    header_bits = 8 * len(bs._pack_header(template))
    overhead = header_bits + n_blocks * (8 * bs._BLOCK_HEAD.size + 16) + env_bits + THETA_BITS_PER_FRAME * frames
    budget = target_bits - overhead
    payload = template
    for _ in range(3):  # correct the model-vs-coder mismatch with the measured size
        theta = _search_theta(coeffs, env_index, dither, p, max(budget, 0.0))
        r8 = al.allocation_r8(env_index, theta, p)
        step = al.step_sizes(env_index, r8, p)[:, p.band_of_bin]
        q = al.quantize(coeffs, step, dither, p)
        payload = bs.Payload(p, audio.size, template.bitrate_bps, codes, env_index, theta, q)
        actual = 8 * len(bs.serialize(payload))
        if abs(actual - target_bits) <= 0.01 * target_bits:
            break
        budget += target_bits - actual
    return payload


def encode(audio: np.ndarray, bitrate_kbps: float, params: CodecParams | None = None) -> bytes:
    """Encode a 1-D signal at the codec's sample rate to .dps bytes."""
    return bs.serialize(encode_payload(audio, bitrate_kbps, params))
