"""The built wheel installs and decodes outside the checkout; the README's Python example runs."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel built from this checkout; the dependencies are this
    environment's (a .pth file), so nothing is downloaded."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("dps", "configs"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip"]
    build = subprocess.run(
        [*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp / "dist").glob("dps-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (purelib / "_dps_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    inst = subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert inst.returncode == 0, inst.stderr
    return venv


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


def test_wheel_carries_configs_and_decodes_outside_the_checkout(installed, tmp_path):
    import dps

    py, exe = installed / "bin" / "python", installed / "bin" / "dps"
    version = _run(str(exe), "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"dps {dps.__version__}", version.stderr
    where = _run(str(py), "-c", "import dps.paths; print(dps.paths.config_dir())", cwd=tmp_path)
    assert where.stdout.strip().startswith(str(installed)), where.stdout + where.stderr  # the wheel's, not ROOT's
    proc = _run(str(exe), "decode", "--no-metrics", "-o", "example.wav", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    y, rate = sf.read(tmp_path / "example.wav")
    ref, ref_rate = sf.read(ROOT / "dps" / "assets" / "example_speech.flac")
    assert rate == 22050 and abs(y.size - round(ref.shape[0] * 22050 / ref_rate)) <= 1
    assert "decoded by dps" in proc.stdout and "network evaluations 24" in proc.stdout
    script = (
        "import numpy as np, dps\n"
        f"assert dps.__file__.startswith({str(installed)!r}), dps.__file__\n"
        "x = 0.1 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)\n"
        "out = dps.load_decoder('speech', 'fast', device='cpu', levels=4).decode(x, rate=44100, bitrate=16)\n"
        "print(out.audio.size, out.sample_rate, out.stats['nfe'])\n"
    )
    api = _run(str(py), "-c", script, cwd=tmp_path)
    assert api.returncode == 0, api.stderr
    assert api.stdout.split() == ["22050", "22050", "4"]  # levels=4: 2 of them above the prior's sigma_min, x 2 steps


def readme_python() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = readme_python()
    assert "dps.load_decoder" in code and "dps.encode" in code
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    out = namespace["out"]
    assert out.sample_rate == 22050 and out.audio.ndim == 1 and np.isfinite(out.audio).all()
    assert (tmp_path / "decoded.wav").is_file()


def test_the_core_decodes_without_the_training_and_evaluation_extras(tmp_path):
    """What `pip install dps` (no extras) lacks is made unimportable; the posterior decoder still runs."""
    fixture = ROOT / "tests" / "fixtures" / "speech.flac"
    script = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('lightning', 'wandb', 'visqol', 'matplotlib', 'scipy', 'PIL', 'music21'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from dps.cli import main\n"
        f"sys.exit(main(['decode', {str(fixture)!r}, '-o', 'x.wav', '--prior', 'auto', '--set', 'levels=4']))\n"
    )
    proc = _run(sys.executable, "-c", script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "decoded by dps (joint prior)" in proc.stdout and "needs the eval extra" in proc.stdout


def test_prior_auto_picks_the_all_round_prior_and_says_which():
    import dps
    from dps.prior.registry import AUTO_PRIOR, resolve_prior

    assert resolve_prior("auto") == resolve_prior(AUTO_PRIOR) and AUTO_PRIOR in dps.load_prior("auto").content
    out = dps.load_decoder("auto", device="cpu", levels=2).decode(np.zeros(4410) + 1e-3, rate=22050)
    assert out.stats["prior"] == "joint" and out.audio.size == 4410
