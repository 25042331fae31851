"""Tune DPS decode settings for one prior: ViSQOL gain over legacy per setting, on a tuning set of validation items.

The tuning items are picked half a stride away from the table's items (`items_from(..., offset=0.5)`), so the
settings chosen here are then reported on audio they were not tuned on.

python bench/tune_decode.py --content speech --prior speech [--bitrate 16] [--preset fast] [--n-items 6]
    [--grid 'temperature=0.1' 'temperature=0.5,sigma_start=0.01' ...] [--out bench/results/tune_decode_speech.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dps.eval.items import items_from
from dps.eval.table import TableRunner
from dps.paths import DATA_ROOT, EVAL_CACHE
from dps.sampler.decoder import dotlist_overrides

DEFAULT_GRID = [
    "",
    "temperature=0.0",
    "temperature=0.1",
    "temperature=0.5",
    "sigma_start=0.01",
    "sigma_start=0.05",
    "zeta=0.5",
    "zeta=2.0",
    "energy_term=all",
    "energy_weight=0.5",
    "step_size=1.0",
    "final_denoise=true",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", default="speech")
    ap.add_argument("--prior", default="matched", help="shipped name, .safetensors path, or 'matched'")
    ap.add_argument("--bitrate", type=float, default=16.0)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--decoder", default="dps-noisy", choices=["dps-noisy", "dps-tweedie"])
    ap.add_argument("--n-items", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--offset", type=float, default=0.5, help="item pick offset (0 = the table's items)")
    ap.add_argument("--data-root", type=Path, default=DATA_ROOT)
    ap.add_argument("--grid", nargs="*", default=DEFAULT_GRID, help="comma-separated KEY=VALUE overrides per run")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=EVAL_CACHE)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(f"bench/results/tune_decode_{args.content}.json")
    items = items_from(
        args.data_root / args.content / "manifest.jsonl", args.content, args.n_items, args.seconds, offset=args.offset
    )
    legacy = TableRunner(["legacy"], [], cache=args.cache, workers=args.workers).run(items, [args.bitrate], False)
    base = np.array([r.scores["visqol_audio_48k"] for r in legacy])
    results = []
    print(f"{len(items)} items of {args.content} at {args.bitrate:g} kb/s; legacy {base.mean():.3f}", flush=True)
    for spec in args.grid:
        overrides = dotlist_overrides([p for p in spec.split(",") if p])
        t0 = time.perf_counter()
        runner = TableRunner(
            [args.decoder], [args.prior], args.preset, cache=args.cache, workers=args.workers, overrides=overrides
        )
        rows = runner.run(items, [args.bitrate], False)
        bad = [r.reason for r in rows if r.reason]
        if bad:  # one failed setting (e.g. a diverging step size) must not lose the rest of the grid
            results.append({"settings": spec or "(preset)", "error": bad[0]})
            print(f"{spec or '(preset)':<40} failed: {bad[0]}", flush=True)
            continue
        v = np.array([r.scores["visqol_audio_48k"] for r in rows])
        d = v - base
        res = {
            "settings": spec or "(preset)",
            "visqol": float(v.mean()),
            "delta": float(d.mean()),
            "delta_min": float(d.min()),
            "wins": int((d > 0).sum()),
            "per_item": v.tolist(),
            "nfe": rows[0].stats.get("nfe"),
            "wall_s": round(time.perf_counter() - t0, 1),
        }
        results.append(res)
        print(
            f"{res['settings']:<40} {res['visqol']:.3f}  {res['delta']:+.3f}  (min {res['delta_min']:+.3f}, "
            f"{res['wins']}/{len(items)} better)  {res['wall_s']:.0f} s",
            flush=True,
        )
    print("\n| settings | ViSQOL | DPS - legacy | worst item | items better |\n|---|---|---|---|---|")
    for r in sorted((r for r in results if "error" not in r), key=lambda r: -r["delta"]):
        cells = [r["settings"], f"{r['visqol']:.3f}", f"{r['delta']:+.3f}", f"{r['delta_min']:+.3f}"]
        print("| " + " | ".join(cells) + f" | {r['wins']}/{len(items)} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "content": args.content,
                "prior": args.prior,
                "bitrate": args.bitrate,
                "preset": args.preset,
                "decoder": args.decoder,
                "items": [it.name for it in items],
                "legacy": base.tolist(),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
