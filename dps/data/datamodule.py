"""LightningDataModule over a manifest: random fixed-length segments, gain, silence rejection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader, Dataset

from dps.data.manifest import Entry, read_manifest, resolve


class SegmentDataset(Dataset):
    """Item i is a random segment drawn with rng(seed, epoch, i): order-free, so any sampler shards it."""

    def __init__(
        self,
        manifest: str | Path,
        entries: list[Entry],
        segment: int,
        length: int,
        seed: int,
        target_rms: float,
        gain_db: float,
        min_rms_db: float,
        deterministic: bool = False,
        source_weights: dict[str, float] | None = None,
    ) -> None:
        usable = [e for e in entries if e.duration * e.sample_rate > segment]
        if not usable:
            raise ValueError(f"{manifest}: no file is longer than one segment ({segment} samples)")
        source_weights = dict(source_weights or {})
        unknown = sorted(set(source_weights) - {e.source for e in usable})
        if unknown:
            known = sorted({e.source for e in usable})
            raise ValueError(f"data.source_weights: no usable file of source {unknown[0]!r} in {manifest} ({known})")
        self.paths = [str(resolve(manifest, e)) for e in usable]
        self.frames = np.array([int(e.duration * e.sample_rate) for e in usable])
        # A start position is uniform over the valid starts of all files; a source's weight scales its share.
        try:
            w = np.array([float(source_weights.get(e.source, 1.0)) for e in usable])
        except (TypeError, ValueError):
            raise ValueError(f"data.source_weights: expected numbers, got {source_weights}") from None
        mass = (self.frames - segment) * w
        if not np.all(mass >= 0) or mass.sum() <= 0:
            raise ValueError(f"data.source_weights: weights must be >= 0 and not all 0, got {source_weights}")
        self.weights = mass / mass.sum()
        self.segment, self.length, self.seed = segment, length, seed
        self.target_rms, self.gain_db, self.min_rms = target_rms, gain_db, 10 ** (min_rms_db / 20)
        self.deterministic = deterministic
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def _read(self, rng: np.random.Generator) -> np.ndarray:
        f = int(rng.choice(len(self.paths), p=self.weights))
        start = int(rng.integers(0, self.frames[f] - self.segment))
        x, _ = sf.read(self.paths[f], start=start, frames=self.segment, dtype="float32", always_2d=True)
        return x.mean(axis=1)

    def __getitem__(self, i: int) -> torch.Tensor:
        epoch = 0 if self.deterministic else self.epoch
        rng = np.random.default_rng([self.seed, epoch, i])
        for _ in range(20):  # reject near-silent segments
            x = self._read(rng)
            rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
            if rms >= self.min_rms and x.size == self.segment:
                break
        else:
            raise RuntimeError(f"20 near-silent segments in a row (min RMS {self.min_rms:.1e}): check the corpus")
        gain = 10 ** (rng.uniform(-self.gain_db, self.gain_db) / 20) if not self.deterministic else 1.0
        return torch.from_numpy((x * (self.target_rms * gain / rms)).astype(np.float32))


class AudioDataModule(L.LightningDataModule):
    """Train and validation segments from one manifest; DDP sharding comes from Lightning's sampler."""

    def __init__(self, cfg: dict[str, Any], seed: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        self.seed = seed
        self.train_set: SegmentDataset | None = None
        self.val_set: SegmentDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        c = self.cfg
        entries = read_manifest(c["manifest"])
        segment = int(round(c["segment_seconds"] * c["sample_rate"]))
        for e in entries:
            if e.sample_rate != c["sample_rate"]:
                raise ValueError(f"{c['manifest']}: {e.file} is at {e.sample_rate} Hz, expected {c['sample_rate']}")
        common = dict(segment=segment, target_rms=c["target_rms"], min_rms_db=c["min_rms_db"])
        train = [e for e in entries if e.split == "train"]
        val = [e for e in entries if e.split == "validation"] or train
        self.train_set = SegmentDataset(
            c["manifest"],
            train,
            length=c["segments_per_epoch"],
            seed=self.seed,
            gain_db=c["gain_db"],
            source_weights=c.get("source_weights"),
            **common,
        )
        self.val_set = SegmentDataset(
            c["manifest"], val, length=c["val_segments"], seed=12345, gain_db=0.0, deterministic=True, **common
        )

    def set_epoch(self, epoch: int) -> None:
        if self.train_set is not None:
            self.train_set.epoch = epoch

    def _loader(self, ds: Dataset, batch_size: int) -> DataLoader:
        workers = int(self.cfg.get("num_workers", 0))
        return DataLoader(
            ds,
            batch_size=batch_size,
            shuffle=False,
            num_workers=workers,
            drop_last=False,
            persistent_workers=False,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None
        return self._loader(self.train_set, self.cfg["batch_size"])

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None
        return self._loader(self.val_set, self.cfg.get("val_batch_size", self.cfg["batch_size"]))
