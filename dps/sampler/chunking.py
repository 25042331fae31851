"""Scores of long signals: overlapping chunks batched through the network, per-chunk level, crossfaded."""

from __future__ import annotations

import math

import torch

from dps.sampler.langevin import ScoreFn


def chunk_starts(length: int, chunk: int, overlap: int, min_overlap: int | None = None) -> list[int]:
    """Chunk starts at a hop of chunk - overlap, the last pushed back to end at the signal's end; with min_overlap,
    the fewest chunks whose overlaps are all >= min_overlap, spread evenly."""
    if length <= chunk:
        return [0]
    if min_overlap is not None:
        n = math.ceil((length - min_overlap) / (chunk - min_overlap))
        return sorted({round(i * (length - chunk) / (n - 1)) for i in range(n)})
    hop = chunk - overlap
    n = math.ceil((length - chunk) / hop) + 1
    starts = [min(i * hop, length - chunk) for i in range(n)]
    return sorted(set(starts))


def _fade(n: int) -> torch.Tensor:
    """A raised-cosine rise over n samples; with its mirror image it sums to one."""
    return 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(n, dtype=torch.float64) + 0.5) / n)


def crossfade_weights(
    length: int, chunk: int, starts: list[int], overlap: int, dtype: torch.dtype, centred: bool = False
) -> torch.Tensor:
    """Raised-cosine ramps of `overlap` samples, normalized to a partition of unity: (chunks, chunk). By default
    they sit at each chunk's inner edges, and where neighbours overlap by more than the ramp their scores are
    averaged; `centred` puts one ramp at the middle of each neighbours' overlap and gives the rest of the overlap
    to the chunk it is further inside, so no two chunks are averaged outside the ramps and no chunk's edge is used.
    """
    if len(starts) == 1:
        return torch.ones(1, min(length, chunk), dtype=dtype)
    w = torch.ones(len(starts), chunk, dtype=torch.float64)
    if centred:
        for i, (a, b) in enumerate(zip(starts, starts[1:])):
            shared = a + chunk - b
            n = max(1, min(overlap, shared))
            lo = min(max(round((a + chunk + b - n) / 2), b), a + chunk - n)  # absolute start of the ramp
            fade = _fade(n)
            w[i, lo - a : lo - a + n] *= fade.flip(0)
            w[i, lo - a + n :] = 0
            w[i + 1, : lo - b] = 0
            w[i + 1, lo - b : lo - b + n] *= fade
    else:
        n = max(1, overlap)
        fade = _fade(n)
        for i in range(len(starts)):
            if i > 0:
                w[i, :n] = fade
            if i < len(starts) - 1:
                w[i, -n:] = fade.flip(0)
    total = torch.zeros(length, dtype=torch.float64)
    for i, s in enumerate(starts):
        total[s : s + chunk] += w[i]
    for i, s in enumerate(starts):
        w[i] = w[i] / total[s : s + chunk]
    return w.to(dtype)


class ChunkedScore:
    """score(x, sigma) for (rows, T) signals via (rows * chunks, C) network batches; gains g_c rescale the model:
    score_x(x, sigma) = g score'(g x, g sigma), so every chunk is seen at the level the prior was trained on."""

    def __init__(
        self,
        score_fn: ScoreFn,
        length: int,
        chunk: int,
        overlap: int,
        gains: torch.Tensor | None = None,
        max_batch: int = 16,
        min_overlap: int | None = None,
        centred: bool = False,
    ) -> None:
        self.score_fn = score_fn
        self.centred = centred
        self.length = length
        self.chunk = min(chunk, length)
        self.overlap = min(overlap, self.chunk // 2)
        if min_overlap is not None:
            min_overlap = min(min_overlap, self.overlap)
        self.starts = chunk_starts(length, self.chunk, self.overlap, min_overlap)
        if len(self.starts) > 1:  # crossfade within the narrowest overlap
            self.overlap = min(self.overlap, min(self.chunk - (b - a) for a, b in zip(self.starts, self.starts[1:])))
        self.gains = gains if gains is not None else torch.ones(len(self.starts))
        self.max_batch = max_batch
        self._weights: dict[torch.dtype, torch.Tensor] = {}

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        rows, n = x.shape[0], len(self.starts)
        if n == 1 and rows <= self.max_batch:  # one chunk (the whole input): no stacking, weights or overlap-add
            g = self.gains[0].to(x.device, x.dtype)
            return self.score_fn(x * g, sigma * g) * g
        if x.dtype not in self._weights:
            self._weights[x.dtype] = crossfade_weights(
                self.length, self.chunk, self.starts, self.overlap, x.dtype, centred=self.centred
            )
        weights = self._weights[x.dtype].to(x.device)
        gains = self.gains.to(x.device, x.dtype)
        # Every chunk of every row in one network batch: (rows * chunks, C).
        pieces = (torch.stack([x[:, s : s + self.chunk] for s in self.starts], dim=1) * gains[:, None]).flatten(0, 1)
        sig = (sigma.reshape(rows, 1) * gains).flatten()
        outs = []
        for i in range(0, rows * n, self.max_batch):
            outs.append(self.score_fn(pieces[i : i + self.max_batch], sig[i : i + self.max_batch]))
        scores = torch.cat(outs).reshape(rows, n, self.chunk) * gains[:, None] * weights
        out = torch.zeros_like(x)
        for i, s in enumerate(self.starts):
            out = out.index_add(1, torch.arange(s, s + self.chunk, device=x.device), scores[:, i])
        return out
