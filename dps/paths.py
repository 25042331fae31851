"""Where the package finds its configs and default data and cache folders."""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("DPS_CACHE", Path.home() / ".cache" / "dps"))
DATA_ROOT = Path(os.environ.get("DPS_DATA", "data"))  # as configs/prior/common.yaml: data.manifest
# Item sets under DATA_ROOT: the corpora's validation splits, cross/ (reported) and tuning/ (leave-source-out tuning).
EVAL_SETS = ("validation", "cross", "tuning")
EVAL_CACHE = CACHE / "eval"


def config_dir() -> Path:
    """The configs: dps/configs inside a built wheel (mapped there from the top-level configs/ by the build),
    else the checkout's configs/ (source tree and editable installs: the one copy users read and edit)."""
    packaged = _HERE / "configs"
    return packaged if packaged.is_dir() else _HERE.parent / "configs"
