"""Unconditional samples of a prior, as audio and spectrogram images, for validation logging."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from dps.prior.denoiser import Denoiser
from dps.prior.schedule import NoiseSchedule


def unconditional_samples(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    n: int,
    length: int,
    levels: int = 50,
    steps_per_level: int = 2,
    seed: int = 0,
) -> torch.Tensor:
    """Annealed Langevin from N(0, sigma_max^2) with the prior alone (temperature 1)."""
    from dps.sampler.langevin import sample

    device = next(denoiser.parameters()).device
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, length, generator=g) * schedule.sigma_max).to(device)
    sigmas = schedule.levels(levels)
    out, _ = sample(
        denoiser.score,
        x,
        sigmas,
        None,
        steps_per_level=steps_per_level,
        step_size=0.5,
        temperature=1.0,
        generator=g,
        final_denoise=True,
    )
    return out.detach().float().cpu()


def spectrogram_image(x: np.ndarray, n_fft: int = 512, hop: int = 128, floor_db: float = -80.0) -> np.ndarray:
    """Log-magnitude STFT as an 8-bit image, low frequencies at the bottom, 0 dB = the loudest bin."""
    x = np.asarray(x, dtype=np.float64)
    frames = 1 + max(0, (x.size - n_fft) // hop)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(np.pad(x, (0, n_fft))[idx] * np.hanning(n_fft), axis=1)) ** 2
    db = 10 * np.log10(spec + 1e-20)
    db = np.clip(db - db.max(), floor_db, 0.0)
    return np.flipud(((db - floor_db) / -floor_db * 255).astype(np.uint8).T).copy()


def png_bytes(image: np.ndarray) -> bytes:
    """A grayscale 8-bit PNG (no imaging library needed)."""
    h, w = image.shape
    raw = b"".join(b"\x00" + image[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    return png + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def write_png(path: str | Path, image: np.ndarray) -> None:
    Path(path).write_bytes(png_bytes(image))
