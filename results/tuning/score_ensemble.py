"""Experiment: decode with the mean of several priors' scores, scored by bench/tune_decode.py (session 9).

A marker file `ENS speech joint` (shipped names or absolute paths) stands for the ensemble:
    echo "ENS speech joint" > /tmp/speech_joint.safetensors
    python results/tuning/score_ensemble.py --content speech --prior /tmp/speech_joint.safetensors --grid "" ...
Every other argument is tune_decode.py's; the marker's digest keeps its decodes apart in the cache.
"""

import runpy
import sys
from pathlib import Path

import torch

import dps.prior.export as export
from dps.prior.registry import resolve_prior

_load_prior = export.load_prior


class ScoreEnsemble(torch.nn.Module):
    """score(x, sigma) = mean_i score_i(x, sigma); level, config and rate from the first prior."""

    def __init__(self, priors: list[export.Prior]) -> None:
        super().__init__()
        self.priors = torch.nn.ModuleList(priors)
        self.denoiser, self.schedule, self.config = priors[0].denoiser, priors[0].schedule, priors[0].config

    @property
    def sample_rate(self) -> int:
        return self.priors[0].sample_rate

    @property
    def content(self) -> str:
        return "+".join(p.content for p in self.priors)

    def score(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return sum(p.score(x, sigma) for p in self.priors) / len(self.priors)


def load(path: str | Path, device: str = "cpu") -> torch.nn.Module:
    head = Path(path).read_bytes()[:4]
    if head == b"ENS ":
        names = Path(path).read_text().split()[1:]
        return ScoreEnsemble([_load_prior(resolve_prior(n), device) for n in names])
    return _load_prior(path, device)


export.load_prior = load
sys.argv = ["tune_decode.py", *sys.argv[1:]]
runpy.run_path(str(Path(__file__).resolve().parents[2] / "bench" / "tune_decode.py"), run_name="__main__")
