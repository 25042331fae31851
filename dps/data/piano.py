"""Piano corpus: real scores from the music21 corpus rendered on four sampled pianos (fluidsynth, TiMidity++)."""

from __future__ import annotations

import random
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from dps.data import build as B
from dps.data.manifest import Entry

if TYPE_CHECKING:
    from dps.data.sampled_piano import SampledPiano

VALIDATION_COMPOSERS = frozenset({"joplin", "chopin", "mozart", "schumann_clara", "beethoven"})
# Training work k plays on the (k mod 4)-th piano; validation on FluidR3 alone. A .cfg is a TiMidity++ patch set.
SOUNDFONTS = {
    "fluid-soundfont-gm": "usr/share/sounds/sf2/FluidR3_GM.sf2",
    "musescore-general-soundfont": "usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    "csound-soundfont": "usr/share/sounds/sf2/sf_GMbank.sf2",
    "freepats": "etc/timidity/freepats.cfg",
}
VALIDATION_FONT = "fluid-soundfont-gm"
MAX_TRAIN_MINUTES = 420.0  # the corpus holds far more; a seeded random choice of works up to this
MAX_OPUS_SCORES = 10
MAX_VALIDATION_MINUTES = 45.0  # composers interleaved, so each is heard before the long Beethoven quartets fill it


def composer_split(composer: str) -> str:
    """Composers never trained on are the validation split (shared/data-sources.md)."""
    return "validation" if composer in VALIDATION_COMPOSERS else "train"


def corpus_works() -> list[tuple[str, Path]]:
    """(composer, path) for every work in the music21 corpus."""
    try:
        from music21 import corpus
    except ImportError:
        raise B.BuildError("music21 not found: pip install music21 (the piano corpus renders its scores)") from None
    base = Path(corpus.__file__).parent
    out = []
    for p in corpus.getPaths():
        rel = Path(str(p)).relative_to(base)
        out.append((rel.parts[0], Path(str(p))))
    return sorted(out, key=lambda t: str(t[1]))


def _scores(path: Path):
    from music21 import converter, stream

    s = converter.parse(str(path))
    if isinstance(s, stream.Opus):
        return list(s.scores)[:MAX_OPUS_SCORES]
    return [s]


def _to_piano_midi(score, midi: Path, rng: random.Random | None) -> None:
    """Every part on General MIDI program 0; training copies get tempo, transposition and velocity changes."""
    from music21 import instrument

    if rng is not None:
        score = score.transpose(rng.randint(-3, 3))
        factor = rng.uniform(0.85, 1.15)
        score = score.augmentOrDiminish(factor)
        gain = rng.uniform(0.7, 1.2)
        for n in score.recurse().notes:
            v = n.volume.velocity or 80
            n.volume.velocity = max(1, min(127, int(v * gain)))
    for part in score.parts if hasattr(score, "parts") and len(score.parts) else [score]:
        for inst in list(part.recurse().getElementsByClass("Instrument")):
            part.remove(inst, recurse=True)
        part.insert(0, instrument.Piano())
    score.write("midi", fp=str(midi))


_SAMPLED: dict[Path, SampledPiano] = {}  # a sampled piano's recordings, loaded once per worker process


def _render(midi: Path, wav: Path, soundfont: Path) -> None:
    """MIDI to WAV at 22.05 kHz: a folder of per-key recordings (dps.data.sampled_piano), a TiMidity++ .cfg, or a
    SoundFont (fluidsynth)."""
    if soundfont.is_dir():
        import soundfile as sf

        from dps.data.sampled_piano import SampledPiano, midi_notes

        if soundfont not in _SAMPLED:
            _SAMPLED[soundfont] = SampledPiano([soundfont])
        piano = _SAMPLED[soundfont]
        # Half scale leaves chords room; convert() scales any peak still above full scale down.
        sf.write(str(wav), 0.5 * piano.render(midi_notes(midi)), piano.sample_rate, subtype="FLOAT")
        return
    if soundfont.suffix == ".cfg":
        command = ["timidity", "-c", str(soundfont), "-Ow", "-s", "22050", "-o", str(wav), str(midi)]
    else:
        command = ["fluidsynth", "-ni", "-q", "-F", str(wav), "-r", "22050", "-g", "0.6", "-T", "wav", str(soundfont)]
        command.append(str(midi))
    subprocess.run(command, check=True, capture_output=True, timeout=600)


def _font_file(name: str, root: Path) -> Path:
    """A piano's file in its unpacked package; a TiMidity++ config is rewritten with its patch folders there."""
    pkg = B.fetch_deb(name, root)
    path = pkg / SOUNDFONTS[name]
    if not path.is_file():
        raise B.BuildError(f"{name}: {path} missing from the unpacked package")
    if path.suffix != ".cfg":
        return path
    out = root / "_packages" / f"{name}.cfg"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"dir {pkg}{ln[4:]}" if ln.startswith("dir /") else ln for ln in path.read_text().splitlines()]
    out.write_text("\n".join(lines) + "\n")
    return out


WORK_TIMEOUT_S = 240.0  # a few huge corpus files take music21 many minutes to parse: skipped, not waited for


def _render_work(job: tuple[int, str, str, str, str, str]) -> list[tuple[str, float, float, str] | None]:
    """Parse one work and render each of its scores: (file, duration, loudness, sha256), None where skipped."""
    k, stem, path, split, font, corpus_dir = job
    out: list[tuple[str, float, float, str] | None] = []
    with tempfile.TemporaryDirectory() as tmp:
        midi, wav = Path(tmp) / "w.mid", Path(tmp) / "w.wav"
        for j, score in enumerate(_scores(Path(path))):
            out_rel = f"audio/{stem}-{j}.wav"
            dest = Path(corpus_dir) / out_rel
            try:
                _to_piano_midi(score, midi, random.Random(k * 100 + j) if split == "train" else None)
                _render(midi, wav, Path(font))
                result = B.convert(wav, dest)
            except Exception:  # a score music21 cannot export or fluidsynth cannot render
                result = None
            if result is None:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.with_suffix(".skipped").write_text("did not render, or silent\n")
                out.append(None)
            else:
                out.append((out_rel, result[0], result[1], B.sha256_of(dest)))
    return out


class _Worker:
    """One worker process; a work that runs past the timeout kills it and the next work gets a fresh one."""

    def __init__(self) -> None:
        self.pool = None

    def run(self, job: tuple, timeout: float) -> list | None:
        import multiprocessing as mp

        if self.pool is None:
            self.pool = mp.get_context("spawn").Pool(1, maxtasksperchild=25)
        try:
            return self.pool.apply_async(_render_work, (job,)).get(timeout=timeout)
        except mp.TimeoutError:
            self.close()
            return None
        except Exception:  # the score does not parse
            return []

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def build_piano(root: Path, progress: bool = True, max_train_minutes: float = MAX_TRAIN_MINUTES) -> list[Entry]:
    """Render validation composers with FluidR3 at score tempo, and training works on the four pianos in turn."""
    B._need("fluidsynth", "install it with: apt-get install fluidsynth")
    if any(rel.endswith(".cfg") for rel in SOUNDFONTS.values()):
        B._need("timidity", "install it with: apt-get install timidity")
    fonts = {name: _font_file(name, root) for name in SOUNDFONTS}
    pianos = list(SOUNDFONTS)
    corpus_dir = root / "piano"
    known = {e.file: e for e in B._existing(corpus_dir)}
    works = corpus_works()
    rng = random.Random(0)
    train = [w for w in works if composer_split(w[0]) == "train"]
    rng.shuffle(train)
    by_composer: dict[str, list[tuple[str, Path]]] = {}
    for w in works:
        if composer_split(w[0]) == "validation":
            by_composer.setdefault(w[0], []).append(w)
    lists = [by_composer[c] for c in sorted(by_composer)]
    val = [lst[i] for i in range(max(map(len, lists), default=0)) for lst in lists if i < len(lst)]
    val_minutes = 0.0
    entries: list[Entry] = []
    minutes = 0.0
    worker = _Worker()
    from dps.data.manifest import write_manifest

    try:
        for k, (composer, path) in enumerate(tqdm(val + train, desc="piano", disable=not progress, unit="work")):
            split = composer_split(composer)
            if split == "train" and minutes >= max_train_minutes:
                break
            if split == "validation" and val_minutes >= MAX_VALIDATION_MINUTES:
                continue
            font_name = VALIDATION_FONT if split == "validation" else pianos[k % len(pianos)]
            stem = f"{composer}/{path.stem}"
            # Renders are reused only when played on this piano: a changed rotation renders the work again.
            done = [
                e for f, e in known.items() if f.startswith(f"audio/{stem}-") and e.source.endswith(f"+{font_name}")
            ]
            marker = corpus_dir / f"audio/{stem}-0.skipped"
            if (done and all((corpus_dir / e.file).is_file() for e in done)) or marker.is_file():
                entries += done  # rendered before: no need to parse the score again
                if split == "train":
                    minutes += sum(e.duration for e in done) / 60
                else:
                    val_minutes += sum(e.duration for e in done) / 60
                continue
            job = (k, stem, str(path), split, str(fonts[font_name]), str(corpus_dir))
            results = worker.run(job, WORK_TIMEOUT_S)
            if results is None:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text(f"timed out after {WORK_TIMEOUT_S:.0f} s\n")
                continue
            for r in results:
                if r is None:
                    continue
                out_rel, duration, loudness, sha = r
                track = f"music21:{composer}/{path.stem}"
                entries.append(
                    Entry(out_rel, f"music21:{composer}+{font_name}", track, split, round(duration, 4), 22050,
                          round(loudness, 2), sha)
                )  # fmt: skip
                if split == "train":
                    minutes += duration / 60
                else:
                    val_minutes += duration / 60
            write_manifest(corpus_dir / "manifest.partial.jsonl", entries)
    finally:
        worker.close()
    return entries
