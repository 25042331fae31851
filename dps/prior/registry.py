"""Shipped priors by name (dps/assets/priors/NAME.safetensors), or any exported prior file by path."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path


def shipped_dir() -> Path:
    return Path(str(resources.files("dps") / "assets" / "priors"))


def shipped_priors() -> list[str]:
    return sorted(p.stem for p in shipped_dir().glob("*.safetensors"))


def resolve_prior(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_dir() / f"{name_or_path}.safetensors"
    if shipped.is_file():
        return shipped
    from dps.prior.export import PriorError  # lazy: listing shipped priors (decode.py --help) needs no torch

    raise PriorError(f"prior {name_or_path!r}: not a file and not a shipped prior (shipped: {shipped_priors()})")


def file_digest(path: str | Path) -> str:
    """First 16 hex digits of a file's SHA-256: identifies a prior file in metadata and cache keys."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
