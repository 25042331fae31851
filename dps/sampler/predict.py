"""Decode many files through Trainer.predict: Lightning shards the file list over devices and nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from dps.audio import save_audio
from dps.cli.common import USER_ERRORS
from dps.codec import check_bitrate, encode, parse
from dps.prior.export import load_prior
from dps.sampler.decoder import DecodeSettings, PosteriorDecoder


class Jobs(Dataset):
    """(input, output) path pairs."""

    def __init__(self, jobs: list[tuple[Path, Path]]) -> None:
        self.jobs = [(str(i), str(o)) for i, o in jobs]

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, i: int) -> tuple[str, str]:
        return self.jobs[i]


class DecodeModule(L.LightningModule):
    """predict_step decodes one input (.dps, or audio encoded at `bitrate`) into its output; a bad input is a
    record with its error, not an exception, so one file never stops the others or the other ranks."""

    def __init__(
        self, prior_path: str, settings: DecodeSettings, bitrate: float = 16.0, seed: int = 0, codec_config: Any = None
    ) -> None:
        super().__init__()
        self.prior_path, self.settings = prior_path, settings
        self.bitrate, self.seed, self.codec_config = check_bitrate(bitrate), seed, codec_config
        self.decoder: PosteriorDecoder | None = None

    def on_predict_start(self) -> None:
        # Not in setup(): Lightning moves the module to its device after setup, so self.device is only final here.
        self.decoder = PosteriorDecoder(load_prior(self.prior_path, self.device), self.settings, str(self.device))

    def predict_step(self, batch: list[tuple[str, str]], batch_idx: int) -> list[dict[str, Any]]:
        from dps.audio import load_audio
        from dps.codec import load_codec_params

        assert self.decoder is not None
        out = []
        for name, target in batch:
            record: dict[str, Any] = {"input": name, "output": target, "rank": self.global_rank}
            try:
                path = Path(name)
                if path.suffix == ".dps":
                    data = path.read_bytes()
                else:
                    params = load_codec_params(self.codec_config)
                    data = encode(load_audio(path, params.sample_rate).audio, self.bitrate, params)
                m = parse(data)
                y, stats = self.decoder.decode(m, seed=self.seed)
                save_audio(target, y, m.sample_rate)
                record.update({"device": str(self.device), **{k: v for k, v in stats.items() if k != "settings"}})
            except USER_ERRORS as exc:
                record["error"] = " ".join(str(exc).split())
            out.append(record)
        return out


def decode_files(
    jobs: list[tuple[Path, Path]],
    prior_path: str,
    settings: DecodeSettings | None = None,
    bitrate: float = 16.0,
    seed: int = 0,
    codec_config: Any = None,
    **trainer_kwargs: Any,
) -> tuple[list[dict[str, Any]], bool]:
    """Decode (input, output) jobs on every device Lightning is given (trainer_kwargs: accelerator, devices,
    num_nodes, strategy...). Returns every rank's records, gathered, and whether this process is global rank zero
    (the one that should report them)."""
    module = DecodeModule(prior_path, settings or DecodeSettings.from_preset("fast"), bitrate, seed, codec_config)
    loader = DataLoader(Jobs(jobs), batch_size=1, collate_fn=list)
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, **trainer_kwargs)
    with torch.no_grad():
        results = trainer.predict(module, loader) or []
    records = [r for batch in results for r in batch]
    if trainer.world_size > 1:
        gathered: list[Any] = [None] * trainer.world_size
        torch.distributed.all_gather_object(gathered, records)
        records = [r for part in gathered for r in part]
    return sorted(records, key=lambda r: r["input"]), trainer.is_global_zero


__all__ = ["DecodeModule", "decode_files"]
