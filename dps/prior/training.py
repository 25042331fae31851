"""Build the Trainer, loggers and callbacks from a resolved config, and fit (auto-resuming)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import string
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EMAWeightAveraging, LearningRateMonitor, ModelCheckpoint, Timer
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only

from dps.audio import atomic_path
from dps.data.datamodule import AudioDataModule
from dps.data.manifest import read_manifest
from dps.prior.config import to_yaml
from dps.prior.module import ScorePriorModule
from dps.prior.networks import count_parameters


def wandb_mode() -> str:
    """Offline unless the user chose otherwise or holds credentials: no network is ever required."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    if os.environ.get("WANDB_API_KEY"):
        return "online"
    netrc = Path.home() / ".netrc"
    return "online" if netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="ignore") else "offline"


def data_summary(manifest: str) -> dict[str, Any]:
    entries = read_manifest(manifest)
    out: dict[str, Any] = {"manifest": str(manifest)}
    for split in ("train", "validation"):
        sel = [e for e in entries if e.split == split]
        out[split] = {
            "files": len(sel),
            "minutes": round(sum(e.duration for e in sel) / 60, 2),
            "sources": sorted({e.source for e in sel}),
        }
    return out


class WeightsDigest(Callback):
    """Write each rank's final weight digest to the run folder (DDP ranks must agree)."""

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        h = hashlib.sha256()
        for name, p in sorted(pl_module.state_dict().items()):
            h.update(name.encode())
            h.update(p.detach().cpu().contiguous().numpy().tobytes())
        path = Path(trainer.default_root_dir) / f"weights_rank{trainer.global_rank}.sha256"
        path.write_text(h.hexdigest() + "\n")


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save into a temporary file beside the target, fsync, then rename: a process killed while writing
    leaves the previous checkpoint whole (Lightning's own save writes the target in place)."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())


class IntervalCheckpoint(ModelCheckpoint):
    """ModelCheckpoint every N training steps that also saves at the step where the sitting stops (max_steps, or
    max_time through the Timer, which Lightning runs before checkpoint callbacks), wherever it falls: a stop between
    intervals would otherwise lose the steps since. Lightning runs checkpoint callbacks after the others, so the
    EMA weights include this step, as at every interval."""

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        stopping = trainer.should_stop or 0 < trainer.max_steps <= trainer.global_step
        if stopping and not self._should_skip_saving_checkpoint(trainer):
            candidates = self._monitor_candidates(trainer)
            self._save_topk_checkpoint(trainer, candidates)
            self._save_last_checkpoint(trainer, candidates)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Nothing: the stopping step is saved already, and a save here would come after EMAWeightAveraging copied
        the EMA weights into the model, storing them as the weights being trained."""


class RunFolder(Callback):
    """Writes the resolved config into the run folder from the global rank-zero process only, once the strategy
    knows the ranks (setup runs after the distributed environment is up, under torchrun, SLURM or Lightning's
    own launcher alike)."""

    def __init__(self, run_dir: Path, config: dict[str, Any]) -> None:
        self.run_dir, self.config = run_dir, config

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.is_global_zero:
            with atomic_path(self.run_dir / "config.yaml") as tmp:
                tmp.write_text(to_yaml(self.config))


def visqol_callbacks(config: dict[str, Any], ckpt_dir: Path) -> list[Callback]:
    """ViSQOL per validation run (visqol.enabled), and optionally a best-by-ViSQOL checkpoint (visqol.monitor)."""
    v = config.get("visqol", {})
    if not v.get("enabled"):
        return []
    from dps.eval.checkpoints import VisqolCallback

    out: list[Callback] = [VisqolCallback(config)]
    if v.get("monitor"):
        out.append(
            ModelCheckpoint(
                dirpath=ckpt_dir,
                filename="best-visqol-{step}",
                monitor="visqol/delta",
                mode="max",
                save_top_k=1,
                auto_insert_metric_name=False,
            )
        )
    return out


def wandb_run_id(run_dir: Path) -> str:
    """The run folder's W&B run id, made once: the first process to create the file wins, every other rank and every
    later sitting reads it, so one training run is one W&B run however often it resumes."""
    path = run_dir / "wandb_id"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        deadline = time.monotonic() + 30
        while not (run_id := path.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)  # created by another rank this instant, not yet written
        if not run_id:
            raise ValueError(f"{path}: empty; delete it to start a new W&B run for this folder") from None
        return run_id
    run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))  # W&B's id form
    with os.fdopen(fd, "w") as f:
        f.write(run_id + "\n")
    return run_id


def _loggers(config: dict[str, Any], run_dir: Path) -> list[Any]:
    from lightning.pytorch.loggers import CSVLogger, WandbLogger

    csv = CSVLogger(str(run_dir), name="csv")  # version_N per (re)start: a resume never overwrites logs
    if config.get("logger", "wandb") == "csv":
        return [csv]
    mode = wandb_mode()
    os.environ["WANDB_MODE"] = mode
    name = Path(run_dir).name
    wandb = WandbLogger(
        project=config.get("wandb_project", "dps"),
        name=name,
        save_dir=str(run_dir),
        offline=(mode == "offline"),
        config=config,
        id=wandb_run_id(run_dir) if rank_zero_only.rank == 0 else None,  # other ranks never open the run
        resume="allow",
    )
    return [wandb, csv]


def check_resume(last: Path, trainer_cfg: dict[str, Any]) -> None:
    """A one-line error where the checkpoint already spent max_steps or max_time: the resume would train nothing."""
    ckpt = torch.load(last, map_location="cpu", weights_only=True, mmap=True)  # mmap: the weights are not read
    step = int(ckpt.get("global_step", 0))
    max_steps = trainer_cfg.get("max_steps")
    if max_steps is not None and max_steps >= 0 and step >= max_steps:
        raise ValueError(
            f"{last}: the run is at step {step} and trainer.max_steps is {max_steps}: raise it to train further"
        )
    # Lightning restores the Timer's elapsed time with the checkpoint, so max_time counts the whole run.
    if trainer_cfg.get("max_time") is None or "Timer" not in ckpt.get("callbacks", {}):
        return
    timer = Timer(duration=trainer_cfg["max_time"])
    timer.load_state_dict(ckpt["callbacks"]["Timer"])
    if timer.time_remaining() <= 0:
        raise ValueError(
            f"{last}: the run has trained {timer.time_elapsed() / 60:.1f} min and trainer.max_time is "
            f"{trainer_cfg['max_time']}, which counts the whole run: raise it to train further"
        )


def train(config: dict[str, Any]) -> Path:
    """Fit a prior; returns the run folder (resolved config, checkpoints, logs)."""
    L.seed_everything(int(config.get("seed", 0)), workers=True, verbose=False)
    run_dir = Path(config["run_dir"])
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    config = dict(config)
    config["data_summary"] = data_summary(config["data"]["manifest"])
    module = ScorePriorModule(config)
    last = run_dir / "checkpoints" / "last.ckpt"
    resuming = config.get("resume", "auto") == "auto" and last.is_file()
    if resuming:
        check_resume(last, dict(config["trainer"]))
    if config.get("init_from") and not resuming:  # fine-tuning: start from another prior's (EMA) weights
        from dps.prior.export import init_weights

        config["init"] = init_weights(module.denoiser, config["init_from"], bool(config.get("init_partial", False)))
    config["parameters"] = count_parameters(module.denoiser)
    module.config = config
    module.hparams["config"] = config
    if config.get("compile"):
        module.denoiser.net = torch.compile(module.denoiser.net)
    ckpt_dir = run_dir / "checkpoints"
    callbacks: list[Callback] = [
        ModelCheckpoint(
            dirpath=ckpt_dir,
            filename="best-{step}",
            monitor="val/loss",
            mode="min",
            save_top_k=1,
            save_on_train_epoch_end=False,  # after validation only: val/loss exists there
            auto_insert_metric_name=False,
        ),
        IntervalCheckpoint(
            dirpath=ckpt_dir,
            filename="step-{step}",
            every_n_train_steps=config["checkpoint"]["every_n_steps"],
            save_top_k=-1,
            # last.ckpt at every interval and at the stop (a crash loses at most one interval), overwritten in place.
            # Not under fast_dev_run, where a later run in this folder would resume from it.
            save_last=not config["trainer"].get("fast_dev_run"),
            enable_version_counter=False,
            auto_insert_metric_name=False,
        ),
        *visqol_callbacks(config, ckpt_dir),
        EMAWeightAveraging(decay=config["ema"]["decay"]),  # after VisqolCallback: see its docstring
        LearningRateMonitor(logging_interval="step"),
        WeightsDigest(),
        RunFolder(run_dir, config),
    ]
    trainer_cfg = dict(config["trainer"])
    trainer = L.Trainer(
        default_root_dir=str(run_dir),
        callbacks=callbacks,
        logger=_loggers(config, run_dir),
        plugins=[AtomicCheckpointIO()],
        **trainer_cfg,
    )
    datamodule = AudioDataModule(config["data"], seed=int(config.get("seed", 0)))
    ckpt_path = str(last) if resuming else None
    if ckpt_path:
        rank_zero_info(f"resuming from {ckpt_path}")
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    for logger in trainer.loggers:
        if type(logger).__name__ == "WandbLogger" and trainer.is_global_zero:
            logger.experiment.finish()  # flush the summary so offline runs can be synced or inspected
    if trainer.is_global_zero:
        (run_dir / "summary.json").write_text(
            json.dumps(
                {
                    "global_step": trainer.global_step,
                    "callback_metrics": {k: float(v) for k, v in trainer.callback_metrics.items()},
                },
                indent=2,
            )
        )
    return run_dir
