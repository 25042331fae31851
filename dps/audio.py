"""Audio I/O: any file soundfile reads, to 22.05 kHz mono float64; atomic writes."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

SAMPLE_RATE = 22050
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".opus"})


class AudioError(ValueError):
    """An input that is not usable audio; the message names the file and the problem."""


@dataclass
class LoadedAudio:
    audio: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE, quiet: bool = True) -> LoadedAudio:
    """Read, downmix to mono (with a notice) and resample (torchaudio) to sample_rate."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except Exception as exc:  # soundfile raises several types for non-audio input
        raise AudioError(f"{path}: not a readable audio file ({str(exc).splitlines()[0]})") from None
    if data.size == 0:
        raise AudioError(f"{path}: the file holds no samples")
    if not quiet and data.shape[1] > 1:
        print(f"notice: {path}: downmixed {data.shape[1]} channels to mono", file=sys.stderr)
    return LoadedAudio(to_mono(data, rate, sample_rate, str(path)), sample_rate, rate, data.shape[1])


def to_mono(audio: np.ndarray, rate: int, sample_rate: int = SAMPLE_RATE, name: str = "audio") -> np.ndarray:
    """(samples,) or (samples, channels) at rate -> mono float64 at sample_rate (mean downmix, torchaudio resample)."""
    data = np.asarray(audio, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.size == 0:
        raise AudioError(f"{name}: expected a non-empty (samples,) or (samples, channels) array, got {data.shape}")
    if not np.all(np.isfinite(data)):
        raise AudioError(f"{name}: the audio holds NaN or infinite samples")
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate <= 0:
        raise AudioError(f"{name}: expected a positive integer sample rate, got {rate!r}")
    mono = data.mean(axis=1)
    if rate != sample_rate:
        mono = torchaudio.functional.resample(torch.from_numpy(mono), int(rate), sample_rate).numpy()
    return mono


def files_under(folder: Path, suffixes: frozenset[str] = AUDIO_SUFFIXES) -> list[Path]:
    """Files under folder, recursively, with one of the suffixes (any case), in a stable order; hidden files and
    folders are skipped."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
        and not any(s.startswith(".") for s in p.relative_to(folder).parts)
    )


def check_output(path: str | Path, inputs: list[Path], force: bool) -> Path:
    """Refuse to overwrite an input ever, or an existing output without force."""
    out = Path(path)
    for inp in inputs:
        if out.exists() and inp.exists() and os.path.samefile(out, inp):
            raise AudioError(f"{out}: refusing to overwrite the input file")
    if out.exists() and not force:
        raise AudioError(f"{out}: output exists (use --force to overwrite)")
    if out.exists() and out.is_dir():
        raise AudioError(f"{out}: output is a directory")
    return out


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside the target; rename onto the target only if the body succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make every output private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def save_audio(path: str | Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write audio atomically; WAV/FLAC as 16-bit PCM after clipping to [-1, 1]."""
    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}.get(path.suffix.lower())
    if fmt is None:
        raise AudioError(f"{path}: unsupported output format (expected .wav, .flac or .ogg)")
    subtype = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS"}[fmt]
    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.clip(audio, -1.0, 1.0), sample_rate, format=fmt, subtype=subtype)
