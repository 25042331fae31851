"""LightningDataModule over a manifest: random fixed-length segments, gain, silence rejection."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader, Dataset

from dps.data.augment import Augment
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
        augment: Augment | None = None,
        sample_rate: int = 22050,
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
        self.augment = augment if augment is not None and augment.enabled else None
        self.read = self.augment.read_length(segment) if self.augment else segment  # samples read per segment
        mass = np.maximum(self.frames - self.read, 0) * w
        if not np.all(mass >= 0) or mass.sum() <= 0:
            raise ValueError(f"data.source_weights: weights must be >= 0 and not all 0, got {source_weights}")
        self.weights = mass / mass.sum()
        self.segment, self.length, self.seed = segment, length, seed
        self.target_rms, self.gain_db, self.min_rms = target_rms, gain_db, 10 ** (min_rms_db / 20)
        self.deterministic = deterministic
        self.sample_rate = sample_rate
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def _read(self, rng: np.random.Generator) -> np.ndarray:
        f = int(rng.choice(len(self.paths), p=self.weights))
        start = int(rng.integers(0, max(self.frames[f] - self.read, 1)))
        x, _ = sf.read(self.paths[f], start=start, frames=self.read, dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        if self.augment is not None and x.size == self.read:
            x = self.augment(x, self.segment, self.sample_rate, rng)
        return x

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


def data_epoch(trainer: L.Trainer, batches_per_epoch: float | None = None) -> int:
    """The epoch whose segments the next batch draws: counted from the optimizer step, not from Lightning's epoch
    counter, which a resume from an epoch's last batch advances once more than the uninterrupted run did."""
    batches = trainer.num_training_batches if batches_per_epoch is None else batches_per_epoch
    if not math.isfinite(batches) or batches <= 0:  # an unsized loader has no epochs to count
        return 0
    return int(trainer.global_step // math.ceil(batches / trainer.accumulate_grad_batches))


class ResumableLoader(DataLoader):
    """A DataLoader that Lightning resumes mid-epoch. Being stateful, it is handed the checkpoint's state on restore
    (Lightning otherwise restarts the epoch's data and warns); its first iteration after that skips the batches the
    restored run had trained on this epoch, counted by the trainer's restored batch progress (exact, unlike a count
    of batches served, which Lightning's prefetching runs ahead of), so a resumed run sees the same batches as an
    uninterrupted one. The skipped batches are read, not trained on."""

    def __init__(self, *args: Any, completed: Callable[[int], int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.completed = completed
        self._restored = False

    def state_dict(self) -> dict[str, Any]:
        return {"resumes_mid_epoch": True}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._restored = True

    def __iter__(self) -> Any:
        it = super().__iter__()
        if self._restored and self.completed is not None:
            self._restored = False
            for _ in range(self.completed(len(self))):
                next(it)
        return it


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
        common = dict(
            segment=segment, target_rms=c["target_rms"], min_rms_db=c["min_rms_db"], sample_rate=c["sample_rate"]
        )
        train = [e for e in entries if e.split == "train"]
        val = [e for e in entries if e.split == "validation"] or train
        self.train_set = SegmentDataset(
            c["manifest"],
            train,
            length=c["segments_per_epoch"],
            seed=self.seed,
            gain_db=c["gain_db"],
            source_weights=c.get("source_weights"),
            augment=Augment.from_config(c.get("augment")),
            **common,
        )
        self.val_set = SegmentDataset(
            c["manifest"], val, length=c["val_segments"], seed=12345, gain_db=0.0, deterministic=True, **common
        )

    def set_epoch(self, epoch: int) -> None:
        if self.train_set is not None:
            self.train_set.epoch = epoch

    def _loader(self, ds: Dataset, batch_size: int, **extra: Any) -> DataLoader:
        workers = int(self.cfg.get("num_workers", 0))
        return (ResumableLoader if extra else DataLoader)(
            ds,
            batch_size=batch_size,
            shuffle=False,
            num_workers=workers,
            drop_last=False,
            persistent_workers=False,
            pin_memory=torch.cuda.is_available(),
            **extra,
        )

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None
        return self._loader(self.train_set, self.cfg["batch_size"], completed=self._batches_completed)

    def _batches_completed(self, batches_per_epoch: int) -> int:
        """Batches the restored run had trained on in its data epoch (none when it stopped at an epoch's end), after
        setting that epoch."""
        if self.trainer is None:
            return 0
        epoch = data_epoch(self.trainer, batches_per_epoch)
        self.set_epoch(epoch)
        steps_per_epoch = math.ceil(batches_per_epoch / self.trainer.accumulate_grad_batches)
        return (self.trainer.global_step - epoch * steps_per_epoch) * self.trainer.accumulate_grad_batches

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None
        return self._loader(self.val_set, self.cfg.get("val_batch_size", self.cfg["batch_size"]))
