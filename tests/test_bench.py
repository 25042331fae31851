"""The benchmark scripts are not run by the tests (they take minutes), but each must import and parse its options."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "bench").glob("*.py"))


def test_there_are_benchmarks():
    assert {"codec.py", "sampler.py", "train.py", "tune_decode.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_script_imports_and_shows_help(script):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:"), proc.stdout[:200]


def test_chains_bench_power_mean_is_the_decoders_and_other_exponents_differ():
    import importlib.util

    import numpy as np
    import torch

    from dps.codec import encode, parse
    from dps.sampler.combine import combine_chains
    from tests.conftest import load_fixture

    spec = importlib.util.spec_from_file_location("chains_bench", ROOT / "bench" / "chains.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    x = load_fixture("speech")[:22050]
    m = parse(encode(x, 16))
    rng = np.random.default_rng(0)
    chains = np.stack([x + 0.01 * rng.standard_normal(x.size) for _ in range(3)])
    power = combine_chains(chains, m, "power")
    np.testing.assert_allclose(bench.q_mean(chains, m, 2.0), power, atol=1e-12)
    combos = bench.combinations(chains, m)
    assert list(combos) == ["power1", "power2", "waveform3", "q1_3", "q3_3", "power3_freq3", "power3_time3"]
    np.testing.assert_allclose(combos["power1"], chains[0])
    np.testing.assert_allclose(combos["waveform3"], chains.mean(0))
    # In the uncoded bins: the mean magnitude <= the power mean (q=2) <= the cubic mean, and they differ.
    from dps.dsp.mdct import mdct

    def uncoded_level(y):
        return np.abs(mdct(torch.from_numpy(y), m.params.hop).numpy())[~m.coded].sum()

    assert uncoded_level(combos["q1_3"]) < uncoded_level(power) < uncoded_level(combos["q3_3"])
    assert not np.allclose(combos["power3_freq3"], power) and not np.allclose(combos["power3_time3"], power)
