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


def check_manifest(path: str | Path, hashes: bool = False) -> list[str]:
    """Problems of a manifest: missing files, durations or rates that differ, files or tracks in two splits."""
    import soundfile as sf

    from dps.data.build import sha256_of

    entries = read_manifest(path)
    problems = []
    splits_of: dict[str, set[str]] = {}
    files: dict[str, str] = {}
    for e in entries:
        f = resolve(path, e)
        splits_of.setdefault(e.track, set()).add(e.split)
        if e.file in files and files[e.file] != e.split:
            problems.append(f"{e.file}: in both splits")
        files[e.file] = e.split
        if e.split not in SPLITS:
            problems.append(f"{e.file}: split {e.split!r}, expected one of {SPLITS}")
        if not f.is_file():
            problems.append(f"{e.file}: missing")
            continue
        info = sf.info(str(f))
        if info.samplerate != e.sample_rate or abs(info.frames / info.samplerate - e.duration) > 1e-3:
            problems.append(
                f"{e.file}: {info.frames / info.samplerate:.4f} s at {info.samplerate} Hz, "
                f"manifest says {e.duration} s at {e.sample_rate} Hz"
            )
        if hashes and sha256_of(f) != e.sha256:
            problems.append(f"{e.file}: sha256 differs from the manifest")
    problems += [f"track {t}: in both splits" for t, s in splits_of.items() if len(s) > 1]
    return problems
