"""Prior configs: common defaults + a content YAML + dotlist overrides, resolved to a plain dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

COMMON = Path(__file__).resolve().parents[2] / "configs" / "prior" / "common.yaml"


def load_prior_config(path: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Merge common.yaml, the content file and overrides; expand sizes.<family>.<size> into network."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such config")
    common = path.parent / "common.yaml"
    base = OmegaConf.load(common if common.is_file() else COMMON)
    cfg = OmegaConf.merge(base, OmegaConf.load(path))
    cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(checked_overrides(cfg, list(overrides or []))))
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


def checked_overrides(cfg: DictConfig, overrides: list[str]) -> list[str]:
    """Hydra's rule for dotlists: key=value must name a field that exists, +key=value adds a new one."""
    picked = dict(item.split("=", 1) for item in overrides if item.split("=", 1)[0] in ("family", "size"))
    family, size = picked.get("family", cfg.family), picked.get("size", cfg.size)
    if family in cfg.sizes and size in cfg.sizes[family]:  # network.* overrides fields of sizes.<family>.<size>
        cfg = OmegaConf.merge(cfg, {"network": cfg.sizes[family][size]})
    out = []
    for item in overrides:
        key, sep, _ = item.partition("=")
        if not sep or not key.lstrip("+"):
            raise ValueError(f"override {item!r}: expected key=value")
        if key.startswith("+"):
            out.append(item[1:])
            continue
        node: object = cfg
        for depth, part in enumerate(key.split(".")):
            if not isinstance(node, DictConfig) or (len(node) == 0 and depth > 0):
                break  # a list, a value, or a free-form mapping such as data.source_weights
            if part not in node:
                where = ".".join(key.split(".")[:depth]) or "the top level"
                raise ValueError(
                    f"override {key}: no such field under {where} (expected one of {sorted(node)}); "
                    f"write +{key}=... to add one"
                )
            node = node[part]
        out.append(item)
    return out


def to_yaml(config: dict[str, Any]) -> str:
    return OmegaConf.to_yaml(OmegaConf.create(config))
