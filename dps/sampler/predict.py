"""Decode many files through Trainer.predict: Lightning shards the file list over devices and nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from dps.audio import save_audio
from dps.codec import check_bitrate, encode, parse
from dps.prior.export import load_prior
from dps.sampler.decoder import DecodeSettings, PosteriorDecoder


class FileList(Dataset):
    def __init__(self, files: list[Path]) -> None:
        self.files = [str(f) for f in files]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> str:
        return self.files[i]


class DecodeModule(L.LightningModule):
    """predict_step decodes one input file (.dps, or audio encoded at `bitrate`) and writes OUT_DIR/stem.dps.wav."""

    def __init__(
        self, prior_path: str, settings: DecodeSettings, out_dir: str, bitrate: float = 16.0, seed: int = 0
    ) -> None:
        super().__init__()
        self.prior_path, self.settings, self.out_dir = prior_path, settings, Path(out_dir)
        self.bitrate, self.seed = check_bitrate(bitrate), seed
        self.decoder: PosteriorDecoder | None = None

    def on_predict_start(self) -> None:
        # Not in setup(): Lightning moves the module to its device after setup, so self.device is only final here.
        self.decoder = PosteriorDecoder(load_prior(self.prior_path, self.device), self.settings, str(self.device))

    def predict_step(self, batch: list[str], batch_idx: int) -> list[dict[str, Any]]:
        from dps.audio import load_audio

        assert self.decoder is not None
        out = []
        for name in batch:
            path = Path(name)
            data = path.read_bytes() if path.suffix == ".dps" else encode(load_audio(path).audio, self.bitrate)
            m = parse(data)
            y, stats = self.decoder.decode(m, seed=self.seed)
            target = self.out_dir / f"{path.stem}.dps.wav"
            save_audio(target, y, m.sample_rate)
            out.append(
                {
                    "input": name,
                    "output": str(target),
                    "rank": self.global_rank,
                    "device": str(self.device),
                    **{k: v for k, v in stats.items() if k != "settings"},
                }
            )
        return out


def decode_files(
    files: list[Path],
    prior_path: str,
    out_dir: str,
    settings: DecodeSettings | None = None,
    bitrate: float = 16.0,
    **trainer_kwargs: Any,
) -> list[dict[str, Any]]:
    """Decode files on every device Lightning is given (trainer_kwargs: accelerator, devices, strategy...)."""
    module = DecodeModule(prior_path, settings or DecodeSettings.from_preset("fast"), out_dir, bitrate)
    loader = DataLoader(FileList(files), batch_size=1, collate_fn=list)
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, **trainer_kwargs)
    with torch.no_grad():
        results = trainer.predict(module, loader) or []
    return [r for batch in results for r in batch]


__all__ = ["DecodeModule", "decode_files"]
