"""ViSQOL of a prior while it trains: a fixed validation set decoded per checkpoint, legacy scored once."""

from __future__ import annotations

import copy
import csv
import json
import re
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from dps.audio import atomic_path
from dps.codec import decode_legacy, encode, parse
from dps.eval.items import Item, items_from
from dps.eval.visqol import Visqol


class CheckpointScorer:
    """Mean ViSQOL of DPS and legacy on fixed items at fixed bitrates; metric keys visqol/{dps,legacy,delta}_Nk."""

    def __init__(
        self,
        items: list[Item],
        bitrates: list[float],
        preset: str = "fast",
        mode: str = "audio",
        overrides: dict[str, Any] | None = None,
    ) -> None:
        if not items:
            raise ValueError("ViSQOL per checkpoint: no validation items")
        self.items, self.bitrates, self.preset = items, bitrates, preset
        self.overrides = overrides or {}
        self.visqol = Visqol(mode)
        self.measurements = {(it.name, kb): parse(encode(it.audio, kb)) for it in items for kb in bitrates}
        self.legacy = {
            kb: float(
                np.mean(
                    [
                        self.visqol(it.audio, decode_legacy(self.measurements[(it.name, kb)]), it.sample_rate)
                        for it in items
                    ]
                )
            )
            for kb in bitrates
        }

    def evaluate(self, prior: Any, seed: int = 0, device: str = "cpu") -> dict[str, float]:
        """Decode every item at every bitrate on `device` (the decoder moves the prior there)."""
        from dps.sampler import DecodeSettings, PosteriorDecoder

        decoder = PosteriorDecoder(prior, DecodeSettings.from_preset(self.preset, **self.overrides), device)
        out: dict[str, float] = {}
        for kb in self.bitrates:
            scores = []
            for it in self.items:
                y, _ = decoder.decode(self.measurements[(it.name, kb)], seed=seed)
                scores.append(self.visqol(it.audio, y, it.sample_rate))
            tag = f"{kb:g}k"
            out[f"visqol/dps_{tag}"] = float(np.mean(scores))
            out[f"visqol/legacy_{tag}"] = self.legacy[kb]
            out[f"visqol/delta_{tag}"] = out[f"visqol/dps_{tag}"] - self.legacy[kb]
        out["visqol/delta"] = float(np.mean([out[f"visqol/delta_{kb:g}k"] for kb in self.bitrates]))
        return out


def scorer_from_config(config: dict[str, Any]) -> CheckpointScorer:
    """Items from the run's validation manifest (or visqol.items), settings from config['visqol']."""
    v = config.get("visqol", {})
    spec = v.get("items") or config["data"]["manifest"]
    items = items_from(
        spec,
        config.get("content", "audio"),
        int(v.get("n_items", 4)),
        float(v.get("seconds", 3.0)),
        int(config["data"]["sample_rate"]),
        offset=float(v.get("item_offset", 0.5)),
    )
    return CheckpointScorer(
        items,
        [float(b) for b in v.get("bitrates", [16])],
        v.get("preset", "fast"),
        v.get("mode", "audio"),
        dict(v.get("overrides", {})),
    )


def detached_prior(pl_module: L.LightningModule, config: dict[str, Any]) -> Any:
    """A Prior over a copy of the module's denoiser and schedule: whatever a decoder does to it (moving it to a
    device, eval mode, compiling) never reaches the training network, its optimizer state or the EMA weights."""
    from dps.prior.denoiser import Denoiser
    from dps.prior.export import Prior

    net = getattr(pl_module.denoiser.net, "_orig_mod", pl_module.denoiser.net)  # torch.compile wraps the module
    denoiser = Denoiser(copy.deepcopy(net), pl_module.denoiser.sigma_data)
    return Prior(denoiser, copy.deepcopy(pl_module.schedule), config).eval()


class VisqolCallback(L.Callback):
    """Every N validation runs, decode the fixed set with the EMA weights and log ViSQOL (DPS, legacy, delta) and
    the seconds it took, on rank 0 (then broadcast), on the module's device or `visqol.device`.

    It must come before EMAWeightAveraging in the callback list: that callback swaps the EMA weights out in its
    own on_validation_epoch_end.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.every = int(config.get("visqol", {}).get("every_n_val", 1))
        self.device = config.get("visqol", {}).get("device")
        self._scorer: CheckpointScorer | None = None
        self._runs = 0

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self._runs += 1
        if (self._runs - 1) % self.every:
            return
        metrics: dict[str, float] = {}
        if trainer.is_global_zero:
            t0 = time.perf_counter()
            if self._scorer is None:
                self._scorer = scorer_from_config(self.config)
            prior = detached_prior(pl_module, self.config)
            with torch.inference_mode(False), torch.no_grad():
                metrics = self._scorer.evaluate(prior, device=str(self.device or pl_module.device))
            metrics["visqol/seconds"] = time.perf_counter() - t0
        metrics = trainer.strategy.broadcast(metrics, src=0)
        for k, v in metrics.items():
            pl_module.log(k, v, rank_zero_only=True)


def checkpoint_step(path: Path) -> int:
    m = re.search(r"step[-=](\d+)", path.name)
    return int(m.group(1)) if m else -1


def evaluate_run(
    run_dir: str | Path,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    device: str = "cpu",
    shard: tuple[int, int] | None = None,
) -> Path:
    """Every checkpoint of a run (each step once) -> eval/visqol_vs_step.{csv,json,png} in the run folder. With
    shard (k, n): only every n-th step from the k-th, into eval/shard-k-of-n.json for assemble_shards."""
    from tqdm import tqdm

    from dps.prior.export import prior_from_checkpoint

    run_dir = Path(run_dir)
    ckpts = sorted((run_dir / "checkpoints").glob("*.ckpt")) if (run_dir / "checkpoints").is_dir() else []
    if not ckpts:
        raise FileNotFoundError(f"{run_dir}: no checkpoints under {run_dir / 'checkpoints'}")
    by_step: dict[int, tuple[Path, Any]] = {}
    for p in ckpts:
        prior, step = prior_from_checkpoint(p)
        if step not in by_step or p.name.startswith("step-"):
            by_step[step] = (p, prior)
    config = next(iter(by_step.values()))[1].config
    if overrides:
        config = {**config, "visqol": {**config.get("visqol", {}), **overrides}}
    scorer = scorer_from_config(config)
    steps = sorted(by_step)[shard[0] :: shard[1]] if shard else sorted(by_step)
    rows = []
    for step in tqdm(steps, desc="checkpoints", disable=not progress):
        path, prior = by_step[step]
        rows.append({"step": step, "checkpoint": path.name, **scorer.evaluate(prior, device=device)})
    out = run_dir / "eval"
    out.mkdir(exist_ok=True)
    result = {"items": [it.name for it in scorer.items], "bitrates": scorer.bitrates, "rows": rows}
    if shard:
        with atomic_path(out / f"shard-{shard[0]}-of-{shard[1]}.json") as tmp:
            tmp.write_text(json.dumps(result))
        return out / f"shard-{shard[0]}-of-{shard[1]}.json"
    return _write_steps(out, result)


def assemble_shards(run_dir: str | Path, n: int) -> Path:
    """Join the n shard files of evaluate_run into the run's eval/visqol_vs_step.{csv,json,png}."""
    out = Path(run_dir) / "eval"
    parts = [json.loads((out / f"shard-{k}-of-{n}.json").read_text()) for k in range(n)]
    rows = sorted((r for part in parts for r in part["rows"]), key=lambda r: r["step"])
    path = _write_steps(out, {**parts[0], "rows": rows})
    for k in range(n):
        (out / f"shard-{k}-of-{n}.json").unlink()
    return path


def _write_steps(out: Path, result: dict[str, Any]) -> Path:
    rows = result["rows"]
    with atomic_path(out / "visqol_vs_step.csv") as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with atomic_path(out / "visqol_vs_step.json") as tmp:
        tmp.write_text(json.dumps({"items": result["items"], "rows": rows}, indent=1))
    _plot_steps(rows, result["bitrates"], out / "visqol_vs_step.png")
    return out


def _plot_steps(rows: list[dict[str, Any]], bitrates: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dps.eval.table import save_figure

    fig, ax = plt.subplots(figsize=(6, 4))
    steps = [r["step"] for r in rows]
    for kb in bitrates:
        tag = f"{kb:g}k"
        ax.plot(steps, [r[f"visqol/dps_{tag}"] for r in rows], marker="o", label=f"DPS {tag}b/s")
        ax.axhline(rows[0][f"visqol/legacy_{tag}"], ls="--", color="gray", label=f"legacy {tag}b/s")
    ax.set(xlabel="training step", ylabel="ViSQOL (mean)", title="ViSQOL per checkpoint")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path)
