"""Evaluation: ViSQOL and cheap secondary metrics."""

from dps.eval.metrics import log_spectral_distance, snr_db
from dps.eval.visqol import Visqol, VisqolError

__all__ = ["Visqol", "VisqolError", "log_spectral_distance", "snr_db"]
