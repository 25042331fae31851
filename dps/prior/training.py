"""Build the Trainer, loggers and callbacks from a resolved config, and fit (auto-resuming)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EMAWeightAveraging, LearningRateMonitor, ModelCheckpoint, Timer

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
    if int(os.environ.get("LOCAL_RANK", "0")) == 0 and int(os.environ.get("NODE_RANK", "0")) == 0:
        (run_dir / "config.yaml").write_text(to_yaml(config))
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
            # Lightning 2.6 writes last.ckpt at train end even under fast_dev_run; a later run would resume from it.
            save_last=not config["trainer"].get("fast_dev_run"),
            auto_insert_metric_name=False,
        ),
        ModelCheckpoint(
            dirpath=ckpt_dir,
            filename="step-{step}",
            every_n_train_steps=config["checkpoint"]["every_n_steps"],
            save_top_k=-1,
            auto_insert_metric_name=False,
        ),
        *visqol_callbacks(config, ckpt_dir),
        EMAWeightAveraging(decay=config["ema"]["decay"]),  # after VisqolCallback: see its docstring
        LearningRateMonitor(logging_interval="step"),
        WeightsDigest(),
    ]
    trainer_cfg = dict(config["trainer"])
    trainer = L.Trainer(
        default_root_dir=str(run_dir), callbacks=callbacks, logger=_loggers(config, run_dir), **trainer_cfg
    )
    datamodule = AudioDataModule(config["data"], seed=int(config.get("seed", 0)))
    ckpt_path = str(last) if resuming else None
    if ckpt_path and trainer.is_global_zero:
        print(f"resuming from {ckpt_path}")
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
