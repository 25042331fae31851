"""Training benchmark: parameters, FLOPs per audio-second and CPU training throughput per family and size;
optionally the per-sigma validation loss of runs trained for equal wall time (their metrics.csv files).

python bench/train.py [--sizes tiny,base] [--runs NAME=metrics.csv ...] [--out bench/results/train.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from dps.prior.config import load_prior_config
from dps.prior.module import ScorePriorModule

ROOT = Path(__file__).resolve().parents[1]


def measure(family: str, size: str, batch: int, steps: int) -> dict:
    cfg = load_prior_config(ROOT / "configs" / "prior" / "speech.yaml", [f"family={family}", f"size={size}"])
    module = ScorePriorModule(cfg)
    params = sum(p.numel() for p in module.denoiser.parameters())
    x1 = torch.randn(1, 22050) * 0.1
    with FlopCounterMode(display=False) as fc:
        module.denoiser(x1, torch.tensor([0.1]))
    flops = fc.get_total_flops()
    seg = 32768
    opt = torch.optim.AdamW(module.parameters(), lr=1e-4)
    x = torch.randn(batch, seg) * 0.1
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        loss = module._loss(x, module.schedule.sample(batch), torch.randn_like(x)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    rate = batch * seg / 22050 / (sum(times) / len(times))
    return {
        "family": family,
        "size": size,
        "parameters_M": params / 1e6,
        "gflop_per_audio_s": flops / 1e9,
        "train_audio_s_per_s": rate,
    }


def ddp_throughput(devices: int, steps: int, workdir: Path) -> float:
    """Audio-seconds per second of the tiny wave prior on the fixtures, `devices` CPU processes (DDP when > 1)."""
    import os
    import subprocess
    import sys

    run = workdir / f"ddp{devices}"
    args = [
        sys.executable,
        str(ROOT / "train.py"),
        str(ROOT / "configs" / "prior" / "smoke.yaml"),
        f"run_dir={run}",
        "network.channels=[48,64,96,128]",
        "network.blocks=2",
        "network.emb_dim=128",
        "network.heads=4",
        "data.segment_seconds=1.486",
        "data.batch_size=8",
        "data.segments_per_epoch=800",
        f"trainer.max_steps={steps}",
        "trainer.log_every_n_steps=1",
        "val_samples=0",
        "trainer.accelerator=cpu",
        f"trainer.devices={devices}",
        f"trainer.strategy={'ddp' if devices > 1 else 'auto'}",
        f"data.manifest={ROOT / 'tests' / 'fixtures' / 'manifest.jsonl'}",
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, 2 // devices)), WANDB_MODE="offline")
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
    rates = [
        float(r["train/audio_sec_per_sec"])
        for p in run.glob("csv/version_*/metrics.csv")
        for r in csv.DictReader(open(p))
        if r.get("train/audio_sec_per_sec")
    ]
    return sum(rates[2:]) / max(1, len(rates[2:]))


def val_curve(path: Path) -> dict:
    rows = [r for r in csv.DictReader(open(path)) if r.get("val/loss")]
    last = rows[-1]
    curve = {k.split("/")[1]: float(last[k]) for k in last if k.startswith("val_loss_sigma/") and last[k]}
    return {"step": int(last["step"]), "val_loss": float(last["val/loss"]), "per_sigma": curve}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="tiny,base")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--runs", nargs="*", default=[], help="NAME=path/to/metrics.csv of equal-wall-time runs")
    ap.add_argument("--ddp-steps", type=int, default=0, help="also measure 1 vs 2 DDP CPU processes (steps each)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "train.json"))
    args = ap.parse_args()
    ddp = {}
    if args.ddp_steps:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            ddp = {n: ddp_throughput(n, args.ddp_steps, Path(tmp)) for n in (1, 2)}
        print(
            f"tiny wave prior, 2 CPU cores: 1 process {ddp[1]:.1f} audio-s/s, 2 DDP processes {ddp[2]:.1f} "
            f"(ratio {ddp[2] / ddp[1]:.2f})"
        )
    sizes = [s for s in args.sizes.split(",") if s]
    rows = [measure(f, s, args.batch, args.steps) for s in sizes for f in ("wave_unet", "mdct_unet")]
    print(f"CPU, torch threads {torch.get_num_threads()}, batch {args.batch} x 1.49 s")
    print("| family | size | parameters (M) | GFLOP per audio-second (forward) | training audio-s per s |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['family']} | {r['size']} | {r['parameters_M']:.2f} | {r['gflop_per_audio_s']:.1f} | "
            f"{r['train_audio_s_per_s']:.1f} |"
        )
    curves = {}
    for spec in args.runs:
        name, path = spec.split("=", 1)
        curves[name] = val_curve(Path(path))
    if curves:
        sigmas = sorted({s for c in curves.values() for s in c["per_sigma"]}, key=float)
        print("\n| run | steps | val loss | " + " | ".join(f"sigma {s}" for s in sigmas) + " |")
        print("|---" * (len(sigmas) + 3) + "|")
        for name, c in curves.items():
            print(
                f"| {name} | {c['step']} | {c['val_loss']:.3f} | "
                + " | ".join(f"{c['per_sigma'].get(s, float('nan')):.3f}" for s in sigmas)
                + " |"
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"throughput": rows, "equal_time_runs": curves, "ddp": ddp}, indent=2))


if __name__ == "__main__":
    main()
