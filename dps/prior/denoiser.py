"""EDM preconditioning (Karras et al. 2022) and the score it implies."""

from __future__ import annotations

import torch
from torch import nn


class Denoiser(nn.Module):
    """D(x, sigma) = c_skip x + c_out F(c_in x, ln(sigma)/4); score(x, sigma) = (D - x) / sigma^2."""

    def __init__(self, net: nn.Module, sigma_data: float) -> None:
        super().__init__()
        self.net = net
        self.sigma_data = float(sigma_data)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sigma = sigma.to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
        sd2 = self.sigma_data**2
        c_skip = sd2 / (sigma**2 + sd2)
        c_out = sigma * self.sigma_data / (sigma**2 + sd2).sqrt()
        c_in = 1.0 / (sigma**2 + sd2).sqrt()
        c_noise = sigma.log().flatten() / 4
        f = self.net((c_in * x).to(self._dtype()), c_noise.to(self._dtype())).to(x.dtype)
        return c_skip * x + c_out * f

    def _dtype(self) -> torch.dtype:
        return next(self.net.parameters()).dtype

    def score(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """Tweedie: grad log p_sigma(x) = (E[x0 | x] - x) / sigma^2."""
        s = sigma.to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
        return (self(x, sigma) - x) / s**2

    def loss_weight(self, sigma: torch.Tensor) -> torch.Tensor:
        """EDM's lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2: unit-scale F targets."""
        return (sigma**2 + self.sigma_data**2) / (sigma * self.sigma_data) ** 2
