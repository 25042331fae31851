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
    """Dynamo warns when it traces through the lru_cache'd basis; the basis depends on its arguments only, so
    tracing it is exact."""
    warnings.filterwarnings("ignore", message="Dynamo detected a call to a `functools.lru_cache`")


def mdct(x: torch.Tensor, hop: int = 256) -> torch.Tensor:
    """Analysis X = T P x: zero-pad by one hop in front, frame with 50 % overlap, (..., T) -> (..., F, N)."""
    num = x.shape[-1]
    frames = mdct_num_frames(num, hop)
    pad_back = (frames + 1) * hop - hop - num
    xp = torch.nn.functional.pad(x, (hop, pad_back))
    blocks = xp.reshape(*x.shape[:-1], frames + 1, hop)
    framed = torch.cat([blocks[..., :-1, :], blocks[..., 1:, :]], dim=-1)
    return framed @ _basis(hop, x.dtype, str(x.device))


def imdct(coeffs: torch.Tensor, num_samples: int) -> torch.Tensor:
    """Synthesis x = P^T T^T X (overlap-add, crop): the exact adjoint and, on the interior, inverse of mdct."""
    hop = coeffs.shape[-1]
    frames = coeffs.shape[-2]
    if frames != mdct_num_frames(num_samples, hop):
        raise ValueError(
            f"imdct: {frames} frames do not fit {num_samples} samples at hop {hop} "
            f"(expected {mdct_num_frames(num_samples, hop)})"
        )
    framed = coeffs @ _basis(hop, coeffs.dtype, str(coeffs.device)).T
    first, second = framed[..., :hop], framed[..., hop:]
    zeros = torch.zeros_like(first[..., :1, :])
    blocks = torch.cat([first, zeros], dim=-2) + torch.cat([zeros, second], dim=-2)
    out = blocks.reshape(*coeffs.shape[:-2], (frames + 1) * hop)
    return out[..., hop : hop + num_samples]


class MDCT(torch.nn.Module):
    """The orthonormal MDCT as a module, for networks that work in the time-frequency plane."""

    def __init__(self, hop: int = 256) -> None:
        super().__init__()
        self.hop = hop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mdct(x, self.hop)

    def inverse(self, coeffs: torch.Tensor, num_samples: int) -> torch.Tensor:
        return imdct(coeffs, num_samples)
