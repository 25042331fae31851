"""Command-line round trips on short audio, and one-line errors for bad input."""

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
    dec = dps("decode", stream, out)
    assert dec.returncode == 0, dec.stderr
    y, sr = sf.read(out)
    assert sr == 22050 and y.ndim == 1 and abs(y.size - 22050) <= 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_decode_py_legacy(short_wav, tmp_path):
    out = tmp_path / "o.wav"
    proc = run("decode.py", short_wav, "--bitrate", "16", "--decoder", "legacy", "--output", out, "--no-metrics")
    assert proc.returncode == 0, proc.stderr
    assert "SNR" in proc.stdout and out.exists()
    again = run("decode.py", short_wav, "--output", out, "--no-metrics")
    assert_one_line_error(again, "exists", "--force")
    forced = run("decode.py", short_wav, "--output", out, "--no-metrics", "--force")
    assert forced.returncode == 0


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
    assert_one_line_error(dps("decode", tmp_path / "trunc.dps", out), "truncated")
    assert_one_line_error(dps("decode", tmp_path / "flip.dps", out), "checksum")
    assert_one_line_error(dps("decode", short_wav, out), "not a .dps stream")
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


def test_decode_py_dps_folder_continues_past_bad_files(tmp_path, short_wav):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.wav").write_bytes(short_wav.read_bytes())
    (folder / "b.dps").write_bytes(b"DPSC-not-really")
    out = tmp_path / "out"
    proc = run("decode.py", folder, "--output", out, "--no-metrics", "--preset", "fast", "--conditioning", "tweedie")
    assert proc.returncode == 1
    assert (out / "a.dps.wav").exists() and not (out / "b.dps.wav").exists()
    assert "failed: " in proc.stderr and "b.dps" in proc.stderr and "Traceback" not in proc.stderr
    assert "vector-Jacobian products 24" in proc.stdout


def test_decode_py_set_overrides_preset_settings(short_wav, tmp_path):
    out = tmp_path / "x.wav"
    sets = ["--set", "levels=4", "--set", "steps_per_level=1", "--set", "network_precision=bfloat16"]
    proc = run("decode.py", short_wav, "--output", out, "--no-metrics", *sets)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and "network evaluations 2," in proc.stdout  # levels 0.03, 1.4e-3 | 6.5e-5, 3e-6
    assert_one_line_error(run("decode.py", short_wav, "--output", out, "--set", "bogus=1"), "bogus", "unknown")
    assert_one_line_error(run("decode.py", short_wav, "--output", out, "--set", "levels"), "KEY=VALUE", "levels")


def test_decode_py_device_choice(short_wav, tmp_path, monkeypatch):
    import torch

    from dps.cli_common import resolve_device

    out = tmp_path / "x.wav"
    proc = run("decode.py", short_wav, "--output", out, "--no-metrics", "--device", "cpu", "--set", "levels=2")
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and " on cpu " in proc.stdout
    assert_one_line_error(run("decode.py", short_wav, "--output", out, "--device", "tpu"), "--device", "'tpu'")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device(" CPU ") == "cpu"
    with pytest.raises(ValueError, match="0 CUDA device"):
        resolve_device("cuda:1")
    with pytest.raises(ValueError, match="cuda:N"):
        resolve_device("cuda:x")


def test_decode_py_unknown_prior_is_one_line_error(short_wav, tmp_path):
    proc = run("decode.py", short_wav, "--prior", "nonesuch", "--output", tmp_path / "x.wav")
    assert_one_line_error(proc, "nonesuch", "shipped")


def test_output_into_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "dps.prior", "info", "dps/assets/priors/speech.safetensors"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before anything is written, as with `| head` on long output
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""
