"""The speech corpus for the GPU machine: oggs staged here, WAV + manifest built there by the project's converter.

Usage: python prep_speech.py stage PKG_SOUND_DIR OUT     (the unpacked fillets-ng-data-cs sound folder: Czech, 41 MB)
       python prep_speech.py stage_kl KLETTRES_DIR OUT   (the unpacked usr/share/klettres folder: 44 MB)
       python prep_speech.py stage_kl_long SPEECH_ROOT OUT (session 14: KLettres from the converted corpus, only files
                                                          long enough for a training segment, as Vorbis: 18 MB)
       python prep_speech.py build OUT DATA_ROOT         (on the GPU machine: DATA_ROOT/manifest.jsonl)
Czech: every training level, and 3 of the 7 validation levels (kitchen, turtle, wreck: 4.3 min). KLettres: every
language, en and en_GB as validation as in dps.data.sources. The two do not fit one 64 MiB transfer together, so
each call stages one and `build` adds what it finds to the manifest already in DATA_ROOT (a warm machine keeps it).
"""

import shutil
import sys
from multiprocessing import Pool
from pathlib import Path

import soundfile as sf

from dps.data.build import convert_entry
from dps.data.manifest import Entry, read_manifest, write_manifest
from dps.data.sources import FILLETS_VAL, SPEECH

VAL_STAGED = ("kitchen", "turtle", "wreck")
KL_VAL = next(s.validation for s in SPEECH if s.package == "klettres-data")
# staged folder -> (split, glob, package); the first folder below it is the track (level or language)
FOLDERS = {
    "speech": ("train", "*/*.ogg", "fillets-ng-data-cs"),
    "speech_val": ("validation", "*/*.ogg", "fillets-ng-data-cs"),
    "kl": ("train", "*/*/*.ogg", "klettres-data"),
    "kl_val": ("validation", "*/*/*.ogg", "klettres-data"),
}


def stage(sound: Path, out: Path) -> None:
    """Copy <level>/cs/*.ogg into OUT/speech/<level> (training) or OUT/speech_val/<level> (validation)."""
    for f in sorted(sound.glob("*/cs/*.ogg")):
        level = f.parts[-3]
        if level in FILLETS_VAL and level not in VAL_STAGED:
            continue
        dest = out / ("speech_val" if level in FILLETS_VAL else "speech") / level / f.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)


def stage_kl(klettres: Path, out: Path) -> None:
    """Copy <lang>/<alpha|syllab>/*.ogg into OUT/kl (training) or OUT/kl_val (en, en_GB: validation)."""
    for f in sorted(klettres.glob("*/*/*.ogg")):
        lang = f.parts[-3]
        dest = out / ("kl_val" if lang in KL_VAL else "kl") / lang / f.parts[-2] / f.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)


def stage_kl_long(speech_root: Path, out: Path, min_seconds: float = 1.49, quality: float = 0.45) -> None:
    """KLettres files of at least one training segment (shorter ones are never drawn), re-encoded as Vorbis."""
    for e in read_manifest(speech_root / "manifest.jsonl"):
        if e.source != "klettres-data" or (e.split == "train" and e.duration < min_seconds):
            continue
        rel = Path(e.file).relative_to("audio/klettres-data")
        dest = out / ("kl_val" if e.split == "validation" else "kl") / rel.with_suffix(".ogg")
        dest.parent.mkdir(parents=True, exist_ok=True)
        x, sr = sf.read(speech_root / e.file, dtype="float32")
        sf.write(dest, x, sr, format="OGG", subtype="VORBIS", compression_level=quality)


def _work(job: tuple[str, Path, Path, str, str, str]) -> Entry | None:
    split, src, root, out_rel, package, track = job
    return convert_entry(src, root, out_rel, package, track, split)


def build(staged: Path, root: Path) -> None:
    """Convert the staged oggs not yet in root/manifest.jsonl and write the union back."""
    manifest = root / "manifest.jsonl"
    entries = read_manifest(manifest) if manifest.is_file() else []
    done = {e.file for e in entries}
    jobs = []
    for folder, (split, pattern, package) in FOLDERS.items():
        for f in sorted((staged / folder).glob(pattern)):
            rel = f.relative_to(staged / folder).with_suffix(".wav")
            out_rel = f"audio/{package}/{rel.as_posix()}"
            if out_rel not in done:
                jobs.append((split, f, root, out_rel, package, rel.parts[0]))
    with Pool(14) as pool:
        entries += [e for e in pool.map(_work, jobs, chunksize=16) if e is not None]
    write_manifest(manifest, entries)
    for source in sorted({e.source for e in entries}):
        for s in ("train", "validation"):
            sel = [e for e in entries if e.split == s and e.source == source]
            print(source, s, len(sel), round(sum(e.duration for e in sel) / 60, 1), "min")


if __name__ == "__main__":
    commands = {"stage": stage, "stage_kl": stage_kl, "stage_kl_long": stage_kl_long, "build": build}
    commands[sys.argv[1]](Path(sys.argv[2]), Path(sys.argv[3]))
