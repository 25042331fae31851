"""dps eval table | checkpoints RUN_DIR: result tables, listening page, ViSQOL per checkpoint."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dps.cli.common import resolve_device
from dps.paths import DATA_ROOT, EVAL_CACHE, EVAL_SETS


def add_parser(commands: argparse._SubParsersAction) -> None:
    ap = commands.add_parser("eval", help="result tables and ViSQOL per checkpoint", description=__doc__)
    sub = ap.add_subparsers(dest="eval_command", required=True, metavar="ACTION")
    t = sub.add_parser("table", help="ViSQOL tables over content x bitrate x prior x decoder, plots, listening page")
    t.add_argument("--content", default="speech,piano,music", help="contents, comma-separated")
    t.add_argument(
        "--items",
        action="append",
        help="CONTENT=PATH (manifest, audio file or folder); default: the content's validation split under --data-root",
    )
    t.add_argument("--data-root", type=Path, default=DATA_ROOT)
    t.add_argument(
        "--eval-set",
        default="validation",
        choices=list(EVAL_SETS),
        help="default items: the corpora's validation splits, the cross-source sets (dps data build cross) or the "
        "leave-source-out tuning sets (dps data build tuning)",
    )
    t.add_argument("--priors", default="matched", help="'matched' (the content's shipped prior), names or files")
    t.add_argument("--bitrates", default="8,16,24,32,48")
    t.add_argument("--decoders", default=None, help="comma-separated (default: legacy, dps-noisy, dps-tweedie, peers)")
    t.add_argument("--preset", default="fast")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="decode setting override")
    t.add_argument("--modes", default="audio", help="ViSQOL modes: audio (48 kHz), speech (16 kHz); first is shown")
    t.add_argument("--n-items", type=int, default=6, help="items per content")
    t.add_argument("--seconds", type=float, default=4.0, help="excerpt length (the loudest window)")
    t.add_argument(
        "--item-offset", type=float, default=0.0, help="0: the result tables' items; 0.5: the tuning items between them"
    )
    t.add_argument("--listen-bitrate", type=float, default=16.0)
    t.add_argument("--listen-items", type=int, default=2, help="items per content on the listening page")
    t.add_argument("--out", type=Path, default=Path("results/table"))
    t.add_argument("--cache", type=Path, default=EVAL_CACHE)
    t.add_argument("--no-cache", action="store_true")
    t.add_argument("--workers", type=int, default=2, help="ViSQOL processes")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--no-progress", action="store_true")
    t.add_argument("--device", default="auto", help="decode on: auto (a CUDA GPU when present), cpu, cuda or cuda:N")
    t.add_argument(
        "--devices", type=int, default=1, help="decode in N processes (GPU k, or the CPU), each a share of the items"
    )
    t.add_argument("--shard", default=None, help=argparse.SUPPRESS)  # K/N: one of --devices' processes
    c = sub.add_parser("checkpoints", help="ViSQOL of every checkpoint of a run: eval/visqol_vs_step.{csv,png}")
    c.add_argument("run_dir", type=Path)
    c.add_argument("--items", help="manifest, audio file or folder (default: the run's validation manifest)")
    c.add_argument("--n-items", type=int, default=4)
    c.add_argument("--seconds", type=float, default=3.0)
    c.add_argument("--bitrates", default="16")
    c.add_argument("--preset", default="fast")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="decode setting override")
    c.add_argument("--item-offset", type=float, default=0.5, help="0: the table's items; 0.5: disjoint ones")
    c.add_argument("--no-progress", action="store_true")
    c.add_argument("--device", default="auto", help="decode on: auto (a CUDA GPU when present), cpu, cuda or cuda:N")
    c.add_argument("--devices", type=int, default=1, help="score in N processes (GPU k, or the CPU), a share each")
    c.add_argument("--shard", default=None, help=argparse.SUPPRESS)
    t.set_defaults(run=table)
    c.set_defaults(run=checkpoints)


def _floats(text: str) -> list[float]:
    try:
        return [float(b) for b in text.split(",") if b]
    except ValueError:
        raise ValueError(f"--bitrates: expected numbers separated by commas, got {text!r}") from None


def _items(args: argparse.Namespace) -> list:
    from dps.eval.items import eval_set_manifest, items_from

    specs = dict(s.split("=", 1) for s in args.items or [] if "=" in s)
    bad = [s for s in args.items or [] if "=" not in s]
    if bad:
        raise ValueError(f"--items: expected CONTENT=PATH, got {bad[0]!r}")
    out = []
    for content in args.content.split(","):
        spec = specs.get(content, eval_set_manifest(args.data_root, args.eval_set, content))
        out += items_from(spec, content, args.n_items, args.seconds, offset=args.item_offset)
    return out


def table(args: argparse.Namespace) -> int:
    from dps.codec import check_bitrate
    from dps.eval.listening import write_listening_page
    from dps.eval.scoring import metric_names
    from dps.eval.table import TableRunner, write_outputs
    from dps.sampler.decoder import dotlist_overrides

    t0 = time.perf_counter()
    bitrates = [check_bitrate(b) for b in _floats(args.bitrates)]
    modes = args.modes.split(",")
    from dps.eval.table import DECODERS

    runner = TableRunner(
        (args.decoders or ",".join(DECODERS)).split(","),
        args.priors.split(","),
        args.preset,
        modes,
        None if args.no_cache else args.cache,
        args.workers,
        args.seed,
        dotlist_overrides(args.set),
        resolve_device(args.device),
    )
    items = _items(args)
    if args.shard:  # a share of the items, decoded and scored into the cache; the parent writes the table
        k, n = (int(v) for v in args.shard.split("/"))
        runner.run(items[k::n], bitrates, progress=False)
        return 0
    if args.devices > 1:
        if args.no_cache:
            raise ValueError("--devices: the processes hand their decodes over through the cache; drop --no-cache")
        run_shards(args)
    rows = runner.run(items, bitrates, progress=not args.no_progress)
    info = {
        "argv": sys.argv,
        "items": [it.name for it in items],
        "seconds": args.seconds,
        "preset": args.preset,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    paths = write_outputs(rows, args.out, modes, info)
    listen_kb = args.listen_bitrate if args.listen_bitrate in bitrates else bitrates[0]
    metric = metric_names(modes)[0]
    listen_items = [
        it
        for c in dict.fromkeys(it.content for it in items)
        for it in [x for x in items if x.content == c][: args.listen_items]
    ]
    decoded = {
        it.name: {
            r.decoder: runner.audio[(it.name, listen_kb, r.decoder)]
            for r in rows
            if r.item == it.name and r.bitrate == listen_kb and not r.reason
        }
        for it in listen_items
    }
    scores = {
        it.name: {r.decoder: r.scores.get(metric) for r in rows if r.item == it.name and r.bitrate == listen_kb}
        for it in listen_items
    }
    page = write_listening_page(
        args.out / "listening.html",
        listen_items,
        decoded,
        scores,
        f"dps listening test at {listen_kb:g} kb/s",
        seed=args.seed,
    )
    print((args.out / "table.md").read_text())
    missing = sum(1 for r in rows if r.reason)
    print(
        f"{len(rows)} cells ({missing} missing) in {time.perf_counter() - t0:.0f} s; wrote "
        + ", ".join(str(p) for p in [*paths.values(), page])
    )
    return 0


def run_shards(args: argparse.Namespace) -> None:
    """--devices N: N processes of this command, process k on GPU k (or the CPU, its cores shared), each doing every
    N-th item (table: into the cache; checkpoints: into a shard file); the parent then assembles the result."""
    import os
    import subprocess

    gpu = resolve_device(args.device).startswith("cuda")
    threads = str(max(1, (os.cpu_count() or 1) // args.devices))
    procs = []
    for k in range(args.devices):
        device = f"cuda:{k}" if gpu else "cpu"
        cmd = [sys.executable, "-m", "dps", *args.argv, "--shard", f"{k}/{args.devices}", "--device", device]
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env))
    errors = [p.communicate()[1] for p in procs]  # reads each pipe to the end, then reaps the process
    failed = [(k, err) for k, (p, err) in enumerate(zip(procs, errors)) if p.returncode != 0]
    if failed:
        k, err = failed[0]
        last = (err.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"--devices: process {k} of {args.devices} failed: {last}")


def checkpoints(args: argparse.Namespace) -> int:
    from dps.eval.checkpoints import evaluate_run
    from dps.sampler.decoder import dotlist_overrides

    overrides = {
        "n_items": args.n_items,
        "seconds": args.seconds,
        "bitrates": _floats(args.bitrates),
        "preset": args.preset,
        "item_offset": args.item_offset,
    }
    if args.set:  # else keep the run's own visqol.overrides
        overrides["overrides"] = dotlist_overrides(args.set)
    if args.items:
        overrides["items"] = args.items
    device = resolve_device(args.device)
    if args.shard:
        k, n = (int(v) for v in args.shard.split("/"))
        evaluate_run(args.run_dir, overrides, progress=False, device=device, shard=(k, n))
        return 0
    if args.devices > 1:
        from dps.eval.checkpoints import assemble_shards

        run_shards(args)
        out = assemble_shards(args.run_dir, args.devices)
    else:
        out = evaluate_run(args.run_dir, overrides, progress=not args.no_progress, device=device)
    print((out / "visqol_vs_step.csv").read_text())
    print(f"wrote {out}/visqol_vs_step.{{csv,json,png}}")
    return 0
