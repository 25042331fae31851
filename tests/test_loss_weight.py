"""Per-MDCT-bin loss weighting: Parseval with unit weights, the tilt formula, fixed weights across a resume."""

import pytest
import torch

from dps.dsp.mdct import mdct
from dps.prior.export import export_prior, load_prior
from dps.prior.loss_weight import bin_power, check_loss_weighting, tilt_weights, weighted_error
from dps.prior.module import ScorePriorModule
from dps.prior.training import train
from tests.helpers import smoke_config


def test_unit_weights_give_the_mean_squared_error():
    err = torch.randn(3, 8000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = weighted_error(err, torch.ones(256))
    torch.testing.assert_close(got, err.float().pow(2).mean(dim=1), rtol=1e-5, atol=0)


def test_weights_on_one_bin_count_only_that_bin():
    err = torch.randn(2, 4096, generator=torch.Generator().manual_seed(1))
    w = torch.zeros(64)
    w[10] = 3.0
    c = mdct(err, 64).pow(2)
    torch.testing.assert_close(weighted_error(err, w), 3.0 * c[..., 10].sum(-1) / 4096, rtol=1e-5, atol=1e-9)


def test_tilt_weights_follow_the_formula():
    power = 10 ** (-torch.arange(256, dtype=torch.float64) / 64)  # 40 dB down over the bins
    w = tilt_weights(power, gamma=0.5, max_weight=1000.0, smooth_bins=1)
    ref = (power / power.median()).pow(-0.5).clamp(1.0, 1000.0).float()
    torch.testing.assert_close(w, ref, rtol=1e-5, atol=0)
    assert float(w[:127].max()) == 1.0 and float(w[-1]) > 9.0  # louder than the median: unweighted
    assert float(tilt_weights(power, 1.0, 20.0, 1).max()) == 20.0  # capped
    assert torch.equal(tilt_weights(power, 0.0, 100.0), torch.ones(256))  # gamma 0: the plain loss


def test_bin_power_is_the_mean_mdct_power():
    x = torch.randn(4, 2048, generator=torch.Generator().manual_seed(2))
    p = bin_power(x, 128)
    assert p.shape == (128,) and torch.all(p > 0)
    torch.testing.assert_close(p.sum() * (2048 // 128 + 1), x.double().pow(2).sum(1).mean(), rtol=1e-9, atol=0)


@pytest.mark.parametrize(
    "cfg, field",
    [
        ({"mode": "pink"}, "mode"),
        ({"gamma": 2}, "gamma"),
        ({"max_weight": 0.5}, "max_weight"),
        ({"smooth_bins": 4}, "smooth_bins"),
    ],
)
def test_bad_loss_weighting_is_a_one_line_error(cfg, field, tmp_path):
    with pytest.raises(ValueError, match=f"loss_weighting.{field}: expected"):
        check_loss_weighting(cfg)
    config = smoke_config(tmp_path, *(f"loss_weighting.{k}={v}" for k, v in cfg.items()))  # common.yaml fills the rest
    with pytest.raises(ValueError, match=f"loss_weighting.{field}"):
        ScorePriorModule(config)


def test_mdct_tilt_without_its_fields_names_them():
    with pytest.raises(ValueError, match=r"mode mdct_tilt needs \['gamma', 'max_weight', 'hop', 'smooth_bins'\]"):
        check_loss_weighting({"mode": "mdct_tilt"})
    assert check_loss_weighting(None) == {"mode": "none"}  # an older config without the section: plain loss


def test_mdct_tilt_weights_are_set_once_kept_on_resume_and_not_exported(tmp_path):
    over = ("loss_weighting.mode=mdct_tilt", "loss_weighting.gamma=1.0", "loss_weighting.hop=64")
    config = smoke_config(tmp_path, "trainer.max_steps=3", *over)
    run = train(config)
    ckpt = run / "checkpoints" / "last.ckpt"
    w3 = torch.load(ckpt, map_location="cpu", weights_only=True)["current_model_state"]["loss_bin_weight"]
    assert w3.shape == (64,) and float(w3.min()) >= 1.0 and float(w3.max()) > 1.0
    config["trainer"]["max_steps"] = 6
    train(config)  # resumes from last.ckpt: the weights stay those of the first batch
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    for key in ("current_model_state", "state_dict"):  # EMA of a constant buffer: equal to float rounding
        torch.testing.assert_close(state[key]["loss_bin_weight"], w3, rtol=1e-5, atol=0)
    meta = export_prior(ckpt, tmp_path / "p.safetensors")
    assert meta["global_step"] == 6 and meta["config"]["loss_weighting"]["mode"] == "mdct_tilt"
    prior = load_prior(tmp_path / "p.safetensors")  # the weighting is training-only: nothing to load
    assert not any("loss_bin_weight" in k for k in prior.denoiser.state_dict())
