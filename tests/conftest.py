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
