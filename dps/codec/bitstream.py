"""The .dps container: a CRC-protected header and CRC-protected blocks of range-coded indices."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import constriction
import numpy as np

from dps.codec import allocation as al
from dps.codec.params import CodecParams
from dps.dsp.mdct import mdct_num_frames

MAGIC = b"DPSC"
VERSION = 1
MAX_SAMPLES = 1 << 31
COEF_RANGE = (1 << 15) - 1
THETA_INIT = 128
THETA_DELTA_SCALE = 0.3
_BLOCK_HEAD = struct.Struct("<II")


class BitstreamError(ValueError):
    """A .dps stream that is damaged, truncated, or not a .dps stream at all."""


@dataclass
class Payload:
    """Every syntax element of a stream: what parse returns and serialize writes back byte for byte."""

    params: CodecParams
    num_samples: int
    bitrate_bps: int
    env_scale_codes: tuple[int, int, int, int]
    env_index: np.ndarray  # (groups, bands) int32
    theta_index: np.ndarray  # (frames,) int32
    q: np.ndarray  # (frames, hop) int32, zero where uncoded

    @property
    def num_frames(self) -> int:
        return mdct_num_frames(self.num_samples, self.params.hop)


def _scale_from_code(code: int) -> float:
    return float(2.0 ** ((code - 128) / 16.0))


def scale_code(scale: float) -> int:
    """Laplace scales go in the header as u8 codes on a 1/16-octave grid."""
    return int(np.clip(np.round(16.0 * np.log2(max(scale, 1e-6)) + 128), 0, 255))


# ---- header -------------------------------------------------------------------------------------


def _pack_header(pl: Payload) -> bytes:
    p = pl.params
    head = struct.pack(
        "<4sBBIHB",
        MAGIC,
        VERSION,
        int(p.dither),
        p.sample_rate,
        p.hop,
        len(p.band_widths),
    )
    head += struct.pack(f"<{len(p.band_widths)}H", *p.band_widths)
    head += struct.pack(
        "<HBHHhBHBHIQI4B",
        round(p.env_step_db * 100),
        p.env_group,
        round(p.theta_step_db * 100),
        round(p.alloc_alpha * 1000),
        round(p.alloc_tilt_db * 100),
        round(p.r_min * 8),
        round(p.deadzone * 1000),
        scale_code(p.coef_scale),
        p.block_frames,
        p.dither_seed,
        pl.num_samples,
        pl.bitrate_bps,
        *pl.env_scale_codes,
    )
    return head + struct.pack("<I", zlib.crc32(head))


def canonical_params(p: CodecParams) -> CodecParams:
    """The parameters as the header stores them, so the encoder uses exactly what the decoder reads."""
    return p.replace(
        env_step_db=round(p.env_step_db * 100) / 100,
        theta_step_db=round(p.theta_step_db * 100) / 100,
        alloc_alpha=round(p.alloc_alpha * 1000) / 1000,
        alloc_tilt_db=round(p.alloc_tilt_db * 100) / 100,
        r_min=round(p.r_min * 8) / 8,
        deadzone=round(p.deadzone * 1000) / 1000,
        coef_scale=_scale_from_code(scale_code(p.coef_scale)),
    )


def _unpack_header(data: bytes, fill_factor: float) -> tuple[Payload, int]:
    try:
        magic, version, flags, sr, hop, nb = struct.unpack_from("<4sBBIHB", data, 0)
    except struct.error:
        raise BitstreamError(f"not a .dps stream: {len(data)} bytes is shorter than a header") from None
    if magic != MAGIC:
        raise BitstreamError(f"not a .dps stream: magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise BitstreamError(f"unsupported .dps version {version}, this decoder reads version {VERSION}")
    off = struct.calcsize("<4sBBIHB")
    rest = struct.Struct("<HBHHhBHBHIQI4B")
    end = off + 2 * nb + rest.size
    if len(data) < end + 4:
        raise BitstreamError("truncated .dps stream: the header is incomplete")
    (crc,) = struct.unpack_from("<I", data, end)
    if zlib.crc32(data[:end]) != crc:
        raise BitstreamError("damaged .dps stream: header checksum mismatch")
    widths = struct.unpack_from(f"<{nb}H", data, off)
    v = rest.unpack_from(data, off + 2 * nb)
    try:
        params = CodecParams(
            sample_rate=sr,
            hop=hop,
            band_widths=tuple(widths),
            env_step_db=v[0] / 100,
            env_group=v[1],
            theta_step_db=v[2] / 100,
            alloc_alpha=v[3] / 1000,
            alloc_tilt_db=v[4] / 100,
            r_min=v[5] / 8,
            deadzone=v[6] / 1000,
            coef_scale=_scale_from_code(v[7]),
            block_frames=v[8],
            dither=bool(flags & 1),
            dither_seed=v[9],
            fill_factor=fill_factor,
        )
        params.validate()
    except (ValueError, TypeError) as exc:
        raise BitstreamError(f"invalid .dps header: {exc}") from None
    num_samples, bitrate = v[10], v[11]
    if not 0 < num_samples <= MAX_SAMPLES:
        raise BitstreamError(f"invalid .dps header: sample count {num_samples} out of range")
    pl = Payload(
        params,
        int(num_samples),
        int(bitrate),
        tuple(v[12:16]),  # type: ignore[arg-type]
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
    )
    return pl, end + 4


# ---- entropy coding of one block ---------------------------------------------------------------


def _laplace(lo: int, hi: int) -> constriction.stream.model.QuantizedLaplace:
    return constriction.stream.model.QuantizedLaplace(lo, hi)


def envelope_residuals(env_index: np.ndarray, p: CodecParams) -> np.ndarray:
    """DPCM residual e[g,b] = i[g,b] - i[g-1,b] - floor((i[g,b-1] - i[g-1,b-1]) / 2)."""
    prev = np.vstack([np.full((1, env_index.shape[1]), _env_init(p)), env_index[:-1]])
    dt = env_index - prev
    res = dt.copy()
    res[:, 1:] = dt[:, 1:] - (dt[:, :-1] // 2)
    return res.astype(np.int32)


def _env_init(p: CodecParams) -> int:
    return int(round(-30.0 / p.env_step_db))


def envelope_from_residuals(res: np.ndarray, prev_row: np.ndarray) -> np.ndarray:
    """Inverse of envelope_residuals given the group before the first one."""
    groups, bands = res.shape
    dt = np.zeros_like(res)
    dt[:, 0] = res[:, 0]
    for b in range(1, bands):
        dt[:, b] = res[:, b] + dt[:, b - 1] // 2
    return prev_row[None, :] + np.cumsum(dt, axis=0)


def envelope_contexts(res: np.ndarray) -> np.ndarray:
    """Context of each residual: 3 for the first band, else min(|residual of the band below|, 2)."""
    ctx = np.full(res.shape, 3, dtype=np.int64)
    ctx[:, 1:] = np.minimum(np.abs(res[:, :-1]), 2)
    return ctx


def env_scales_from_codes(codes: tuple[int, ...]) -> np.ndarray:
    return np.array([_scale_from_code(c) for c in codes])


def coded_mask(r8: np.ndarray, p: CodecParams) -> np.ndarray:
    return (r8 > 0)[:, p.band_of_bin]


def _encode_block(
    enc, pl: Payload, res: np.ndarray, env_scales: np.ndarray, theta_prev: int, frames: slice, r8: np.ndarray
) -> None:
    p = pl.params
    lo, hi = al.env_index_range(p)
    ctx = envelope_contexts(res)
    span = hi - lo
    for b in range(res.shape[1]):
        enc.encode(
            res[:, b].astype(np.int32), _laplace(-2 * span, 2 * span), np.zeros(res.shape[0]), env_scales[ctx[:, b]]
        )
    th = pl.theta_index[frames]
    delta = np.diff(np.concatenate([[theta_prev], th])).astype(np.int32)
    enc.encode(delta, _laplace(-255, 255), np.zeros(len(delta)), np.full(len(delta), THETA_DELTA_SCALE))
    mask = coded_mask(r8[frames], p)
    symbols = pl.q[frames][mask]
    if symbols.size:
        scales = al.model_scales(np.repeat(r8[frames], p.band_sizes, axis=1)[mask], p)
        enc.encode(symbols.astype(np.int32), _laplace(-COEF_RANGE, COEF_RANGE), np.zeros(symbols.size), scales)


def serialize(pl: Payload) -> bytes:
    """Write a Payload as a .dps stream: header, then per block (length, crc32, range-coded words)."""
    p = pl.params
    if np.abs(pl.q).max(initial=0) > COEF_RANGE:
        raise ValueError("quantization index beyond the coder's range")
    out = [_pack_header(pl)]
    res_all = envelope_residuals(pl.env_index, p)
    env_scales = env_scales_from_codes(pl.env_scale_codes)
    r8 = al.allocation_r8(pl.env_index, pl.theta_index, p)
    theta_prev = THETA_INIT
    gpb = p.block_frames // p.env_group
    for start in range(0, pl.num_frames, p.block_frames):
        frames = slice(start, min(start + p.block_frames, pl.num_frames))
        g0 = start // p.env_group
        enc = constriction.stream.queue.RangeEncoder()
        _encode_block(enc, pl, res_all[g0 : g0 + gpb], env_scales, theta_prev, frames, r8)
        theta_prev = int(pl.theta_index[frames.stop - 1])
        words = enc.get_compressed().astype("<u4").tobytes()
        out.append(_BLOCK_HEAD.pack(len(words), zlib.crc32(words)) + words)
    return b"".join(out)


def parse_payload(data: bytes, fill_factor: float = CodecParams.fill_factor) -> Payload:
    """Read a .dps stream; any damage raises BitstreamError, never anything else."""
    try:
        return _parse(bytes(data), fill_factor)
    except BitstreamError:
        raise
    except Exception as exc:  # a CRC-valid but inconsistent stream must still fail cleanly
        raise BitstreamError(f"damaged .dps stream: {type(exc).__name__}: {exc}") from None


def _parse(data: bytes, fill_factor: float) -> Payload:
    pl, off = _unpack_header(data, fill_factor)
    p = pl.params
    frames_total = pl.num_frames
    n_blocks = -(-frames_total // p.block_frames)
    if n_blocks * _BLOCK_HEAD.size > len(data) - off:
        raise BitstreamError(f"truncated .dps stream: {n_blocks} blocks announced, {len(data) - off} bytes left")
    lo, hi = al.env_index_range(p)
    span = hi - lo
    env_scales = env_scales_from_codes(pl.env_scale_codes)
    groups_total = al.num_groups(frames_total, p)
    env = np.zeros((groups_total, p.num_bands), dtype=np.int32)
    theta = np.zeros(frames_total, dtype=np.int32)
    q = np.zeros((frames_total, p.hop), dtype=np.int32)
    prev_row = np.full(p.num_bands, _env_init(p), dtype=np.int64)
    theta_prev = THETA_INIT
    for blk in range(n_blocks):
        if len(data) < off + _BLOCK_HEAD.size:
            raise BitstreamError(f"truncated .dps stream: block {blk + 1} of {n_blocks} is missing")
        nbytes, crc = _BLOCK_HEAD.unpack_from(data, off)
        off += _BLOCK_HEAD.size
        if nbytes % 4 or off + nbytes > len(data):
            raise BitstreamError(f"truncated .dps stream: block {blk + 1} of {n_blocks} is cut short")
        words = data[off : off + nbytes]
        off += nbytes
        if zlib.crc32(words) != crc:
            raise BitstreamError(f"damaged .dps stream: block {blk + 1} of {n_blocks} checksum mismatch")
        dec = constriction.stream.queue.RangeDecoder(np.frombuffer(words, dtype="<u4").astype(np.uint32))
        f0 = blk * p.block_frames
        f1 = min(f0 + p.block_frames, frames_total)
        g0, g1 = f0 // p.env_group, al.num_groups(f1, p)
        res = np.zeros((g1 - g0, p.num_bands), dtype=np.int64)
        for b in range(p.num_bands):
            ctx = np.full(g1 - g0, 3) if b == 0 else np.minimum(np.abs(res[:, b - 1]), 2)
            res[:, b] = dec.decode(_laplace(-2 * span, 2 * span), np.zeros(g1 - g0), env_scales[ctx])
        block_env = envelope_from_residuals(res, prev_row)
        if block_env.min() < lo or block_env.max() > hi:
            raise BitstreamError(f"damaged .dps stream: envelope index out of range in block {blk + 1}")
        env[g0:g1] = block_env
        prev_row = block_env[-1]
        delta = dec.decode(_laplace(-255, 255), np.zeros(f1 - f0), np.full(f1 - f0, THETA_DELTA_SCALE))
        th = theta_prev + np.cumsum(delta)
        if th.min() < 0 or th.max() >= al.THETA_LEVELS:
            raise BitstreamError(f"damaged .dps stream: rate offset out of range in block {blk + 1}")
        theta[f0:f1] = th
        theta_prev = int(th[-1])
        r8 = al.allocation_r8(env[g0:g1], theta[f0:f1], p)
        mask = coded_mask(r8, p)
        n = int(mask.sum())
        if n:
            scales = al.model_scales(np.repeat(r8, p.band_sizes, axis=1)[mask], p)
            block_q = np.zeros((f1 - f0, p.hop), dtype=np.int32)
            block_q[mask] = dec.decode(_laplace(-COEF_RANGE, COEF_RANGE), np.zeros(n), scales)
            q[f0:f1] = block_q
    if off != len(data):
        raise BitstreamError(f"damaged .dps stream: {len(data) - off} unexpected trailing bytes")
    pl.env_index, pl.theta_index, pl.q = env, theta, q
    return pl


def bit_budget(data: bytes) -> dict[str, float]:
    """Where a stream's bits go: header, block framing, envelope, rate offsets, coefficients."""
    from dps.codec.ratecontrol import laplace_bits

    pl = parse_payload(data)
    p = pl.params
    res = envelope_residuals(pl.env_index, p)
    env_bits = float(laplace_bits(res, env_scales_from_codes(pl.env_scale_codes)[envelope_contexts(res)]).sum())
    delta = np.diff(np.concatenate([[THETA_INIT], pl.theta_index]))
    theta_bits = float(laplace_bits(delta, np.full(delta.shape, THETA_DELTA_SCALE)).sum())
    header_bits = 8.0 * len(_pack_header(pl))
    n_blocks = -(-pl.num_frames // p.block_frames)
    framing = 8.0 * _BLOCK_HEAD.size * n_blocks
    total = 8.0 * len(data)
    coef = total - header_bits - framing - env_bits - theta_bits
    return {
        "total": total,
        "header": header_bits,
        "framing": framing,
        "envelope": env_bits,
        "offsets": theta_bits,
        "coefficients": coef,
        "side_share": (total - coef) / total,
    }
