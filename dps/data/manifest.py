"""Corpus manifests: one JSON object per line (file, source, split, duration, rate, loudness, sha256)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

SPLITS = ("train", "validation")


@dataclass
class Entry:
    file: str  # relative to the manifest's folder
    source: str  # package it came from
    track: str  # source track or level: the unit the split is made on
    split: str
    duration: float
    sample_rate: int
    loudness_db: float  # RMS in dBFS of the non-silent audio
    sha256: str


def read_manifest(path: str | Path) -> list[Entry]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such manifest (build it with: python -m dps.data build ...)")
    entries = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(Entry(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a manifest line ({exc})") from None
    return entries


def write_manifest(path: str | Path, entries: list[Entry]) -> None:
    from dps.audio import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(asdict(e), sort_keys=True) + "\n" for e in entries))


def resolve(manifest: str | Path, entry: Entry) -> Path:
    return Path(manifest).parent / entry.file
