"""A fixed per-MDCT-bin weighting of the denoising loss: quiet bins count more, the minimiser stays E[x0 | x]."""

from __future__ import annotations

from typing import Any

import torch

from dps.dsp.mdct import mdct

MODES = ("none", "mdct_tilt")


def check_loss_weighting(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """The `loss_weighting` config (absent: mode none), or a one-line ValueError naming the bad field."""
    out = {"mode": "none", **(cfg or {})}
    if out["mode"] not in MODES:
        raise ValueError(f"loss_weighting.mode: expected one of {list(MODES)}, got {out['mode']!r}")
    if out["mode"] != "none":
        missing = [k for k in ("gamma", "max_weight", "hop", "smooth_bins") if k not in out]
        if missing:
            raise ValueError(f"loss_weighting: mode {out['mode']} needs {missing} (see configs/prior/common.yaml)")
    if "gamma" in out and not 0.0 <= float(out["gamma"]) <= 1.0:
        raise ValueError(f"loss_weighting.gamma: expected a value in [0, 1], got {out['gamma']!r}")
    if "max_weight" in out and float(out["max_weight"]) < 1.0:
        raise ValueError(f"loss_weighting.max_weight: expected >= 1, got {out['max_weight']!r}")
    sb = out.get("smooth_bins", 1)
    if int(sb) < 1 or int(sb) % 2 == 0:
        raise ValueError(f"loss_weighting.smooth_bins: expected an odd integer >= 1, got {sb!r}")
    return out


def bin_power(x0: torch.Tensor, hop: int) -> torch.Tensor:
    """Mean MDCT power per bin over a batch of waveforms (B, T) -> (hop,)."""
    return mdct(x0.double(), hop).pow(2).mean(dim=(0, 1))


def tilt_weights(power: torch.Tensor, gamma: float, max_weight: float, smooth_bins: int = 15) -> torch.Tensor:
    """w_k = clip((P_k / median P)^-gamma, 1, max_weight), P smoothed over neighbouring bins in log power."""
    logp = power.clamp_min(power.max() * 1e-12).log()
    pad = smooth_bins // 2
    logp = torch.nn.functional.pad(logp[None, None], (pad, pad), mode="replicate")
    logp = torch.nn.functional.avg_pool1d(logp, smooth_bins, stride=1)[0, 0]
    w = torch.exp(-gamma * (logp - logp.median()))
    return w.clamp(1.0, max_weight).float()


def weighted_error(err: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per example sum_k w_k |MDCT(err)_k|^2 / T: with w = 1 the mean squared error (Parseval)."""
    with torch.autocast(err.device.type, enabled=False):  # a bfloat16 MDCT would bury the quiet bins' error
        c = mdct(err.float(), weights.numel())
        return (c.pow(2) * weights.float()).sum(dim=(-2, -1)) / err.shape[-1]
