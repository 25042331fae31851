"""Evaluation items: fixed excerpts of validation audio, chosen deterministically from manifests or files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dps.audio import files_under, load_audio
from dps.data.manifest import read_manifest, resolve
from dps.eval.visqol import MIN_SECONDS as VISQOL_MIN_SECONDS
from dps.paths import EVAL_SETS

MIN_SECONDS = max(VISQOL_MIN_SECONDS.values())  # a shorter item cannot be scored in every ViSQOL mode


@dataclass
class Item:
    """One reference excerpt: name, content tag, float64 mono audio at sample_rate."""

    name: str
    content: str
    audio: np.ndarray = field(repr=False)
    sample_rate: int = 22050

    @property
    def digest(self) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.audio, dtype=np.float64).tobytes()).hexdigest()[:16]


def loudest_start(x: np.ndarray, length: int, hop: int = 2205) -> int:
    """Start of the window of `length` samples with the highest energy, on a grid of `hop` (0.1 s)."""
    if x.size <= length:
        return 0
    energy = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.arange(0, x.size - length + 1, hop)
    return int(starts[int(np.argmax(energy[starts + length] - energy[starts]))])


def loudest_excerpt(x: np.ndarray, length: int, hop: int = 2205) -> np.ndarray:
    """The window of `length` samples with the highest RMS (on a 0.1 s grid): no silent excerpt is scored."""
    best = loudest_start(x, length, hop)
    return x[best : best + length]


def eval_set_manifest(data_root: str | Path, eval_set: str, content: str) -> Path:
    """A content's manifest in an evaluation set: the corpus (validation split), the cross-source set, or the
    leave-source-out tuning set."""
    if eval_set not in EVAL_SETS:
        raise ValueError(f"eval set: expected one of {', '.join(EVAL_SETS)}, got {eval_set!r}")
    return Path(data_root) / ("" if eval_set == "validation" else eval_set) / content / "manifest.jsonl"


def _spread(count: int, n: int, offset: float = 0.0) -> list[int]:
    """n indices evenly spaced over a sorted list, shifted by `offset` strides (0.5: a disjoint tuning set)."""
    if n <= 0 or count <= n:
        return list(range(count))
    return [int((i + offset) * count / n) for i in range(n)]


def items_from(
    spec: str | Path, content: str, n: int = 6, seconds: float = 4.0, sample_rate: int = 22050, offset: float = 0.0
) -> list[Item]:
    """Items from a manifest (its validation split), an audio file, or a folder; `offset` in [0, 1) shifts the pick."""
    if not 0.0 <= offset < 1.0:
        raise ValueError(f"offset: expected a value in [0, 1), got {offset}")
    path = Path(spec)
    if path.suffix == ".jsonl":
        entries = [e for e in read_manifest(path) if e.split == "validation"]
        if not entries:
            raise ValueError(f"{path}: no validation entries in the manifest")
        entries.sort(key=lambda e: (e.source, e.file))
        paths = [resolve(path, e) for e in entries]
    elif path.is_dir():
        paths = files_under(path)
        if not paths:
            raise ValueError(f"{path}: no audio files in the folder")
    elif path.is_file():
        paths = [path]
    else:
        raise FileNotFoundError(f"{path}: no such manifest, audio file or folder")
    length = int(seconds * sample_rate) if seconds > 0 else 0
    min_len = int(min(MIN_SECONDS, seconds if seconds > 0 else MIN_SECONDS) * sample_rate)
    items, used, picked = [], set(), []
    for i in _spread(len(paths), n, offset):
        # A file too short to score is replaced by the next one in sorted order, so the other picks stay put.
        for k in (j % len(paths) for j in range(i, i + len(paths))):
            if k in used:
                continue
            x = load_audio(paths[k], sample_rate).audio
            if x.size >= min_len:
                break
        else:
            if not items:
                raise ValueError(f"{path}: no audio file of at least {min_len / sample_rate:.2f} s")
            break
        used.add(k)
        picked.append(paths[k])
        x = loudest_excerpt(x, length) if length else x
        items.append(Item(f"{content}/{paths[k].stem}", content, x, sample_rate))
    return _unique_names(items, picked)


def _unique_names(items: list[Item], paths: list[Path]) -> list[Item]:
    """Items whose file stems collide (piano: mozart/movement1-0 and beethoven/movement1-0) keep their folder."""
    stems = [it.name for it in items]
    for it, p in zip(items, paths, strict=True):
        if stems.count(it.name) > 1:
            it.name = f"{it.content}/{p.parent.name}/{p.stem}"
    names = [it.name for it in items]
    for i, it in enumerate(items):
        if names.count(it.name) > 1:  # the folder collides too: its rank among the picks decides
            it.name = f"{it.name}#{i}"
    return items
