"""The Python API: `load_decoder(...).decode(...)`, `encode(...)` and `load_prior(...)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dps.audio import SAMPLE_RATE, load_audio, to_mono
from dps.codec import Measurements, check_bitrate, decode_legacy, load_codec_params, parse
from dps.codec import encode as encode_at_codec_rate

if TYPE_CHECKING:
    from dps.prior.export import Prior
    from dps.sampler.decoder import DecodeSettings

Source = bytes | str | Path | np.ndarray | Measurements


@dataclass
class Decoded:
    """A decoded waveform (mono float64 at sample_rate) with the decoder's stats and, for audio input, the
    reference it encoded."""

    audio: np.ndarray
    sample_rate: int
    stats: dict[str, Any] = field(default_factory=dict)
    reference: np.ndarray | None = None
    bitstream: bytes | None = None


def encode(audio: np.ndarray, rate: int, bitrate: float = 16.0, codec_config: str | Path | None = None) -> bytes:
    """Encode audio ((samples,) or (samples, channels) at any rate) to a .dps bitstream at `bitrate` kb/s."""
    params = load_codec_params(codec_config)
    return encode_at_codec_rate(to_mono(audio, rate, params.sample_rate), check_bitrate(bitrate), params)


def load_prior(name_or_path: str | Path, device: str = "cpu") -> Prior:
    """A shipped prior by name (speech, piano, music, joint, ...; auto: the all-round prior for unknown content) or
    an exported .safetensors prior file."""
    from dps.prior.export import load_prior as load_file
    from dps.prior.registry import resolve_prior

    return load_file(resolve_prior(str(name_or_path)), device)


class Decoder:
    """Decodes bitstreams, or audio it first encodes, by posterior sampling with a prior (or the legacy decoder)."""

    def __init__(
        self,
        prior: Prior | None,
        settings: DecodeSettings | None = None,
        device: str = "cpu",
        fill: float | None = None,
    ) -> None:
        self.fill = fill
        self.posterior = None
        if prior is not None:
            from dps.sampler.decoder import PosteriorDecoder

            self.posterior = PosteriorDecoder(prior, settings, device)
        self.device = device if prior is not None else "cpu"

    @property
    def name(self) -> str:
        return "legacy" if self.posterior is None else "dps"

    @property
    def steps(self) -> int:
        """Sampler steps of one decode (0 for the legacy decoder): a progress bar's total."""
        st = self.posterior.settings if self.posterior is not None else None
        return 0 if st is None else st.levels * st.steps_per_level

    def decode(
        self,
        source: Source,
        rate: int | None = None,
        bitrate: float = 16.0,
        seed: int = 0,
        codec_config: str | Path | None = None,
        progress: Any = None,
    ) -> Decoded:
        """Decode a bitstream (bytes, a .dps path or parsed Measurements), or audio (an array with `rate`, or an
        audio file) encoded first at `bitrate` kb/s; returns the audio at the codec's rate and the stats."""
        reference, data = None, None
        if isinstance(source, Measurements):
            m = source
        else:
            if isinstance(source, bytes):
                data = source
            elif isinstance(source, np.ndarray):
                if rate is None:
                    raise ValueError("decode: an audio array needs its sample rate (rate=...)")
                params = load_codec_params(codec_config)
                reference = to_mono(source, rate, params.sample_rate)
                data = encode_at_codec_rate(reference, check_bitrate(bitrate), params)
            else:
                path = Path(source)
                if path.suffix == ".dps":
                    if not path.is_file():
                        raise FileNotFoundError(f"{path}: no such file")
                    data = path.read_bytes()
                else:
                    params = load_codec_params(codec_config)
                    reference = load_audio(path, params.sample_rate, quiet=False).audio
                    data = encode_at_codec_rate(reference, check_bitrate(bitrate), params)
            m = parse(data)
        stats: dict[str, Any] = {"decoder": self.name, "device": self.device}
        if data is not None:
            stats["bitrate_kbps"] = len(data) * 8 / m.duration_s / 1000
        if self.posterior is None:
            audio = decode_legacy(m, fill_factor=self.fill, seed=seed)
        else:
            audio, sampler_stats = self.posterior.decode(m, seed=seed, progress=progress)
            stats.update(sampler_stats, prior=self.posterior.prior.content)
        return Decoded(np.asarray(audio), m.sample_rate, stats, reference, data)


def load_decoder(
    prior: str | Path | None = "speech",
    preset: str | Path = "fast",
    device: str = "auto",
    fill: float | None = None,
    **settings: Any,
) -> Decoder:
    """A posterior decoder: a shipped prior's name or a prior file, a preset (fast, fast4, paper, paper_lean or a
    YAML) and setting overrides (e.g. conditioning="tweedie"); prior=None gives the legacy decoder (dequantize + noise
    fill).
    device: auto (a CUDA GPU when present), cpu, cuda or cuda:N."""
    from dps.cli.common import resolve_device

    where = resolve_device(device)
    if prior is None:
        return Decoder(None, fill=fill)
    from dps.sampler.decoder import DecodeSettings

    return Decoder(load_prior(prior, where), DecodeSettings.from_preset(str(preset), **settings), where)


__all__ = ["SAMPLE_RATE", "Decoded", "Decoder", "encode", "load_decoder", "load_prior"]
