"""The LightningModule that trains a score prior by denoising score matching (training only)."""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
import numpy as np
import torch

from dps.prior.loss_weight import bin_power, check_loss_weighting, tilt_weights, weighted_error
from dps.prior.networks import build_denoiser

VAL_SIGMAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)


class ScorePriorModule(L.LightningModule):
    """E ||D(x + sigma n, sigma) - x||^2 lambda(sigma), sigma from the schedule's density (EDM weighting)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config = config
        self.denoiser, self.schedule = build_denoiser(config)
        self.optim_cfg = config["optim"]
        self.seed = int(config.get("seed", 0))
        edges = self.schedule.buckets(int(config.get("loss_buckets", 8)))
        self.register_buffer("bucket_edges", edges, persistent=False)
        self._bucket_sum = torch.zeros(len(edges) - 1)
        self._bucket_count = torch.zeros(len(edges) - 1)
        self._nonfinite = 0
        self.loss_weighting = check_loss_weighting(config.get("loss_weighting"))
        if self.loss_weighting["mode"] != "none":
            # Set from the first training batch, then fixed; saved in checkpoints so a resume keeps it.
            self.register_buffer("loss_bin_weight", torch.zeros(int(self.loss_weighting["hop"])))
        self._bin_weight_ready = False  # a Python flag: testing the buffer every step would sync a GPU
        self._t_last: float | None = None
        self._wall_before = 0.0  # training wall time of earlier (resumed-from) runs
        self._wall_start = time.time()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["train_wall_s"] = self._wall_before + time.time() - self._wall_start

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._wall_before = float(checkpoint.get("train_wall_s", 0.0))
        self._wall_start = time.time()

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.denoiser(x, sigma)

    def _noise(self, x0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sigma and noise from a generator seeded by (seed, step, rank): resumed runs repeat exactly."""
        g = torch.Generator(device="cpu").manual_seed(
            (self.seed * 1_000_003 + self.global_step * 7919 + self.global_rank * 104729) % (2**63)
        )
        sigma = self.schedule.sample(x0.shape[0], generator=g).to(x0.device)
        noise = torch.randn(x0.shape, generator=g).to(x0.device, x0.dtype)
        return sigma, noise

    def _loss(
        self, x0: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor, bin_weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-example lambda(sigma) * mean (D(x0 + sigma n) - x0)^2, per MDCT bin weighted when given."""
        d = self.denoiser(x0 + sigma[:, None] * noise, sigma)
        if bin_weight is not None:
            return self.denoiser.loss_weight(sigma) * weighted_error(d - x0, bin_weight)
        return self.denoiser.loss_weight(sigma) * (d - x0).pow(2).mean(dim=1)

    def _bin_weight(self, x0: torch.Tensor) -> torch.Tensor | None:
        """The fixed per-bin loss weights (mdct_tilt), set from the first batch (averaged over DDP ranks)."""
        if self.loss_weighting["mode"] == "none":
            return None
        if self._bin_weight_ready:
            return self.loss_bin_weight
        if not bool(self.loss_bin_weight.any()):  # once: a resumed run has loaded them
            lw = self.loss_weighting
            power = bin_power(x0.detach(), int(lw["hop"]))
            if self._trainer is not None and self.trainer.world_size > 1:
                power = self.all_gather(power).mean(dim=0)
            w = tilt_weights(power, float(lw["gamma"]), float(lw["max_weight"]), int(lw["smooth_bins"]))
            self.loss_bin_weight.copy_(w)
        self._bin_weight_ready = True
        return self.loss_bin_weight

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        x0 = batch
        sigma, noise = self._noise(x0)
        per_example = self._loss(x0, sigma, noise, self._bin_weight(x0))
        loss = per_example.mean()
        idx = torch.bucketize(sigma, self.bucket_edges[1:-1].to(sigma.device)).cpu()
        self._bucket_sum.index_add_(0, idx, per_example.detach().float().cpu())
        self._bucket_count.index_add_(0, idx, torch.ones_like(idx, dtype=torch.float32))
        self.log("train/loss", loss, prog_bar=True, batch_size=x0.shape[0])
        now = time.perf_counter()
        if self._t_last is not None:
            rate = x0.numel() * self.trainer.world_size / self.config["data"]["sample_rate"] / (now - self._t_last)
            self.log("train/audio_sec_per_sec", rate, batch_size=x0.shape[0])
        self._t_last = now
        every = int(self.config.get("log_sigma_every", 50))
        if (self.global_step + 1) % every == 0:
            self._log_buckets()
        return loss

    def _log_buckets(self) -> None:
        edges = self.bucket_edges.cpu()
        for i in range(len(edges) - 1):
            if self._bucket_count[i] > 0:
                lo = math.sqrt(float(edges[i]) * float(edges[i + 1]))
                self.log(
                    f"train_loss_sigma/{lo:.1e}",
                    float(self._bucket_sum[i] / self._bucket_count[i]),
                    rank_zero_only=True,
                )
        self._bucket_sum.zero_()
        self._bucket_count.zero_()

    def on_train_epoch_start(self) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None and hasattr(datamodule, "set_epoch"):
            from dps.data.datamodule import data_epoch

            datamodule.set_epoch(data_epoch(self.trainer))

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        """Loss at fixed sigmas with fixed noise: a per-sigma curve comparable across runs and families."""
        x0 = batch
        if batch_idx == 0 and int(self.config.get("val_samples", 0)) > 0 and self.global_rank == 0:
            self._log_samples(x0.shape[-1])  # here, not at epoch end: the EMA weights are swapped in
        g = torch.Generator(device="cpu").manual_seed(1234 + batch_idx)
        losses = []
        for s in VAL_SIGMAS:
            noise = torch.randn(x0.shape, generator=g).to(x0.device, x0.dtype)
            sigma = torch.full((x0.shape[0],), s, device=x0.device, dtype=x0.dtype)
            loss = self._loss(x0, sigma, noise).mean()
            losses.append(loss)
            self.log(f"val_loss_sigma/{s:.0e}", loss, sync_dist=True, batch_size=x0.shape[0])
        self.log("val/loss", torch.stack(losses).mean(), prog_bar=True, sync_dist=True, batch_size=x0.shape[0])

    def _log_samples(self, length: int) -> None:
        """Unconditional samples as WAV + spectrogram PNG in RUN/samples/step-N, and as W&B audio and images."""
        from pathlib import Path

        import soundfile as sf

        from dps.prior.samples import spectrogram_image, unconditional_samples, write_png

        sr = int(self.config["data"]["sample_rate"])
        x = unconditional_samples(
            self.denoiser,
            self.schedule,
            int(self.config["val_samples"]),
            length,
            int(self.config.get("sample_levels", 50)),
            int(self.config.get("sample_steps", 2)),
        )
        audio = [np.clip(a.numpy(), -1, 1) for a in x]
        images = [spectrogram_image(a) for a in audio]
        out = Path(self.config["run_dir"]) / "samples" / f"step-{self.global_step}"
        out.mkdir(parents=True, exist_ok=True)
        for i, (a, img) in enumerate(zip(audio, images)):
            sf.write(out / f"sample{i}.wav", a, sr)
            write_png(out / f"sample{i}.png", img)
        for logger in self.loggers:
            if type(logger).__name__ == "WandbLogger":
                logger.log_audio("val/samples", audio, step=self.global_step, sample_rate=[sr] * len(audio))
                logger.log_image("val/spectrograms", images, step=self.global_step)

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Log the gradient norm; a non-finite one zeroes the step's gradients, too many stop the run."""
        grads = [p.grad for p in self.parameters() if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
        if self._trainer is not None:
            self.log("train/grad_norm", norm)
        if not torch.isfinite(norm):
            self._nonfinite += 1
            for g in grads:
                g.zero_()
            limit = int(self.config.get("max_nonfinite_steps", 20))
            if self._nonfinite > limit:
                raise RuntimeError(
                    f"training stopped: {self._nonfinite} steps with non-finite gradients (limit {limit}); "
                    "lower optim.lr or check the data for NaN"
                )
        else:
            self._nonfinite = 0

    def configure_optimizers(self) -> Any:
        o = self.optim_cfg
        opt = torch.optim.AdamW(
            self.parameters(),
            lr=o["lr"],
            betas=tuple(o.get("betas", (0.9, 0.99))),
            weight_decay=o.get("weight_decay", 0.0),
        )
        warmup = int(o.get("warmup_steps", 500))
        total = int(o.get("decay_steps", 100_000))
        floor = float(o.get("min_lr_ratio", 0.1))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            t = min(1.0, (step - warmup) / max(1, total - warmup))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
