"""Prior configs: common defaults + a content YAML + dotlist overrides, resolved to a plain dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

COMMON = Path(__file__).resolve().parents[2] / "configs" / "prior" / "common.yaml"


def load_prior_config(path: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Merge common.yaml, the content file and overrides; expand sizes.<family>.<size> into network."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such config")
    common = path.parent / "common.yaml"
    base = OmegaConf.load(common if common.is_file() else COMMON)
    cfg = OmegaConf.merge(base, OmegaConf.load(path), OmegaConf.from_dotlist(list(overrides or [])))
    family, size = cfg.family, cfg.size
    if family not in cfg.sizes:
        raise ValueError(f"{path}: family {family!r} unknown; expected one of {list(cfg.sizes)}")
    if size not in cfg.sizes[family]:
        raise ValueError(f"{path}: size {size!r} unknown; expected one of {list(cfg.sizes[family])}")
    network = OmegaConf.merge(cfg.sizes[family][size], cfg.network, {"family": family})
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    resolved["network"] = OmegaConf.to_container(network, resolve=True)
    del resolved["sizes"]
    return resolved  # type: ignore[return-value]


def to_yaml(config: dict[str, Any]) -> str:
    return OmegaConf.to_yaml(OmegaConf.create(config))
