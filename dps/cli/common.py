"""Shared command-line plumbing: one-line errors, never a traceback for bad input."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from dps.audio import AudioError
from dps.codec.bitstream import BitstreamError

USER_ERRORS = (AudioError, BitstreamError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError)


def resolve_device(spec: str) -> str:
    """'auto' -> the first CUDA device when one is present, else 'cpu'; 'cpu' and 'cuda[:N]' are checked."""
    import torch

    spec = spec.strip().lower()
    if spec == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if spec == "cpu":
        return spec
    kind, _, index = spec.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise ValueError(f"--device: expected auto, cpu, cuda or cuda:N, got {spec!r}")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if int(index or 0) >= count:
        raise ValueError(f"--device {spec}: this machine has {count} CUDA device(s); use --device cpu or auto")
    return spec


def one_line_errors(fn: Callable[..., int]) -> Callable[..., int]:
    """Turn user-facing errors into 'error: ...' on stderr and exit status 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            msg = " ".join(str(exc).split())
            print(f"error: {msg}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as the Python docs advise, without a flush error at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0

    return wrapper
