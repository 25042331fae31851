"""Prior configs: common defaults + a content YAML + dotlist overrides, resolved to a plain dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dps.paths import config_dir

COMMON = config_dir() / "prior" / "common.yaml"


def load_prior_config(path: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Merge common.yaml, the content file and overrides; expand sizes.<family>.<size> into network."""
    path = Path(path)
    if not path.is_file() and path.suffix == "" and (config_dir() / "prior" / f"{path}.yaml").is_file():
        path = config_dir() / "prior" / f"{path}.yaml"  # a shipped content config by name: `dps train speech`
    if not path.is_file():
        known = sorted(p.stem for p in (config_dir() / "prior").glob("*.yaml") if p.stem != "common")
        raise FileNotFoundError(f"{path}: no such config (shipped: {', '.join(known)})")
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


FREE_FORM = ("data.source_weights.", "visqol.overrides.")  # mappings keyed by names (sources, settings), not fields


def checked_overrides(cfg: DictConfig, overrides: list[str]) -> list[str]:
    """Hydra's rule for dotlists: key=value must name a field that exists, +key=value adds a new one."""
    pairs = [item.partition("=") for item in overrides]
    for item, (key, sep, _) in zip(overrides, pairs, strict=True):
        if not sep or not key.lstrip("+"):
            raise ValueError(f"override {item!r}: expected key=value")
    picked = {key: value for key, _, value in pairs if key in ("family", "size")}
    family, size = picked.get("family", cfg.family), picked.get("size", cfg.size)
    if family in cfg.sizes and size in cfg.sizes[family]:  # network.* overrides fields of sizes.<family>.<size>
        cfg = OmegaConf.merge(cfg, {"network": cfg.sizes[family][size]})
    out = []
    for item, (key, _, _) in zip(overrides, pairs, strict=True):
        if key.startswith("+"):
            out.append(item[1:])
            continue
        node: object = cfg
        parts = key.split(".")
        for depth, part in enumerate(parts if not key.startswith(FREE_FORM) else []):
            if not isinstance(node, DictConfig):
                break  # inside a list or a value: OmegaConf reports it
            if part not in node:
                where = ".".join(parts[:depth]) or "the top level"
                raise ValueError(
                    f"override {key}: no such field under {where} (expected one of {sorted(node)}); "
                    f"write +{key}=... to add one"
                )
            node = node[part]
        out.append(item)
    return out


def to_yaml(config: dict[str, Any]) -> str:
    return OmegaConf.to_yaml(OmegaConf.create(config))
