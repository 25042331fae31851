"""The speech corpus for the GPU machine: Czech oggs staged here (41 MB fit the 64 MiB transfer), WAV + manifest there.

Usage: python prep_speech.py stage PKG_SOUND_DIR OUT   (PKG_SOUND_DIR: the unpacked fillets-ng-data-cs sound folder)
       python prep_speech.py build OUT DATA_ROOT       (on the GPU machine: DATA_ROOT/manifest.jsonl)
Staged: every training level, and 3 of the 7 validation levels (kitchen, turtle, wreck: 4.3 min).
"""

import shutil
import sys
from multiprocessing import Pool
from pathlib import Path

from dps.data.build import convert_entry
from dps.data.manifest import Entry, write_manifest
from dps.data.sources import FILLETS_VAL

VAL_STAGED = ("kitchen", "turtle", "wreck")
SOURCE = "fillets-ng-data-cs"


def stage(sound: Path, out: Path) -> None:
    """Copy <level>/cs/*.ogg into OUT/speech/<level> (training) or OUT/speech_val/<level> (validation)."""
    for f in sorted(sound.glob("*/cs/*.ogg")):
        level = f.parts[-3]
        if level in FILLETS_VAL and level not in VAL_STAGED:
            continue
        dest = out / ("speech_val" if level in FILLETS_VAL else "speech") / level / f.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)


def _work(job: tuple[str, Path, Path]) -> Entry | None:
    split, src, root = job
    return convert_entry(src, root, f"audio/{src.parent.name}/{src.stem}.wav", SOURCE, src.parent.name, split)


def build(staged: Path, root: Path) -> None:
    """Convert the staged oggs with the project's own converter and write root/manifest.jsonl."""
    folders = (("train", "speech"), ("validation", "speech_val"))
    jobs = [(split, f, root) for split, d in folders for f in sorted((staged / d).glob("*/*.ogg"))]
    with Pool(14) as pool:
        entries = [e for e in pool.map(_work, jobs, chunksize=16) if e is not None]
    write_manifest(root / "manifest.jsonl", entries)
    for s in ("train", "validation"):
        minutes = sum(e.duration for e in entries if e.split == s) / 60
        print(s, sum(e.split == s for e in entries), round(minutes, 1), "min")


if __name__ == "__main__":
    {"stage": stage, "build": build}[sys.argv[1]](Path(sys.argv[2]), Path(sys.argv[3]))
