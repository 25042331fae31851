"""Orthonormal MDCT (sine window, 50 % overlap): a lapped orthogonal transform with T T^T = I."""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import torch


def mdct_num_frames(num_samples: int, hop: int) -> int:
    """Frames needed so every sample lies in the TDAC interior (covered by two frames)."""
    return max(1, math.ceil(num_samples / hop)) + 1


@lru_cache(maxsize=16)
def _basis(hop: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """Windowed DCT-IV basis phi_k(n) = w(n) sqrt(2/N) cos(pi/N (n + 1/2 + N/2)(k + 1/2)), (2N, N)."""
    n = torch.arange(2 * hop, dtype=torch.float64)
    k = torch.arange(hop, dtype=torch.float64)
    window = torch.sin(math.pi * (n + 0.5) / (2 * hop))  # Princen-Bradley: w(n)^2 + w(n+N)^2 = 1
    phase = math.pi / hop * (n[:, None] + 0.5 + hop / 2) * (k[None, :] + 0.5)
    basis = window[:, None] * math.sqrt(2.0 / hop) * torch.cos(phase)
    return basis.to(dtype=dtype, device=device)


def quiet_dynamo_basis_warning() -> None:
    """Dynamo warns when it traces through the lru_cache'd basis, window and twiddles (they depend on their arguments
    only, so tracing them is exact), and inductor when it leaves the FFT's complex ops to their eager kernels."""
    warnings.filterwarnings("ignore", message="Dynamo detected a call to a `functools.lru_cache`")
    warnings.filterwarnings("ignore", message="Torchinductor does not support code generation for complex operators")


@lru_cache(maxsize=16)
def _window(hop: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """The sine window w(n) = sin(pi (n + 1/2) / 2N), Princen-Bradley: w(n)^2 + w(n+N)^2 = 1."""
    n = torch.arange(2 * hop, dtype=torch.float64)
    return torch.sin(math.pi * (n + 0.5) / (2 * hop)).to(dtype=dtype, device=device)


@lru_cache(maxsize=16)
def _twiddles(n: int, dtype: torch.dtype, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """DCT-IV by FFT: pre-twiddle exp(-i pi (4k + 1) / 4N) and post-twiddle sqrt(2/N) exp(-i pi k / N)."""
    k = torch.arange(n // 2, dtype=torch.float64)
    pre = torch.polar(torch.ones_like(k), -math.pi * (4 * k + 1) / (4 * n))
    post = torch.polar(torch.full_like(k, math.sqrt(2.0 / n)), -math.pi * k / n)
    ctype = torch.complex128 if dtype == torch.float64 else torch.complex64
    return pre.to(ctype).to(device), post.to(ctype).to(device)


def _dct4(u: torch.Tensor) -> torch.Tensor:
    """Orthonormal DCT-IV, sqrt(2/N) sum_n u_n cos(pi/N (n + 1/2)(k + 1/2)), by an N/2-point complex FFT of
    (u_2n + i u_(N-1-2n)) pre-twiddled; X_2k = Re z_k, X_(N-1-2k) = -Im z_k. It is its own inverse."""
    pre, post = _twiddles(u.shape[-1], u.dtype, str(u.device))
    z = torch.fft.fft(torch.complex(u[..., 0::2], u.flip(-1)[..., 0::2]) * pre) * post
    return torch.stack([z.real, -z.imag.flip(-1)], dim=-1).flatten(-2)


def mdct(x: torch.Tensor, hop: int = 256) -> torch.Tensor:
    """Analysis X = T P x: zero-pad by one hop in front, frame with 50 % overlap, (..., T) -> (..., F, N).

    An even hop folds each windowed frame (a, b, c, d) to (-c_r - d, a - b_r) and takes its DCT-IV by FFT
    (O(N log N); eager on 2 CPU cores, 4 s at hop 256: 1.5-2x faster than the basis matmul in float64, ~1.2x in
    float32); an odd hop multiplies by the basis."""
    num = x.shape[-1]
    frames = mdct_num_frames(num, hop)
    pad_back = (frames + 1) * hop - hop - num
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    xp = torch.nn.functional.pad(work, (hop, pad_back))
    blocks = xp.reshape(*x.shape[:-1], frames + 1, hop)
    if hop % 2:
        framed = torch.cat([blocks[..., :-1, :], blocks[..., 1:, :]], dim=-1)
        return (framed @ _basis(hop, work.dtype, str(x.device))).to(x.dtype)
    # frame f is (blocks[f], blocks[f + 1]): window and fold the halves in place of a (frames, 2N) copy
    w = _window(hop, work.dtype, str(x.device))
    ab, cd = blocks[..., :-1, :] * w[:hop], blocks[..., 1:, :] * w[hop:]
    q = hop // 2
    folded = torch.cat([-cd[..., :q].flip(-1) - cd[..., q:], ab[..., :q] - ab[..., q:].flip(-1)], dim=-1)
    return _dct4(folded).to(x.dtype)


def imdct(coeffs: torch.Tensor, num_samples: int) -> torch.Tensor:
    """Synthesis x = P^T T^T X (overlap-add, crop): the exact adjoint and, on the interior, inverse of mdct."""
    hop = coeffs.shape[-1]
    frames = coeffs.shape[-2]
    if frames != mdct_num_frames(num_samples, hop):
        raise ValueError(
            f"imdct: {frames} frames do not fit {num_samples} samples at hop {hop} "
            f"(expected {mdct_num_frames(num_samples, hop)})"
        )
    work = coeffs if coeffs.dtype in (torch.float32, torch.float64) else coeffs.float()
    if hop % 2:
        framed = work @ _basis(hop, work.dtype, str(coeffs.device)).T
        first, second = framed[..., :hop], framed[..., hop:]
    else:  # the fold's transpose: (v1, v2) -> (v2, -v2_r, -v1_r, -v1), windowed
        w = _window(hop, work.dtype, str(coeffs.device))
        v = _dct4(work)
        v1, v2 = v[..., : hop // 2], v[..., hop // 2 :]
        first = torch.cat([v2, -v2.flip(-1)], dim=-1) * w[:hop]
        second = torch.cat([v1.flip(-1), v1], dim=-1) * -w[hop:]
    pad = torch.nn.functional.pad
    blocks = pad(first, (0, 0, 0, 1)) + pad(second, (0, 0, 1, 0))  # overlap-add of frame halves
    out = blocks.reshape(*coeffs.shape[:-2], (frames + 1) * hop)
    return out[..., hop : hop + num_samples].to(coeffs.dtype)


class MDCT(torch.nn.Module):
    """The orthonormal MDCT as a module, for networks that work in the time-frequency plane."""

    def __init__(self, hop: int = 256) -> None:
        super().__init__()
        self.hop = hop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mdct(x, self.hop)

    def inverse(self, coeffs: torch.Tensor, num_samples: int) -> torch.Tensor:
        return imdct(coeffs, num_samples)
