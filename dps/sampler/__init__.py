"""Posterior sampling: conditioning functions, the annealed Langevin sampler, chunking, the decoder."""

from dps.sampler.conditioning import MeasurementTensors, NoisyMeanConditioning, TweedieConditioning
from dps.sampler.decoder import DecodeSettings, PosteriorDecoder
from dps.sampler.langevin import sample

__all__ = [
    "DecodeSettings",
    "MeasurementTensors",
    "NoisyMeanConditioning",
    "PosteriorDecoder",
    "TweedieConditioning",
    "sample",
]
