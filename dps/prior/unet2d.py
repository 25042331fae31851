"""A 2-D U-Net over the orthonormal MDCT plane (bins x frames); maps back to the waveform exactly."""

from __future__ import annotations

import torch
from torch import nn

from dps.dsp.mdct import imdct, mdct
from dps.prior.layers import FourierFeatures, ResBlock, SelfAttention, UNetBodyMixin


class MDCTUNet(UNetBodyMixin, nn.Module):
    """F(x) = iMDCT(G(MDCT(x))): harmonics and onsets become local 2-D patterns; the transform is orthonormal."""

    def __init__(
        self,
        hop: int = 256,
        channels: tuple[int, ...] = (32, 64, 96, 128),
        blocks: int = 2,
        kernel: int = 3,
        emb_dim: int = 128,
        attention: bool = False,
        heads: int = 4,
        dropout: float = 0.0,
        patch_bins: int = 4,
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        self.hop = hop
        self.patch_bins = patch_bins
        self.levels = len(channels)
        self.emb = FourierFeatures(emb_dim)
        self.in_gain = nn.Parameter(torch.ones(hop))  # learned per-bin scaling: bin energies differ by decades
        self.out_gain = nn.Parameter(torch.ones(hop))
        # A bin-patch stem: the plane is worked on at 1/patch_bins frequency resolution, for CPU speed.
        self.stem = nn.Conv2d(2, channels[0], (patch_bins, kernel), stride=(patch_bins, 1), padding=(0, kernel // 2))
        self.down_blocks = nn.ModuleList()
        self.downs = nn.ModuleList()
        for i, c in enumerate(channels):
            self.down_blocks.append(
                nn.ModuleList(ResBlock(c, c, emb_dim, kernel, dims=2, dropout=dropout) for _ in range(blocks))
            )
            if i < len(channels) - 1:
                self.downs.append(nn.Conv2d(c, channels[i + 1], 2, stride=2))
        cb = channels[-1]
        self.mid1 = ResBlock(cb, cb, emb_dim, kernel, dims=2)
        self.mid_attn = SelfAttention(cb, heads) if attention else nn.Identity()
        self.mid2 = ResBlock(cb, cb, emb_dim, kernel, dims=2)
        self.ups = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for i in reversed(range(len(channels))):
            c = channels[i]
            level = [ResBlock(2 * c, c, emb_dim, kernel, dims=2, dropout=dropout)]
            level += [ResBlock(c, c, emb_dim, kernel, dims=2, dropout=dropout) for _ in range(blocks - 1)]
            self.up_blocks.append(nn.ModuleList(level))
            if i > 0:
                self.ups.append(nn.ConvTranspose2d(c, channels[i - 1], 2, stride=2))
        self.head_norm = nn.GroupNorm(min(32, channels[0] // 4), channels[0])
        self.head = nn.ConvTranspose2d(channels[0], 1, (patch_bins, 1), stride=(patch_bins, 1))
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        length = x.shape[-1]
        # The transforms stay in x's dtype under autocast: a bfloat16 MDCT (a matmul) would bury the quiet bins
        # under the loud ones' rounding error (bf16 decoding lost 0.043 ViSQOL on piano that way).
        with torch.autocast(x.device.type, enabled=False):
            coeffs = mdct(x, self.hop) * self.in_gain  # (B, F, N)
        frames = coeffs.shape[1]
        mult = 2 ** (self.levels - 1)
        pad = (-frames) % mult
        h = nn.functional.pad(coeffs, (0, 0, 0, pad)).transpose(1, 2)[:, None]  # (B, 1, N, F)
        pos = torch.linspace(-1, 1, self.hop, device=x.device, dtype=h.dtype)[None, None, :, None].expand_as(h)
        # channels-last: oneDNN's conv2d is about 2x faster on CPU in that layout (bench/sampler.py)
        h = self.stem(torch.cat([h, pos], dim=1).contiguous(memory_format=torch.channels_last))
        emb = self.emb(c_noise)
        h = self.unet_body(h, emb)
        out = self.head(nn.functional.silu(self.head_norm(h)))[:, 0].transpose(1, 2)[:, :frames]
        with torch.autocast(x.device.type, enabled=False):
            return imdct(out.to(x.dtype) * self.out_gain, length)
