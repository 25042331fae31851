"""Sampler benchmark: time per step and peak memory (noisy mean vs Tweedie), real-time factor per preset.

python bench/sampler.py [--prior speech] [--seconds 3] [--rounds 5] [--rows NAME ...] [--out bench/results/sampler.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path

import torch

from dps.codec import encode, parse
from dps.prior.export import load_prior
from dps.prior.registry import resolve_prior
from dps.sampler import DecodeSettings, PosteriorDecoder

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_profile(prior, m) -> dict[str, float]:
    """Mean ms per noisy-mean step of each part, timed inside a real `fast` decode with a network pass at every step."""
    import dps.sampler.conditioning as conditioning

    totals: dict[str, float] = {}

    def timed(name, f):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            out = f(*args, **kwargs)
            totals[name] = totals.get(name, 0.0) + 1000 * (time.perf_counter() - t0)
            return out

        return wrapper

    names = ("mdct", "coefficient_term", "energy_term", "imdct")
    saved = {n: getattr(conditioning, n) for n in names}
    saved_gradient, saved_score = conditioning.NoisyMeanConditioning.gradient_at, prior.score
    try:
        for n in names:
            setattr(conditioning, n, timed(n, saved[n]))
        conditioning.NoisyMeanConditioning.gradient_at = timed("conditioning", saved_gradient)
        prior.score = timed("network", saved_score)
        dec = PosteriorDecoder(prior, DecodeSettings.from_preset("fast", network_sigma_min=0.0))
        _, st = dec.decode(m)
        totals.clear()
        t0 = time.perf_counter()
        _, st = dec.decode(m)
        totals["whole_step"] = 1000 * (time.perf_counter() - t0)
    finally:
        for n in names:
            setattr(conditioning, n, saved[n])
        conditioning.NoisyMeanConditioning.gradient_at = saved_gradient
        del prior.score
    order = ("whole_step", "network", "conditioning", *names)
    return {k: totals.get(k, 0.0) / st["steps"] for k in order}


def conditioning_ms(m, calls: int = 40) -> dict[str, float]:
    """Median ms of one noisy-mean likelihood gradient as the sampler takes it (MDCT, both terms, inverse MDCT)."""
    from dps.sampler.conditioning import MeasurementTensors, NoisyMeanConditioning

    mt = MeasurementTensors.from_measurements(m)
    x = torch.randn(1, m.num_samples, generator=torch.Generator().manual_seed(0)) * 0.1
    sigma = torch.full((1,), 1e-3)
    out = {}
    for name, compiled in (("eager", False), ("compiled", True)):
        cond = NoisyMeanConditioning(mt, compiled=compiled)
        cond.gradient_at(x, sigma)  # compiles when asked
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            cond.gradient_at(x, sigma)
            times.append(1000 * (time.perf_counter() - t0))
        out[name] = statistics.median(times)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prior", default="speech")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--paper-levels", type=int, default=500, help="levels of the paper preset (500 x 3 steps)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per conditioning (median)")
    ap.add_argument("--repeats", type=int, default=1, help="timed decodes per preset row (the row is their median)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "sampler.json"))
    ap.add_argument("--rows", nargs="*", default=None, help="run only the preset rows whose name has one of these")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error(f"--repeats: expected at least 1 timed decode, got {args.repeats}")
    import soundfile as sf

    x, _ = sf.read(ROOT / "tests" / "fixtures" / "speech.flac", dtype="float64")
    x = x[: int(args.seconds * 22050)]
    m = parse(encode(x, 16))
    prior = load_prior(resolve_prior(args.prior))
    rows = []
    profile = step_profile(prior, m)
    cond_ms = conditioning_ms(m)
    # Step rows: both conditionings in the same chunk layout (the target's ratio), in each of two layouts.
    layouts = {"one chunk": {"chunk_seconds": 60.0}, "the prior's chunks": {"chunk_seconds": 0.0}}
    decoders = {
        (cond, layout): PosteriorDecoder(
            prior, DecodeSettings.from_preset("fast", conditioning=cond, levels=10, network_sigma_min=0.0, **kw)
        )
        for layout, kw in layouts.items()
        for cond in ("noisy_mean", "tweedie")
    }
    times: dict[tuple[str, str], list[float]] = {key: [] for key in decoders}
    stats = {}
    for dec in decoders.values():
        dec.decode(m)  # warm-up
    for _ in range(args.rounds):  # interleaved, so a slow spell on a shared machine hits all alike
        for key, dec in decoders.items():
            t0 = time.perf_counter()
            _, stats[key] = dec.decode(m)
            times[key].append((time.perf_counter() - t0) / stats[key]["steps"])
    per_step = {key: statistics.median(t) for key, t in times.items()}
    for key in decoders:
        rows.append(
            {
                "what": f"step, {key[0]}, {key[1]}",
                "seconds_per_step": per_step[key],
                "seconds_per_step_rounds": times[key],
                "nfe": stats[key]["nfe"],
                "vjp": stats[key]["vjp"],
                "chunks": stats[key]["chunks"],
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    ratios = {layout: per_step[("noisy_mean", layout)] / per_step[("tweedie", layout)] for layout in layouts}
    round_ratios = {
        layout: [n / t for n, t in zip(times[("noisy_mean", layout)], times[("tweedie", layout)])] for layout in layouts
    }
    # As the presets run them (the noisy mean takes up to 8 s in one chunk, Tweedie the prior's length).
    own = {}
    for cond in ("noisy_mean", "tweedie"):
        cs = DecodeSettings.from_preset("fast", conditioning=cond).chunk_seconds
        own[cond] = "the prior's chunks" if cs == 0 else "one chunk" if args.seconds <= cs else None
    if None not in own.values():
        ratios["presets"] = per_step[("noisy_mean", own["noisy_mean"])] / per_step[("tweedie", own["tweedie"])]
        round_ratios["presets"] = [
            n / t for n, t in zip(times[("noisy_mean", own["noisy_mean"])], times[("tweedie", own["tweedie"])])
        ]
    # (row, preset, overrides, conditionings); "network at every level" is `fast` without network_sigma_min.
    bf16 = {"network_precision": "bfloat16"}
    cc = {"conditioning_compile": True}
    compiled = {"network_compile": True, **bf16, **cc}
    frozen = {**compiled, "network_freeze": True}
    # The presets' noisy mean decodes 4 s as one chunk; other chunk layouts, for comparison:
    prior_chunks = {"chunk_seconds": 0.0}  # the prior's 1.486 s chunks, 3 on 4 s
    fixed_hop = {**prior_chunks, "min_overlap_seconds": None}  # 4 chunks on 4 s at a fixed hop
    both, noisy = ("noisy_mean", "tweedie"), ("noisy_mean",)
    paper = {"levels": args.paper_levels}
    runs = [
        ("fast", "fast", {}, both),
        ("fast, fixed-hop chunks (min_overlap_seconds null)", "fast", fixed_hop, noisy),
        ("fast, bfloat16 network", "fast", bf16, both),
        ("fast, compiled conditioning", "fast", cc, noisy),
        ("fast, compiled bfloat16 network and conditioning", "fast", compiled, noisy),
        ("fast, compiled bfloat16 network (frozen) and conditioning", "fast", frozen, noisy),
        ("fast, network at every level", "fast", {"network_sigma_min": 0.0}, both),
        ("fast, Tweedie only above sigma 3e-3 (tweedie_sigma_min)", "fast", {"tweedie_sigma_min": 3e-3}, ("tweedie",)),
        ("paper", "paper", paper, both),
        ("paper, fixed-hop chunks (min_overlap_seconds null)", "paper", {**paper, **fixed_hop}, noisy),
        ("paper, bfloat16 network", "paper", {**paper, **bf16}, noisy),
        ("paper, compiled conditioning", "paper", {**paper, **cc}, noisy),
        ("paper, compiled bfloat16 network and conditioning", "paper", {**paper, **compiled}, noisy),
        ("paper, compiled bfloat16 network (frozen) and conditioning", "paper", {**paper, **frozen}, noisy),
        ("fast, the prior's chunks (chunk_seconds 0)", "fast", prior_chunks, noisy),
        ("paper, the prior's chunks (chunk_seconds 0)", "paper", {**paper, **prior_chunks}, noisy),
        (
            "paper, compiled bfloat16 and conditioning, the prior's chunks",
            "paper",
            {**paper, **compiled, **prior_chunks},
            noisy,
        ),
        (
            "paper, compiled bfloat16 and conditioning, network_sigma_min prior",
            "paper",
            {**paper, **compiled, "network_sigma_min": "prior"},
            noisy,
        ),
        ("paper, denoiser_refresh 3", "paper", {**paper, "denoiser_refresh": 3}, noisy),
        (
            "paper, compiled bfloat16 and conditioning, denoiser_refresh 3",
            "paper",
            {**paper, **compiled, "denoiser_refresh": 3},
            noisy,
        ),
        (
            "paper, compiled bfloat16 (frozen) and conditioning, denoiser_refresh 3",
            "paper",
            {**paper, **frozen, "denoiser_refresh": 3},
            noisy,
        ),
    ]
    if args.rows is not None:
        runs = [r for r in runs if any(k in r[0] for k in args.rows)]
    for name, preset, kw, conds in runs:
        for cond in conds:
            dec = PosteriorDecoder(prior, DecodeSettings.from_preset(preset, conditioning=cond, **kw))
            row = {}
            if kw.get("network_compile") or kw.get("conditioning_compile"):  # the first decode compiles; time the next
                # A fresh compile per row: after another row's shapes, dynamo would recompile with dynamic shapes,
                # whose kernels are slower (one-chunk `paper` RTF 27.0 after a three-chunk row, 19.5 with a reset).
                torch._dynamo.reset()
                _, st = dec.decode(m)
                row["first_decode_wall_s"] = st["wall_s"]
            runs_st = [dec.decode(m)[1] for _ in range(args.repeats)]
            st = sorted(runs_st, key=lambda r: r["rtf"])[(len(runs_st) - 1) // 2]  # the median (lower of two)
            rows.append(
                {
                    "what": f"preset {name}, {cond}",
                    "rtf": st["rtf"],
                    "rtf_runs": [r["rtf"] for r in runs_st],
                    "nfe": st["nfe"],
                    "vjp": st["vjp"],
                    "wall_s": st["wall_s"],
                    "inside_pct": 100 * st["inside"],
                    "chunks": st["chunks"],
                    **row,
                }
            )
    print(
        f"prior {args.prior} ({sum(p.numel() for p in prior.parameters()) / 1e6:.2f} M parameters), "
        f"{args.seconds:g} s of speech at 16 kb/s, torch threads {torch.get_num_threads()}"
    )
    print("| run | s/step | RTF | network evaluations | VJPs | % coefficients inside | chunks |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['what']} | {r.get('seconds_per_step', float('nan')):.3f} | {r.get('rtf', float('nan')):.2f} | "
            f"{r['nfe']} | {r['vjp']} | {r.get('inside_pct', float('nan')):.2f} | {r.get('chunks', '')} |"
        )
    for r in rows:
        runs_rtf = r.get("rtf_runs", [])
        timed = "the row is the next" if len(runs_rtf) < 2 else f"the row is the median of the next {len(runs_rtf)}"
        if "first_decode_wall_s" in r:
            print(f"{r['what']}: first decode {r['first_decode_wall_s']:.1f} s (compiling), {timed}")
        if len(runs_rtf) > 1:
            print(f"{r['what']}: RTF of each timed decode " + ", ".join(f"{v:.2f}" for v in runs_rtf))
    print(
        "one noisy-mean step of `fast`, mean ms: "
        + ", ".join(f"{k} {v:.1f}" for k, v in profile.items())
        + " (conditioning = MDCT + both terms + inverse MDCT; the step also draws noise and updates x)"
    )
    print(
        f"noisy-mean conditioning per call, median ms: eager {cond_ms['eager']:.1f}, compiled {cond_ms['compiled']:.1f}"
    )
    for layout in ratios:
        rr = round_ratios[layout]
        print(
            f"noisy-mean step / Tweedie step, {layout}: {ratios[layout]:.3f} (medians of {args.rounds} interleaved "
            f"rounds; per round {min(rr):.3f}-{max(rr):.3f})"
        )
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "machine": platform.machine(),
                "threads": torch.get_num_threads(),
                "seconds": args.seconds,
                "rows": rows,
                "noisy_over_tweedie": ratios,
                "noisy_over_tweedie_rounds": round_ratios,
                "step_profile_ms": profile,
                "conditioning_ms": cond_ms,
                "peak_rss_mb": peak_rss_mb(),
            },
            indent=2,
            default=float,
        )
    )


if __name__ == "__main__":
    main()
