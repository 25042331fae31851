"""dps: audio decoding by diffusion posterior sampling (arXiv 2409.07858)."""

__version__ = "0.1.0"
