"""Decode-settings sweep on a GPU machine: ViSQOL of legacy and DPS decodes per item, many processes side by side.

The `paper` sampler (1500 steps from noise) costs 8-35 CPU-minutes per 6 files here, so its temperature and
posterior-sample averaging could not be swept on the 2-core CPU; on one GPU the same sweep takes minutes.

Here:  python results/tuning/gpu_sweep/sweep.py prep --data-root ~/.cache/dps/data --out .gpuS/items.npz
There: python results/tuning/gpu_sweep/sweep.py run --items .gpuS/items.npz --out $OUT --workers 14 --deadline 420
Phase 1 scores every spec on the tuning sets (no table or held-out file); phase 2 decodes the held-out sets with
the spec that scored best on the music tuning files, chosen by the script, not by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "fast": ("fast", {}),
    "fast_s8": ("fast", {"samples": 8}),
    "paper": ("paper", {}),
    "paper_t07": ("paper", {"temperature": 0.7}),
    "paper_t05": ("paper", {"temperature": 0.5}),
    "paper_t03": ("paper", {"temperature": 0.3}),
    "paper_s8": ("paper", {"samples": 8}),
    "paper_t05_s8": ("paper", {"temperature": 0.5, "samples": 8}),
}
# fast_s8 (the mean of 8 posterior samples) scored -0.069 on 2 music files in a CPU smoke run: one probe of it left.
TUNING = [("music", ["fast", "paper_t05", "paper", "paper_t07", "paper_t03", "paper_s8"])]
TUNING += [(c, ["fast", "paper_t05", "paper"]) for c in ("speech", "piano")]
KBPS = 16.0
_STATE: dict[str, Any] = {}


def prep(data_root: Path, out: Path, n_heldout: int) -> None:
    """Tuning sets (6 at offset 0.5 + 12 at 0.25, as bench/tune_decode.py) and held-out sets, as float32."""
    from dps.eval.items import items_from

    arrays, meta = {}, []
    for content in ("music", "speech", "piano"):
        sets = [("tune", items_from(data_root / content / "manifest.jsonl", content, 6, 4.0, offset=0.5))]
        sets[0][1].extend(items_from(data_root / content / "manifest.jsonl", content, 12, 4.0, offset=0.25))
        held = data_root / content / ("heldout_excerpts" if content == "piano" else "heldout.jsonl")
        sets.append(("heldout", items_from(held, content, n_heldout, 4.0)))
        for split, items in sets:
            for it in items:
                key = f"a{len(meta)}"
                arrays[key] = it.audio.astype(np.float32)
                meta.append({"key": key, "split": split, "content": content, "name": it.name, "sr": it.sample_rate})
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, meta=json.dumps(meta), **arrays)
    print(f"wrote {out}: {len(meta)} items, {out.stat().st_size / 1e6:.1f} MB")


def _init(items: str, device: str, deadline: float) -> None:
    import torch

    torch.set_num_threads(1)
    data = np.load(items)
    _STATE.update(items=data, device=device, deadline=deadline, decoders={})


def _job(job: dict[str, Any]) -> dict[str, Any]:
    from dps.codec import decode_legacy, encode, parse
    from dps.eval.scoring import score_pairs

    out = dict(job)
    if time.time() > _STATE["deadline"]:
        return out | {"skipped": True}
    t0 = time.perf_counter()
    try:
        x = _STATE["items"][job["key"]].astype(np.float64)
        m = parse(encode(x, KBPS))
        if job["spec"] == "legacy":
            y = decode_legacy(m, seed=0)
        else:
            y, stats = _decoder(job["content"], job["spec"]).decode(m, seed=0)
            out |= {k: stats[k] for k in ("nfe", "vjp", "inside", "wall_s")}
        (s,) = score_pairs([(x, y)], job["sr"], ["audio"])
        out |= {"visqol": s["visqol_audio_48k"], "snr_db": s["snr_db"], "job_s": round(time.perf_counter() - t0, 2)}
    except Exception as exc:  # one failed cell must not end the sweep; the reason is recorded
        out["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    return out


def _decoder(content: str, spec: str) -> Any:
    from dps.prior.export import load_prior
    from dps.prior.registry import resolve_prior
    from dps.sampler import DecodeSettings, PosteriorDecoder

    key = (content, spec)
    if key not in _STATE["decoders"]:
        preset, overrides = SPECS[spec]
        settings = DecodeSettings.from_preset(preset, conditioning="noisy_mean", **overrides)
        prior = load_prior(resolve_prior(content))
        _STATE["decoders"][key] = PosteriorDecoder(prior, settings, device=_STATE["device"])
    return _STATE["decoders"][key]


def _run_jobs(pool: Any, jobs: list[dict[str, Any]], log: Path) -> list[dict[str, Any]]:
    res = []
    with log.open("a") as f:
        for r in pool.imap_unordered(_job, jobs):
            res.append(r)
            f.write(json.dumps(r) + "\n")
            f.flush()
    done = sum(1 for r in res if "visqol" in r)
    print(f"{done}/{len(jobs)} scored, {sum('error' in r for r in res)} failed", flush=True)
    for r in res:
        if "error" in r:
            print("error:", r["spec"], r["name"], r["error"], flush=True)
            break
    return res


def summary(rows: list[dict[str, Any]], split: str) -> dict[tuple[str, str], dict[str, float]]:
    """Mean and worst ViSQOL gain over legacy per (content, spec), over the items both scored."""
    legacy = {r["key"]: r["visqol"] for r in rows if r["spec"] == "legacy" and "visqol" in r}
    out: dict[tuple[str, str], dict[str, float]] = {}
    for content, spec in sorted({(r["content"], r["spec"]) for r in rows if r["split"] == split}):
        if spec == "legacy":
            continue
        d = [
            r["visqol"] - legacy[r["key"]]
            for r in rows
            if r["split"] == split and r["content"] == content and r["spec"] == spec
            if "visqol" in r and r["key"] in legacy
        ]
        if d:
            sem = float(np.std(d, ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
            out[(content, spec)] = {"n": len(d), "mean": float(np.mean(d)), "sem": sem, "min": float(np.min(d))}
    return out


def _print(s: dict[tuple[str, str], dict[str, float]], title: str) -> None:
    print(f"\n{title}\n| content | spec | n | DPS - legacy | sem | worst |\n|---|---|---|---|---|---|")
    for (c, spec), v in s.items():
        print(f"| {c} | {spec} | {v['n']} | {v['mean']:+.3f} | {v['sem']:.3f} | {v['min']:+.3f} |", flush=True)


def run(args: argparse.Namespace) -> None:
    data = np.load(args.items)
    meta = json.loads(str(data["meta"]))
    t_end = time.time() + args.deadline
    log = args.out / "sweep.jsonl"
    ctx = get_context("spawn")
    tune = dict(TUNING)
    jobs = [m | {"spec": "legacy"} for m in meta]
    for content, specs in TUNING:  # interleaved by item so a deadline leaves every spec with some items
        rows = [m for m in meta if m["split"] == "tune" and m["content"] == content]
        jobs += [m | {"spec": s} for m in rows for s in specs]
    p1_end = t_end - args.phase2
    _init(str(args.items), args.device, t_end)  # fail fast: one decode here before any pool starts
    smoke = _job(meta[0] | {"spec": "fast"})
    print("smoke:", smoke, flush=True)
    if "error" in smoke:
        raise SystemExit(1)
    with ctx.Pool(args.workers, initializer=_init, initargs=(str(args.items), args.device, p1_end)) as pool:
        rows = _run_jobs(pool, jobs, log)
    s1 = summary(rows, "tune")
    _print(s1, "phase 1: tuning sets, 16 kb/s, matched priors, noisy mean")
    music = {spec: v for (c, spec), v in s1.items() if c == "music" and v["n"] >= 6}
    best = max(music, key=lambda k: music[k]["mean"]) if music else "paper_t05"
    print(f"phase 2 spec (best on the music tuning files): {best}", flush=True)
    held = [m for m in meta if m["split"] == "heldout"]
    jobs2 = [m | {"spec": best} for c in ("music", "speech", "piano") for m in held if m["content"] == c]
    with ctx.Pool(args.workers, initializer=_init, initargs=(str(args.items), args.device, t_end)) as pool:
        rows += _run_jobs(pool, jobs2, log)
    s2 = summary(rows, "heldout")
    _print(s2, f"phase 2: held-out sets, {best}")
    res = {"phase1": {f"{c}/{s}": v for (c, s), v in s1.items()}, "best": best}
    res["phase2"] = {f"{c}/{s}": v for (c, s), v in s2.items()}
    res["specs"], res["tuning"] = {k: SPECS[k] for k in SPECS}, tune
    (args.out / "summary.json").write_text(json.dumps(res, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--data-root", type=Path, default=Path.home() / ".cache/dps/data")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--n-heldout", type=int, default=40)
    r = sub.add_parser("run")
    r.add_argument("--items", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--workers", type=int, default=14)
    r.add_argument("--device", default="cuda")
    r.add_argument("--deadline", type=float, default=420.0, help="seconds until no new job starts")
    r.add_argument("--phase2", type=float, default=150.0, help="seconds of the deadline kept for phase 2")
    r.add_argument("--only", default=None, help="comma-separated specs (a local smoke run)")
    args = ap.parse_args()
    if args.cmd == "prep":
        prep(args.data_root, args.out, args.n_heldout)
    else:
        if args.only:
            keep = args.only.split(",")
            TUNING[:] = [(c, [s for s in specs if s in keep]) for c, specs in TUNING]
        args.out.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("WANDB_MODE", "offline")
        run(args)


if __name__ == "__main__":
    main()
