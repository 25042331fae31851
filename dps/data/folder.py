"""A manifest for a user's own audio folder: every audio file converted to 22.05 kHz mono, split by subfolder or
by a stable hash of its path, so a prior trains on anyone's recordings."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from dps.audio import AUDIO_SUFFIXES, files_under
from dps.data.manifest import Entry, read_manifest, write_manifest

SPLIT_FOLDERS = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation"}


def hash_split(rel: str, validation_fraction: float) -> str:
    """validation when the first 32 bits of sha256(path) fall under the fraction: stable as files come and go."""
    h = int(hashlib.sha256(rel.encode()).hexdigest()[:8], 16) / 2**32
    return "validation" if h < validation_fraction else "train"


def split_of(rel: Path, mode: str, validation_fraction: float) -> str:
    if mode == "hash":
        return hash_split(rel.as_posix(), validation_fraction)
    top = rel.parts[0].lower() if len(rel.parts) > 1 else ""
    if top not in SPLIT_FOLDERS:
        raise ValueError(
            f"{rel}: --split subfolder needs every file under train/ or validation/ (or valid/, val/), "
            f"got {rel.parts[0] if len(rel.parts) > 1 else 'the top level'}"
        )
    return SPLIT_FOLDERS[top]


def manifest_from_folder(
    folder: str | Path,
    out_dir: str | Path,
    split: str = "hash",
    validation_fraction: float = 0.1,
    source: str | None = None,
    progress: bool = False,
) -> Path:
    """Convert every audio file under folder into out_dir/audio/ and write out_dir/manifest.jsonl; files already
    converted (same path, same source) are reused, so a rerun after new recordings converts only those."""
    from dps.data.build import convert_entry

    folder, out_dir = Path(folder), Path(out_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    if split not in ("hash", "subfolder"):
        raise ValueError(f"--split: expected hash or subfolder, got {split!r}")
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"--validation-fraction: expected a value in [0, 1), got {validation_fraction}")
    if out_dir.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{out_dir}: the output folder must lie outside the input folder {folder}")
    files = files_under(folder)
    if not files:
        raise ValueError(f"{folder}: no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}) under it")
    source = source or folder.resolve().name
    plan = [(f, f.relative_to(folder)) for f in files]
    splits = [split_of(rel, split, validation_fraction) for _, rel in plan]  # all errors before any work
    path = out_dir / "manifest.jsonl"
    old = {e.file: e for e in read_manifest(path)} if path.is_file() else {}
    entries: list[Entry] = []
    skipped: list[str] = []
    for (src, rel), part in _bar(list(zip(plan, splits)), progress):
        out_rel = (Path("audio") / rel).with_suffix(".wav").as_posix()
        prev = old.get(out_rel)
        if prev is not None and prev.source == source and prev.split == part and (out_dir / out_rel).is_file():
            entries.append(prev)
            continue
        entry = convert_entry(src, out_dir, out_rel, source, rel.with_suffix("").as_posix(), part)
        if entry is None:
            skipped.append(str(rel))
        else:
            entries.append(entry)
    if not entries:
        raise ValueError(f"{folder}: no file held usable audio (unreadable or silent: {skipped[:3]})")
    write_manifest(path, entries)
    return path


def _bar(items: list, progress: bool) -> Iterable:
    from tqdm import tqdm

    return tqdm(items, unit="file", disable=not progress)
