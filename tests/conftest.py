from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

FIXTURES = Path(__file__).parent / "fixtures"
CONTENT = ("speech", "piano", "music")


def load_fixture(name: str) -> np.ndarray:
    x, sr = sf.read(FIXTURES / f"{name}.flac", dtype="float64")
    assert sr == 22050
    return x


@pytest.fixture(scope="session")
def fixtures() -> dict[str, np.ndarray]:
    return {name: load_fixture(name) for name in CONTENT}


@pytest.fixture(scope="session")
def smoke_prior_file(tmp_path_factory):
    from dps.prior.export import export_prior
    from dps.prior.training import train
    from tests.helpers import smoke_config

    tmp = tmp_path_factory.mktemp("prior")
    run = train(smoke_config(tmp, "trainer.max_steps=20"))
    export_prior(run / "checkpoints" / "last.ckpt", tmp / "smoke.safetensors")
    return tmp / "smoke.safetensors"
