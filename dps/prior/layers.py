"""Building blocks shared by the score networks: noise embedding, FiLM residual blocks, attention."""

from __future__ import annotations

import math

import torch
from torch import nn


class FourierFeatures(nn.Module):
    """Random Fourier features of c_noise = ln(sigma)/4 (Tancik et al.), then an MLP."""

    def __init__(self, dim: int, scale: float = 16.0) -> None:
        super().__init__()
        self.register_buffer("freqs", torch.randn(dim // 2, generator=torch.Generator().manual_seed(0)) * scale)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim), nn.SiLU())

    def forward(self, c_noise: torch.Tensor) -> torch.Tensor:
        angles = 2 * math.pi * c_noise[:, None].float() * self.freqs[None, :]
        return self.mlp(torch.cat([angles.cos(), angles.sin()], dim=1))


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(32, max(1, channels // 4)), channels)


class ResBlock(nn.Module):
    """x + conv(act(FiLM(norm(conv(act(norm(x)))))): FiLM scale and shift come from the noise embedding."""

    def __init__(self, cin: int, cout: int, emb_dim: int, kernel: int, dims: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        self.norm1 = _norm(cin)
        self.conv1 = conv(cin, cout, kernel, padding=kernel // 2)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = _norm(cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = conv(cout, cout, kernel, padding=kernel // 2)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = conv(cin, cout, 1) if cin != cout else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, emb: torch.Tensor, film: torch.Tensor | None = None) -> torch.Tensor:
        """film: this block's film(emb) when the caller has computed it (UNetBodyMixin, one matmul for all)."""
        h = self.conv1(self.act(self.norm1(x)))
        scale, shift = (self.film(emb) if film is None else film).chunk(2, dim=1)
        shape = (h.shape[0], h.shape[1]) + (1,) * (h.dim() - 2)
        h = self.norm2(h) * (1 + scale.view(shape)) + shift.view(shape)
        h = self.conv2(self.drop(self.act(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over positions (the flattened trailing dims), pre-norm and residual."""

    def __init__(self, channels: int, heads: int = 4) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        h = self.norm(x).reshape(b, c, -1).transpose(1, 2)
        h, _ = self.attn(h, h, h, need_weights=False)
        return x + h.transpose(1, 2).reshape(x.shape)


class UNetBodyMixin:
    """The encoder / bottleneck / decoder pass shared by both U-Nets (down_blocks, downs, mid, ups, up_blocks)."""

    down_blocks: nn.ModuleList
    downs: nn.ModuleList
    up_blocks: nn.ModuleList
    ups: nn.ModuleList
    mid1: ResBlock
    mid_attn: nn.Module
    mid2: ResBlock

    def block_films(self, emb: torch.Tensor) -> list[torch.Tensor]:
        """Every ResBlock's FiLM projection of the noise embedding in one matmul (in body order): against one small
        matmul per block, 2.4-3.4 % less time per compiled `paper` step on 2 CPU cores."""
        blocks = [*(b for level in self.down_blocks for b in level), self.mid1, self.mid2]
        blocks += [b for level in self.up_blocks for b in level]
        weight = torch.cat([b.film.weight for b in blocks])
        bias = torch.cat([b.film.bias for b in blocks])
        return list(nn.functional.linear(emb, weight, bias).split([b.film.out_features for b in blocks], dim=1))

    def unet_body(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """Residual levels with one skip per level, attention between two bottleneck blocks."""
        films = iter(self.block_films(emb))
        skips = []
        for i, level in enumerate(self.down_blocks):
            for block in level:
                h = block(h, emb, next(films))
            skips.append(h)
            if i < len(self.downs):
                h = self.downs[i](h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb, next(films))), emb, next(films))
        for j, level in enumerate(self.up_blocks):
            h = torch.cat([h, skips.pop()], dim=1)
            for block in level:
                h = block(h, emb, next(films))
            if j < len(self.ups):
                h = self.ups[j](h)
        return h
