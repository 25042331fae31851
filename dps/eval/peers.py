"""Peer codecs at the same bitrates: Opus (opus-tools, hard CBR), AAC (ffmpeg), MP3 (lame), delay-aligned."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from dps.audio import load_audio

INSTALL = "apt-get install opus-tools ffmpeg lame"


class PeerUnavailable(RuntimeError):
    """A peer codec's tool is not installed (the table marks the cell missing with this reason)."""


@dataclass
class PeerResult:
    audio: np.ndarray  # decoded, at the reference's rate and length, delay removed
    bits: int  # size of the coded file
    delay: int  # samples removed (positive: the decoder's output lagged)


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise PeerUnavailable(f"{cmd[0]} not found (install: {INSTALL})")
    proc = subprocess.run(cmd, capture_output=True, timeout=300)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"{cmd[0]} failed: {err[-1] if err else proc.returncode}")


def align(reference: np.ndarray, decoded: np.ndarray, max_lag: int = 4096) -> tuple[np.ndarray, int]:
    """Remove the lag in [-max_lag, max_lag] that maximizes the cross-correlation; pad/trim to the reference."""
    n = reference.size + decoded.size
    size = 1 << int(np.ceil(np.log2(n)))
    xc = np.fft.irfft(np.fft.rfft(decoded, size) * np.conj(np.fft.rfft(reference, size)), size)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    lag = int(lags[np.argmax(xc[lags])])
    y = decoded[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), decoded])
    y = y[: reference.size]
    return np.pad(y, (0, reference.size - y.size)), lag


def _commands(codec: str, kbps: int, wav: Path, coded: Path, out: Path) -> list[list[str]]:
    if codec == "opus":
        return [
            ["opusenc", "--quiet", "--hard-cbr", "--bitrate", str(kbps), str(wav), str(coded)],
            ["opusdec", "--quiet", "--rate", "48000", str(coded), str(out)],
        ]
    if codec == "aac":
        return [
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(wav),
                "-c:a",
                "aac",
                "-b:a",
                f"{kbps}k",
                str(coded),
            ],
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(coded), "-ac", "1", str(out)],
        ]
    if codec == "mp3":
        return [
            ["lame", "--quiet", "--cbr", "-b", str(kbps), str(wav), str(coded)],
            ["lame", "--quiet", "--decode", str(coded), str(out)],
        ]
    raise ValueError(f"peer codec: expected opus, aac or mp3, got {codec!r}")


SUFFIX = {"opus": ".opus", "aac": ".m4a", "mp3": ".mp3"}
PEERS = tuple(SUFFIX)


def peer_roundtrip(codec: str, reference: np.ndarray, kbps: float, sample_rate: int = 22050) -> PeerResult:
    """Encode the reference with a peer codec at kbps, decode, resample back and delay-align."""
    with tempfile.TemporaryDirectory() as tmp:
        wav, coded, out = Path(tmp) / "in.wav", Path(tmp) / f"coded{SUFFIX[codec]}", Path(tmp) / "out.wav"
        sf.write(wav, np.clip(reference, -1, 1), sample_rate, subtype="PCM_16")
        for cmd in _commands(codec, int(round(kbps)), wav, coded, out):
            _run(cmd)
        decoded = load_audio(out, sample_rate).audio
        bits = coded.stat().st_size * 8
    y, lag = align(np.asarray(reference, dtype=np.float64), decoded)
    return PeerResult(y, bits, lag)
