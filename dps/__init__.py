"""dps: audio decoding by diffusion posterior sampling (arXiv 2409.07858).

import dps
decoder = dps.load_decoder(prior="speech", preset="fast")
out = decoder.decode(audio, rate=44100, bitrate=16)   # or a .dps path or bitstream bytes
"""

from importlib import import_module
from typing import Any

__version__ = "0.2.0"

_API = ("Decoded", "Decoder", "encode", "load_decoder", "load_prior")


def __getattr__(name: str) -> Any:
    """The API loads on first use, so `dps --version` and `import dps.codec` stay light."""
    if name in _API:
        return getattr(import_module("dps.api"), name)
    raise AttributeError(f"module 'dps' has no attribute {name!r}")


__all__ = [*_API, "__version__"]
