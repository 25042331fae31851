"""python -m dps.data build speech|piano|music|joint|all --root DIR | summary --root DIR | check --root DIR."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dps.cli_common import one_line_errors


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    from dps.data.build import BuildError, build_corpus
    from dps.data.manifest import read_manifest

    ap = argparse.ArgumentParser(prog="python -m dps.data", description="training and validation corpora")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("corpus", choices=["speech", "piano", "music", "joint", "all"])
    b.add_argument("--root", default="data")
    b.add_argument("--no-progress", action="store_true")
    s = sub.add_parser("summary")
    s.add_argument("--root", default="data")
    c = sub.add_parser("check", help="every file exists, durations and rates match, no file or track in two splits")
    c.add_argument("--root", default="data")
    c.add_argument("--hashes", action="store_true", help="also compare sha256 (reads every file)")
    args = ap.parse_args(argv)
    root = Path(args.root)
    if args.cmd == "build":
        corpora = ["speech", "piano", "music", "joint"] if args.corpus == "all" else [args.corpus]
        for c in corpora:
            t0 = time.perf_counter()
            try:
                path = build_corpus(c, root, progress=not args.no_progress)
            except BuildError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(f"{c}: {path} ({time.perf_counter() - t0:.0f} s)")
    if args.cmd == "check":
        from dps.data.manifest import check_manifest

        bad = 0
        for c in ["speech", "piano", "music", "joint"]:
            path = root / c / "manifest.jsonl"
            if path.is_file():
                problems = check_manifest(path, args.hashes)
                bad += len(problems)
                print(f"{c}: {len(read_manifest(path))} entries, {len(problems)} problems")
                for p in problems[:20]:
                    print(f"  {p}")
        return 1 if bad else 0
    for c in ["speech", "piano", "music", "joint"]:
        path = root / c / "manifest.jsonl"
        if path.is_file():
            entries = read_manifest(path)
            for split in ("train", "validation"):
                sel = [e for e in entries if e.split == split]
                print(f"{c:7s} {split:10s} {len(sel):6d} files {sum(e.duration for e in sel) / 60:8.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
