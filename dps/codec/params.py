"""Codec parameters: band layout, envelope, allocation and quantizer settings (configs/codec.yaml)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_WIDTHS = (4,) * 8 + (8,) * 6 + (16,) * 4 + (32,) * 2
MIN_BITRATE_KBPS = 8.0
MAX_BITRATE_KBPS = 48.0


@dataclass(frozen=True)
class CodecParams:
    """Everything the decoder must know to repeat the encoder's allocation; stored in every header."""

    sample_rate: int = 22050
    hop: int = 256
    band_widths: tuple[int, ...] = DEFAULT_WIDTHS  # the last band absorbs the rest up to hop
    env_step_db: float = 1.5
    env_group: int = 4  # frames per envelope value: the envelope's time resolution
    theta_step_db: float = 0.75
    alloc_alpha: float = 0.75  # r = (alpha * E + tilt_b - theta) / 6.02: alpha < 1 lets noise follow the spectrum
    alloc_tilt_db: float = 0.0  # per band index, favours low bands when positive
    r_min: float = 0.5  # bands allotted fewer bits per coefficient are left uncoded
    deadzone: float = 0.0
    dither: bool = False
    dither_seed: int = 0
    block_frames: int = 64  # frames per CRC-protected block
    coef_scale: float = 1.0  # Laplace model spread relative to the allotted resolution 2^r
    fill_factor: float = 0.7  # legacy decoder's noise-fill energy factor (decoder only, not in the header)

    @property
    def band_edges(self) -> np.ndarray:
        edges = np.concatenate([[0], np.cumsum(self.band_widths)])
        edges = edges[edges < self.hop]
        return np.append(edges, self.hop).astype(np.int64)

    @property
    def num_bands(self) -> int:
        return len(self.band_edges) - 1

    @property
    def band_of_bin(self) -> np.ndarray:
        edges = self.band_edges
        return np.repeat(np.arange(self.num_bands), np.diff(edges))

    @property
    def band_sizes(self) -> np.ndarray:
        return np.diff(self.band_edges)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["band_widths"] = list(self.band_widths)
        return d

    def replace(self, **changes: Any) -> CodecParams:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update(changes)
        return CodecParams.from_dict(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CodecParams:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"codec config: unknown field(s) {sorted(unknown)}; expected some of {sorted(known)}")
        d = dict(d)
        if "band_widths" in d:
            d["band_widths"] = tuple(int(w) for w in d["band_widths"])
        p = cls(**d)
        p.validate()
        return p

    def validate(self) -> None:
        checks = [
            (self.sample_rate > 0, "sample_rate must be positive"),
            (16 <= self.hop <= 4096, f"hop must be in [16, 4096], got {self.hop}"),
            (len(self.band_widths) > 0 and min(self.band_widths) > 0, "band_widths must be positive"),
            (self.env_step_db > 0, "env_step_db must be positive"),
            (1 <= self.env_group <= 64, "env_group must be in [1, 64]"),
            (self.theta_step_db > 0, "theta_step_db must be positive"),
            (0.0 < self.alloc_alpha <= 2.0, "alloc_alpha must be in (0, 2]"),
            (0.0 <= self.deadzone < 0.5, "deadzone must be in [0, 0.5)"),
            (self.block_frames % self.env_group == 0, "block_frames must be a multiple of env_group"),
            (self.coef_scale > 0, "coef_scale must be positive"),
            (self.fill_factor >= 0, "fill_factor must be >= 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(f"codec config: {msg}")


def load_codec_params(path: str | Path | None = None, overrides: list[str] | None = None) -> CodecParams:
    """Read configs/codec.yaml (or the package default) with OmegaConf dotlist overrides."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(CodecParams().to_dict())
    if path is not None:
        cfg = OmegaConf.merge(cfg, OmegaConf.load(path))
    if overrides:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))
    return CodecParams.from_dict(OmegaConf.to_container(cfg, resolve=True))  # type: ignore[arg-type]


def check_bitrate(kbps: float) -> float:
    """Accept any rate in [8, 48] kb/s, the codec's designed range."""
    try:
        value = float(kbps)
    except (TypeError, ValueError):
        raise ValueError(f"bitrate: expected a number of kb/s in [8, 48], got {kbps!r}") from None
    if not (MIN_BITRATE_KBPS <= value <= MAX_BITRATE_KBPS) or not np.isfinite(value):
        raise ValueError(f"bitrate: expected kb/s in [{MIN_BITRATE_KBPS:g}, {MAX_BITRATE_KBPS:g}], got {kbps!r}")
    return value
