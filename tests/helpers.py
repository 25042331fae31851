"""Shared test helpers: smoke configs and tiny trained priors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def smoke_config(tmp_path: Path, *overrides: str) -> dict[str, Any]:
    from dps.prior.config import load_prior_config

    return load_prior_config(
        ROOT / "configs" / "prior" / "smoke.yaml",
        [f"run_dir={tmp_path / 'run'}", f"data.manifest={ROOT / 'tests' / 'fixtures' / 'manifest.jsonl'}", *overrides],
    )
