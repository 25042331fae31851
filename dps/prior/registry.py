"""Shipped priors by name (dps/assets/priors/NAME.safetensors), or any exported prior file by path."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path


def shipped_dir() -> Path:
    return Path(str(resources.files("dps") / "assets" / "priors"))


def shipped_priors() -> list[str]:
    return sorted(p.stem for p in shipped_dir().glob("*.safetensors"))


# `auto` (audio of unknown content): the joint prior, the best all-round prior on the validation model test
# (results/model_test, 16 kb/s: mean gain over speech, piano and music +0.079 against +0.074 for the speech prior).
# Picking by the lowest denoising error does not detect content: the speech prior fits every content best.
AUTO_PRIOR = "joint"


def resolve_prior(name_or_path: str) -> Path:
    """A prior file: a path, a shipped prior's name, or `auto` (AUTO_PRIOR)."""
    if name_or_path == "auto" and not Path(name_or_path).is_file():
        name_or_path = AUTO_PRIOR
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
