"""Scores of (reference, decoded) pairs: ViSQOL per mode plus SNR and LSD, in parallel worker processes."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from dps.eval.metrics import log_spectral_distance, snr_db
from dps.eval.visqol import MODE_RATES, Visqol, VisqolError

_SCORERS: dict[str, Visqol] = {}


def metric_names(modes: list[str]) -> list[str]:
    return [f"visqol_{m}_{MODE_RATES[m] // 1000}k" for m in modes]


def _init(modes: list[str]) -> None:
    import torch

    torch.set_num_threads(1)
    for m in modes:
        if m not in _SCORERS:
            _SCORERS[m] = Visqol(m)


def _score(job: tuple[np.ndarray, np.ndarray, int, list[str]]) -> dict[str, Any]:
    ref, deg, sr, modes = job
    _init(modes)
    out: dict[str, Any] = {"snr_db": snr_db(ref, deg), "lsd_db": log_spectral_distance(ref, deg)}
    for m in modes:
        try:
            out[_SCORERS[m].metric_name] = _SCORERS[m](ref, deg, sr)
        except VisqolError as exc:
            out[_SCORERS[m].metric_name] = None
            out["error"] = str(exc)
    return out


def score_pairs(
    pairs: list[tuple[np.ndarray, np.ndarray]], sample_rate: int, modes: list[str], workers: int = 1
) -> list[dict[str, Any]]:
    """Score every pair; each worker builds its ViSQOL objects once and reuses them."""
    jobs = [(np.asarray(r, np.float64), np.asarray(d, np.float64), sample_rate, list(modes)) for r, d in pairs]
    if workers <= 1 or len(jobs) <= 1:
        return [_score(j) for j in jobs]
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
        return list(pool.map(_score, jobs))


def key_of(**parts: Any) -> str:
    """A content hash of everything that determines a result."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


class Cache:
    """Decoded audio (.npy) and their metadata/scores (.json) by content hash: reruns only do new work."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root) if root else None
        if self.root:
            self.root.mkdir(parents=True, exist_ok=True)

    def load(self, key: str) -> tuple[np.ndarray | None, dict[str, Any] | None]:
        if not self.root or not (self.root / f"{key}.json").is_file():
            return None, None
        meta = json.loads((self.root / f"{key}.json").read_text())
        audio_path = self.root / f"{key}.npy"
        return (np.load(audio_path) if audio_path.is_file() else None), meta

    def save(self, key: str, audio: np.ndarray | None, meta: dict[str, Any]) -> None:
        if not self.root:
            return
        from dps.audio import atomic_path

        if audio is not None:
            with atomic_path(self.root / f"{key}.npy") as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, np.asarray(audio, dtype=np.float32))
        with atomic_path(self.root / f"{key}.json") as tmp:
            tmp.write_text(json.dumps(meta, default=str))
