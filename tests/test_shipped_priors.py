"""The shipped priors: every one loads without unpickling, carries what decoding needs, and denoises real audio."""

import pytest
import torch

from dps.codec import CodecParams
from dps.prior.export import load_prior, read_prior_metadata
from dps.prior.registry import resolve_prior, shipped_priors
from tests.conftest import load_fixture

SHIPPED = ("joint", "music", "piano", "speech", "speech_lite")
# speech_lite: the speech prior with an 8-bin patch stem (half the network's cost); the others are named by content.
CONTENT = {"speech_lite": "speech"}
# The fixture each prior has seen the content of (joint = speech + piano).
MATCHED_FIXTURES = {
    "speech": ["speech"],
    "speech_lite": ["speech"],
    "piano": ["piano"],
    "music": ["music"],
    "joint": ["speech", "piano"],
}


def test_the_shipped_priors():
    assert tuple(shipped_priors()) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_prior_carries_what_decoding_needs(name):
    meta = read_prior_metadata(resolve_prior(name))
    config, training = meta["config"], meta["training"]
    assert config["content"] == CONTENT.get(name, name)
    assert config["data"]["sample_rate"] == 22050
    assert CodecParams.from_dict(config["codec"]) == CodecParams()  # decodes the default codec's bitstreams
    assert {"sigma_min", "sigma_max", "sigma_data"} <= set(config["schedule"])
    assert training["global_step"] > 0 and training["ema"] == "averaged"
    assert config["data_summary"]["train"]["minutes"] > 0


def _normalized_denoising_error(prior, x: torch.Tensor, sigma: float, seed: int = 0) -> float:
    """E|D(x + n) - x|^2 / E|c_skip (x + n) - x|^2: EDM's training loss, 1 for a network that outputs zero."""
    g = torch.Generator().manual_seed(seed)
    noisy = x + sigma * torch.randn(4, x.shape[-1], generator=g)
    with torch.no_grad():
        denoised = prior(noisy, torch.full((4,), sigma))
    sd2 = prior.denoiser.sigma_data**2
    c_skip = sd2 / (sigma**2 + sd2)
    return float((denoised - x).pow(2).mean() / (c_skip * noisy - x).pow(2).mean())


def _segment(fixture: str, rms: float) -> torch.Tensor:
    x = torch.from_numpy(load_fixture(fixture)[:32768]).float()[None]
    return x * (rms / x.pow(2).mean().sqrt())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_prior_denoises_its_content_and_an_untrained_network_does_not(name):
    prior = load_prior(resolve_prior(name)).eval()
    sigma_data = prior.denoiser.sigma_data
    # Measured: 0.20-0.28 for the shipped priors on their content, 2.5 with the same network re-initialized.
    for fixture in MATCHED_FIXTURES[name]:
        err = _normalized_denoising_error(prior, _segment(fixture, sigma_data), sigma=0.05)
        assert err < 0.5, (name, fixture, err)
    torch.manual_seed(0)
    for module in prior.denoiser.net.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    err = _normalized_denoising_error(prior, _segment(MATCHED_FIXTURES[name][0], sigma_data), sigma=0.05)
    assert err > 0.5, (name, "re-initialized", err)
