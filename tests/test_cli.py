"""`dps` command round trips on short audio, folder decoding, and one-line errors for bad input."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT, timeout=300
    )


def dps(*args):
    return run("-m", "dps", *args)


def assert_one_line_error(proc, *needles):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def short_wav(tmp_path):
    x, _ = sf.read(FIX / "piano.flac")
    path = tmp_path / "in.wav"
    sf.write(path, np.stack([x[:44100], x[:44100]], axis=1), 44100)  # stereo at 44.1 kHz: downmix + resample
    return path


def test_encode_decode_round_trip(short_wav, tmp_path):
    stream, out = tmp_path / "a.dps", tmp_path / "a.wav"
    enc = dps("encode", short_wav, stream, "--bitrate", "24")
    assert enc.returncode == 0, enc.stderr
    assert "downmixed 2 channels" in enc.stderr
    dec = dps("decode", stream, "-o", out, "--decoder", "legacy")
    assert dec.returncode == 0, dec.stderr
    assert "decoded by legacy from" in dec.stdout
    y, sr = sf.read(out)
    assert sr == 22050 and y.ndim == 1 and abs(y.size - 22050) <= 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_decode_legacy_from_audio(short_wav, tmp_path):
    out = tmp_path / "o.wav"
    proc = dps("decode", short_wav, "--bitrate", "16", "--decoder", "legacy", "--output", out, "--no-metrics")
    assert proc.returncode == 0, proc.stderr
    assert "SNR" in proc.stdout and out.exists()
    again = dps("decode", short_wav, "--output", out, "--no-metrics")
    assert_one_line_error(again, "exists", "--force")
    forced = dps("decode", short_wav, "--output", out, "--no-metrics", "--force", "--decoder", "legacy")
    assert forced.returncode == 0


def test_version_and_wrappers():
    import dps as package

    proc = dps("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"dps {package.__version__}"
    assert run("decode.py", "--help").stdout.startswith("usage: dps decode")
    assert run("train.py", "--help").stdout.startswith("usage: dps train")
    assert_one_line_error(run("train.py", "nonesuch", "--dry-run"), "nonesuch", "shipped: joint, music")
    dry = dps("train", "speech", "--dry-run", "size=base")  # a shipped config by name, an override after an option
    assert dry.returncode == 0 and "content: speech" in dry.stdout and "size: base" in dry.stdout, dry.stderr
    assert dps("train", "speech", "--dry-run", "--bogus").returncode == 2


def test_errors_are_one_line(tmp_path, short_wav):
    stream = tmp_path / "ok.dps"
    assert dps("encode", short_wav, stream).returncode == 0
    data = stream.read_bytes()
    (tmp_path / "trunc.dps").write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    (tmp_path / "flip.dps").write_bytes(bytes(flipped))
    (tmp_path / "text.wav").write_text("not audio at all")
    sf.write(tmp_path / "empty.wav", np.zeros(0), 22050)
    sf.write(tmp_path / "nan.wav", np.full(1000, np.nan), 22050, subtype="FLOAT")
    out = tmp_path / "out.wav"
    assert_one_line_error(dps("encode", tmp_path / "missing.wav", tmp_path / "x.dps"), "missing.wav", "no such file")
    assert_one_line_error(dps("encode", tmp_path / "text.wav", tmp_path / "x.dps"), "text.wav", "not a readable audio")
    assert_one_line_error(dps("encode", tmp_path / "empty.wav", tmp_path / "x.dps"), "empty.wav", "no samples")
    assert_one_line_error(dps("encode", tmp_path / "nan.wav", tmp_path / "x.dps"), "nan.wav", "NaN")
    assert_one_line_error(dps("encode", short_wav, tmp_path / "x.dps", "--bitrate", "96"), "bitrate", "96")
    assert_one_line_error(dps("decode", tmp_path / "trunc.dps", "-o", out, "--decoder", "legacy"), "truncated")
    assert_one_line_error(dps("decode", tmp_path / "flip.dps", "-o", out, "--decoder", "legacy"), "checksum")
    assert_one_line_error(dps("decode", tmp_path / "text.wav", "-o", out), "text.wav", "not a readable audio")
    assert_one_line_error(run("decode.py", tmp_path / "trunc.dps", "--output", out), "truncated")
    assert not out.exists() and not (tmp_path / "x.dps").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_input_never_overwritten(short_wav):
    before = short_wav.read_bytes()
    proc = dps("encode", short_wav, short_wav, "--force")
    assert_one_line_error(proc, "refusing to overwrite the input")
    assert short_wav.read_bytes() == before


def test_main_job_on_shipped_example(tmp_path):
    proc = run(ROOT / "decode.py", "--no-metrics", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "example_speech.dps.wav").exists()
    assert "network evaluations 24" in proc.stdout and "vector-Jacobian products 0" in proc.stdout  # 12 levels x 2


def test_decode_folder_keeps_tree_skips_existing_and_lists_failures(tmp_path, short_wav):
    folder = tmp_path / "in"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "a.wav").write_bytes(short_wav.read_bytes())
    (folder / "sub" / "deeper" / "c.wav").write_bytes(short_wav.read_bytes())
    (folder / "sub" / "b.dps").write_bytes(b"DPSC-not-really")
    (folder / "notes.txt").write_text("not audio: not an input")
    out = tmp_path / "out"
    args = ("decode", folder, "--output", out, "--no-metrics", "--conditioning", "tweedie", "--set", "levels=4")
    proc = dps(*args)
    assert proc.returncode == 1
    assert (out / "a.dps.wav").exists() and (out / "sub" / "deeper" / "c.dps.wav").exists()
    assert not (out / "sub" / "b.dps.wav").exists() and not (out / "notes.dps.wav").exists()
    assert "failed: " in proc.stderr and "b.dps" in proc.stderr and "Traceback" not in proc.stderr
    assert "2 decoded, 0 existing skipped, 1 failed of 3 files" in proc.stdout
    assert "vector-Jacobian products 4" in proc.stdout  # tweedie: one per network pass (2 of 4 levels x 2)
    stamp = (out / "a.dps.wav").stat().st_mtime_ns
    (out / "sub" / "deeper" / "c.dps.wav").unlink()  # as if the first run had been killed before this file
    again = dps(*args)
    assert "1 decoded, 1 existing skipped, 1 failed of 3 files" in again.stdout, again.stdout
    assert (out / "a.dps.wav").stat().st_mtime_ns == stamp and (out / "sub" / "deeper" / "c.dps.wav").exists()
    assert_one_line_error(dps("decode", folder, "--output", folder / "o"), "outside the input folder")


def test_folder_decode_killed_midway_redoes_only_unfinished_files(tmp_path, short_wav):
    import signal
    import time

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in "abcdef":
        (folder / f"{name}.wav").write_bytes(short_wav.read_bytes())
    cmd = [sys.executable, "-m", "dps", "decode", str(folder), "-o", str(out), "--no-metrics", "--set", "levels=30"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / "b.dps.wav").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    done = {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")}
    assert 2 <= len(done) < 6, done  # killed part-way
    (out / ".f.dps.wav.abc123.tmp").write_bytes(b"half a file")  # as a kill during a write leaves it
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{6 - len(done)} decoded, {len(done)} existing skipped, 0 failed of 6 files" in rerun.stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav") if p.name in done} == done
    assert sorted(p.name for p in out.iterdir()) == [f"{n}.dps.wav" for n in "abcdef"]  # no temporary file left


def test_folder_decode_on_two_processes_matches_one(tmp_path, short_wav):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for name in ("a", "b", "sub/c"):
        (folder / f"{name}.wav").write_bytes(short_wav.read_bytes())
    (folder / "sub" / "bad.dps").write_bytes(b"junk")
    common = ["decode", folder, "--no-metrics", "--device", "cpu", "--set", "levels=4"]
    one = dps(*common, "-o", tmp_path / "one")
    two = dps(*common, "-o", tmp_path / "two", "--devices", "2")
    for proc in (one, two):
        assert proc.returncode == 1, proc.stderr[-2000:]
        assert "3 decoded, 0 existing skipped, 1 failed of 4 files" in proc.stdout
        assert "failed: " in proc.stderr and "bad.dps" in proc.stderr
    assert {"rank 0", "rank 1"} <= set(re.findall(r"rank \d", two.stdout)), two.stdout  # both ranks decoded
    for name in ("a", "b", "sub/c"):
        x, _ = sf.read(tmp_path / "one" / f"{name}.dps.wav", dtype="int16")
        y, _ = sf.read(tmp_path / "two" / f"{name}.dps.wav", dtype="int16")
        assert x.shape == y.shape and np.abs(x.astype(int) - y).max() <= 2  # thread counts round differently
    assert_one_line_error(dps("decode", short_wav, "--devices", "2"), "--devices", "folder")


def test_data_manifest_of_a_user_folder_trains(tmp_path):
    from dps.data.manifest import read_manifest
    from dps.prior.config import load_prior_config
    from dps.prior.training import train

    x, rate = sf.read(FIX / "speech.flac")
    src = tmp_path / "mine"
    for split in ("train", "validation"):
        for i in range(2):
            (src / split / f"take{i}").mkdir(parents=True)
            sf.write(src / split / f"take{i}" / "clip.flac", np.stack([x, x], axis=1), rate)  # stereo, any rate
    proc = dps("data", "manifest", src, "--split", "subfolder", "--out", tmp_path / "corpus", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "corpus" / "manifest.jsonl"
    entries = read_manifest(path)
    assert sorted(e.split for e in entries) == ["train", "train", "validation", "validation"]
    assert {e.file for e in entries} >= {"audio/train/take0/clip.wav", "audio/validation/take1/clip.wav"}
    assert all(e.sample_rate == 22050 and e.source == "mine" and len(e.sha256) == 64 for e in entries)
    assert dps("data", "manifest", src, "--split", "hash", "--out", tmp_path / "h", "--no-progress").returncode == 0
    assert_one_line_error(dps("data", "manifest", src / "train", "--split", "subfolder", "--out", tmp_path / "x"),
                          "take0", "train/ or validation/")  # fmt: skip
    overrides = [f"run_dir={tmp_path / 'run'}", f"data.manifest={path}", "+trainer.fast_dev_run=true"]
    run_dir = train(load_prior_config("smoke", overrides))
    assert (run_dir / "config.yaml").is_file() and str(path) in (run_dir / "config.yaml").read_text()


def test_decode_set_overrides_preset_settings(short_wav, tmp_path):
    out = tmp_path / "x.wav"
    sets = ["--set", "levels=4", "--set", "steps_per_level=1", "--set", "network_precision=bfloat16"]
    proc = dps("decode", short_wav, "--output", out, "--no-metrics", *sets)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and "network evaluations 2," in proc.stdout  # levels 0.03, 1.4e-3 | 6.5e-5, 3e-6
    assert_one_line_error(dps("decode", short_wav, "--output", out, "--set", "bogus=1"), "bogus", "unknown")
    assert_one_line_error(dps("decode", short_wav, "--output", out, "--set", "levels"), "KEY=VALUE", "levels")


def test_decode_device_choice(short_wav, tmp_path, monkeypatch):
    import torch

    from dps.cli.common import resolve_device

    out = tmp_path / "x.wav"
    proc = dps("decode", short_wav, "--output", out, "--no-metrics", "--device", "cpu", "--set", "levels=2")
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and " on cpu " in proc.stdout
    assert_one_line_error(dps("decode", short_wav, "--output", out, "--device", "tpu"), "--device", "'tpu'")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device(" CPU ") == "cpu"
    with pytest.raises(ValueError, match="0 CUDA device"):
        resolve_device("cuda:1")
    with pytest.raises(ValueError, match="cuda:N"):
        resolve_device("cuda:x")


def test_decode_unknown_prior_is_one_line_error(short_wav, tmp_path):
    proc = dps("decode", short_wav, "--prior", "nonesuch", "--output", tmp_path / "x.wav")
    assert_one_line_error(proc, "nonesuch", "shipped")


def test_output_into_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "dps", "prior", "info", "speech"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before anything is written, as with `| head` on long output
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""
