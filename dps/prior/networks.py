"""Network families behind one interface F(x, c_noise) -> x-shaped output, chosen by config."""

from __future__ import annotations

from typing import Any

from torch import nn

from dps.prior.denoiser import Denoiser
from dps.prior.schedule import NoiseSchedule


def build_network(family: str, **kwargs: Any) -> nn.Module:
    """'wave_unet' (1-D U-Net on the waveform) or 'mdct_unet' (2-D U-Net on the MDCT plane)."""
    if family == "wave_unet":
        from dps.prior.unet1d import WaveUNet

        return WaveUNet(**kwargs)
    if family == "mdct_unet":
        from dps.prior.unet2d import MDCTUNet

        return MDCTUNet(**kwargs)
    raise ValueError(f"network.family: expected 'wave_unet' or 'mdct_unet', got {family!r}")


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def build_denoiser(config: dict[str, Any]) -> tuple[Denoiser, NoiseSchedule]:
    """Network + preconditioning + schedule from a prior config (the same dict export embeds)."""
    schedule = NoiseSchedule(**config["schedule"])
    net_cfg = dict(config["network"])
    family = net_cfg.pop("family")
    for key in ("channels", "strides"):
        if key in net_cfg and net_cfg[key] is not None:
            net_cfg[key] = tuple(net_cfg[key])
    return Denoiser(build_network(family, **net_cfg), schedule.sigma_data), schedule
