"""A 1-D U-Net on the waveform (DAG/UNIVERSE style), working at reduced time resolution after a patch stem."""

from __future__ import annotations

import math

import torch
from torch import nn

from dps.prior.layers import FourierFeatures, ResBlock, SelfAttention, UNetBodyMixin


class WaveUNet(UNetBodyMixin, nn.Module):
    """F(c_in x, c_noise): strided-conv encoder/decoder with skips, FiLM on log sigma, attention at the bottleneck."""

    def __init__(
        self,
        patch: int = 16,
        channels: tuple[int, ...] = (64, 96, 128, 192),
        blocks: int = 2,
        kernel: int = 5,
        emb_dim: int = 128,
        attention: bool = True,
        heads: int = 4,
        dropout: float = 0.0,
        strides: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        self.strides = tuple(strides) if strides is not None else (2,) * (len(channels) - 1)
        if len(self.strides) != len(channels) - 1:
            raise ValueError("unet1d: need one stride per level transition (len(channels) - 1)")
        self.patch = patch
        self.emb = FourierFeatures(emb_dim)
        self.stem = nn.Conv1d(1, channels[0], 2 * patch, stride=patch, padding=patch // 2)
        self.down_blocks = nn.ModuleList()
        self.downs = nn.ModuleList()
        for i, c in enumerate(channels):
            self.down_blocks.append(
                nn.ModuleList(ResBlock(c, c, emb_dim, kernel, dropout=dropout) for _ in range(blocks))
            )
            if i < len(channels) - 1:
                s = self.strides[i]
                self.downs.append(nn.Conv1d(c, channels[i + 1], 2 * s, stride=s, padding=s // 2))
        cb = channels[-1]
        self.mid1 = ResBlock(cb, cb, emb_dim, kernel)
        self.mid_attn = SelfAttention(cb, heads) if attention else nn.Identity()
        self.mid2 = ResBlock(cb, cb, emb_dim, kernel)
        self.ups = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for i in reversed(range(len(channels))):
            c = channels[i]
            blocks_i = [ResBlock(2 * c, c, emb_dim, kernel, dropout=dropout)]
            blocks_i += [ResBlock(c, c, emb_dim, kernel, dropout=dropout) for _ in range(blocks - 1)]
            self.up_blocks.append(nn.ModuleList(blocks_i))
            if i > 0:
                s = self.strides[i - 1]
                self.ups.append(nn.ConvTranspose1d(c, channels[i - 1], 2 * s, stride=s, padding=s // 2))
        self.head_norm = nn.GroupNorm(min(32, channels[0] // 4), channels[0])
        self.head = nn.ConvTranspose1d(channels[0], 1, 2 * patch, stride=patch, padding=patch // 2)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @property
    def hop(self) -> int:
        """Input lengths are padded to a multiple of this."""
        return self.patch * math.prod(self.strides)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        length = x.shape[-1]
        pad = (-length) % self.hop
        h = nn.functional.pad(x, (0, pad))[:, None, :]
        emb = self.emb(c_noise)
        h = self.stem(h)
        h = self.unet_body(h, emb)
        h = self.head(nn.functional.silu(self.head_norm(h)))
        return h[:, 0, :length]
