"""Conditioning functions, the annealed Langevin sampler, chunking and the posterior decoder."""

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from dps.codec import encode, parse
from dps.dsp import mdct
from dps.sampler.chunking import ChunkedScore
from dps.sampler.conditioning import MeasurementTensors, NoisyMeanConditioning, TweedieConditioning, energy_term
from dps.sampler.intervals import erfcx_nonneg, interval_loglik_and_grads, standardize
from dps.sampler.langevin import sample
from tests.conftest import load_fixture

INF = float("inf")


def log_interval_prob(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Reference log(Phi(b) - Phi(a)) for a < b by log_ndtr differences, differentiable by autograd."""
    flip = a > 0
    lo = torch.where(flip, -b, a)
    hi = torch.where(flip, -a, b)
    log_hi = torch.special.log_ndtr(hi)
    log_lo = torch.special.log_ndtr(lo)
    # both in the lower tail: log Phi(hi) + log1p(-Phi(lo)/Phi(hi))
    tail = log_hi + torch.log1p(-torch.exp((log_lo - log_hi).clamp(max=0.0)).clamp(max=1 - 1e-16))
    # straddling zero: 1 - Phi(lo) - Phi(-hi), both terms <= 1/2
    middle = torch.log1p(-(torch.exp(log_lo) + torch.special.ndtr(-hi)).clamp(max=1 - 1e-16))
    return torch.where(hi <= 0, tail, middle)


def _random_intervals(n, g):
    centre = torch.randn(n, generator=g, dtype=torch.float64) * 5
    width = torch.rand(n, generator=g, dtype=torch.float64) * 2 + 1e-3
    lower, upper = centre - width / 2, centre + width / 2
    lower[::7] = -INF
    upper[3::11] = INF
    return lower, upper


@pytest.mark.parametrize("scale", [1e-5, 1e-3, 0.1, 1.0, 10.0])
def test_interval_score_equals_autograd(scale):
    """Closed form vs autograd of log(Phi(b) - Phi(a)) where autograd is exact (not both bounds > 30 scales
    out), and vs a
    60-digit mpmath derivative in the far tails (torch's log_ndtr backward loses digits there, ours does not)."""
    import mpmath

    g = torch.Generator().manual_seed(0)
    n = 4000
    lower, upper = _random_intervals(n, g)
    mean = (torch.randn(n, generator=g, dtype=torch.float64) * 8).requires_grad_(True)
    fin = torch.nonzero(torch.isfinite(lower) & torch.isfinite(upper)).flatten()
    mean.data[fin[:50]] = lower[fin[:50]] - 40 * scale  # far tails on both sides
    mean.data[fin[50:100]] = upper[fin[50:100]] + 40 * scale
    mean.data[fin[100:150]] = lower[fin[100:150]] - 1e6 * scale
    inner = fin[150:400]
    mean.data[inner] = lower[inner] + scale * torch.randn(len(inner), generator=g, dtype=torch.float64)
    logp, d_mean, d_scale = (t.detach() for t in interval_loglik_and_grads(mean, scale, lower, upper))
    assert torch.isfinite(logp).all() and torch.isfinite(d_mean).all() and torch.isfinite(d_scale).all()
    a, b = standardize(mean, scale, lower, upper)
    torch.testing.assert_close(logp, log_interval_prob(a, b).detach(), rtol=1e-9, atol=1e-15)
    near = ~((a > 30) | (b < -30))  # far: the whole interval lies > 30 scales out in one tail
    (auto,) = torch.autograd.grad(log_interval_prob(a, b).sum(), mean)
    torch.testing.assert_close(d_mean[near], auto[near], rtol=1e-6, atol=1e-9 / scale)
    assert near.sum() > 200 and (~near).sum() > 100
    mpmath.mp.dps = 60
    rt2 = mpmath.sqrt(2)
    for i in torch.nonzero(~near).flatten()[::10].tolist():
        lo, hi = mpmath.mpf(lower[i].item()), mpmath.mpf(upper[i].item())
        sc = mpmath.mpf(scale)

        def f(mu, lo=lo, hi=hi, sc=sc):
            za, zb = (lo - mu) / sc, (hi - mu) / sc
            if za > 0:  # upper tail: difference of erfc, no cancellation at any precision
                return mpmath.log((mpmath.erfc(za / rt2) - mpmath.erfc(zb / rt2)) / 2)
            return mpmath.log((mpmath.erfc(-zb / rt2) - mpmath.erfc(-za / rt2)) / 2)

        ref = float(mpmath.diff(f, mpmath.mpf(mean[i].item())))
        assert math.isclose(float(d_mean[i]), ref, rel_tol=1e-6), (i, float(d_mean[i]), ref)
    s = torch.tensor(scale, dtype=torch.float64, requires_grad=True)
    a, b = standardize(mean.detach()[near], s, lower[near], upper[near])
    (auto_s,) = torch.autograd.grad(log_interval_prob(a, b).sum(), s)
    assert math.isclose(float(d_scale[near].sum()), float(auto_s), rel_tol=1e-6, abs_tol=1e-6)


def test_compiled_erfcx_matches_the_library_kernel():
    """Under torch.compile erfcx_nonneg is exp(x^2) erfc(x) below 10 and an asymptotic series above (vectorized by
    inductor); both sides of the switch agree with torch.special.erfcx to 1e-13. Eager it is the library kernel."""
    x = torch.cat(
        [
            torch.linspace(0, 40, 40001, dtype=torch.float64),
            torch.logspace(-8, 12, 2001, dtype=torch.float64),
            torch.tensor([0.0, 10.0 - 1e-12, 10.0, 10.0 + 1e-12], dtype=torch.float64),
        ]
    )
    ref = torch.special.erfcx(x)
    assert torch.equal(erfcx_nonneg(x), ref)
    got = torch.compile(erfcx_nonneg)(x)
    rel = ((got - ref).abs() / ref).max()
    assert torch.isfinite(got).all() and rel < 1e-13, float(rel)


@pytest.mark.parametrize("compiled", [False, True])
def test_gradient_at_is_the_likelihood_gradient(measurements, compiled):
    """The sampler's gradient-only path equals likelihood_at's gradient (zeta included), eager and compiled."""
    x, m = measurements
    cond = NoisyMeanConditioning(MeasurementTensors.from_measurements(m, "all"), zeta=0.7, compiled=compiled)
    g = torch.Generator().manual_seed(3)
    xt = torch.from_numpy(x)[None] + 0.01 * torch.randn(1, x.size, generator=g, dtype=torch.float64)
    for sigma in (1e-5, 1e-2, 1.0):
        s = torch.tensor([sigma], dtype=torch.float64)
        grad = cond.gradient_at(xt, s)
        _, ref = cond.likelihood_at(xt, s)
        torch.testing.assert_close(grad, ref, rtol=1e-12, atol=1e-12 * float(ref.abs().max()))


def test_interval_probability_matches_direct_formula_where_safe():
    a = torch.tensor([-1.0, -3.0, 0.5, 2.0], dtype=torch.float64)
    b = torch.tensor([1.0, -2.0, 3.0, INF], dtype=torch.float64)
    ndtr = torch.special.ndtr
    torch.testing.assert_close(log_interval_prob(a, b), torch.log(ndtr(b) - ndtr(a)), rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def measurements():
    x = load_fixture("music")[:22050]
    return x, parse(encode(x, 16))


@pytest.mark.parametrize("sigma", [1e-5, 1e-3, 0.1, 10.0])
def test_energy_score_equals_autograd(measurements, sigma):
    _, m = measurements
    mt = MeasurementTensors.from_measurements(m, "all")
    g = torch.Generator().manual_seed(1)
    coeffs = (torch.randn((1, *m.lower.shape), generator=g, dtype=torch.float64) * 0.05).requires_grad_(True)
    s = torch.tensor([sigma], dtype=torch.float64)
    ll, grad = energy_term(coeffs, s, mt)
    assert torch.isfinite(ll).all() and torch.isfinite(grad).all()

    def ll_only(c):
        batch, n_cells = c.shape[0], mt.cell_size.shape[0]
        idx = mt.cell.reshape(-1).expand(batch, -1)
        energy = torch.zeros(batch, n_cells, dtype=c.dtype).scatter_add(1, idx, c.reshape(batch, -1) ** 2)
        mu = energy + mt.cell_size * sigma**2
        sd = torch.sqrt(2 * mt.cell_size * sigma**4 + 4 * sigma**2 * energy)
        a, b = standardize(mu, sd, mt.energy_lower, mt.energy_upper)
        return (log_interval_prob(a, b) * mt.energy_cells).sum()

    if sigma < 1e-4:
        return  # finiteness only: autograd's log_ndtr backward is itself inexact that far out in the tails
    (auto,) = torch.autograd.grad(ll_only(coeffs), coeffs)
    torch.testing.assert_close(grad, auto, rtol=1e-6, atol=1e-8 * float(auto.abs().max()) + 1e-12)


def test_noisy_mean_gradient_is_inverse_mdct_of_coefficient_score(measurements):
    x, m = measurements
    mt = MeasurementTensors.from_measurements(m, "none")
    cond = NoisyMeanConditioning(mt)
    xt = torch.from_numpy(x)[None] + 0.01 * torch.randn(1, x.size, dtype=torch.float64)
    xt.requires_grad_(True)
    ll, grad = cond.likelihood_at(xt, torch.tensor([0.01], dtype=torch.float64))
    coeffs = mdct(xt)
    a, b = standardize(coeffs, 0.01, mt.lower, mt.upper)
    (auto,) = torch.autograd.grad(log_interval_prob(a, b).sum(), xt)
    torch.testing.assert_close(grad, auto, rtol=1e-6, atol=1e-6 * float(auto.abs().max()))


def test_gaussian_prior_posterior_matches_truncated_gaussian():
    """Prior x ~ N(0, s0^2 I): interior MDCT coefficients are iid N(0, s0^2); with interval measurements the
    exact posterior per coefficient is a truncated Gaussian, which the conditioned sampler must reproduce."""
    from scipy.stats import truncnorm

    s0, hop, length = 1.0, 16, 16 * 6
    frames = length // hop + 1
    g = torch.Generator().manual_seed(0)
    lower = torch.full((frames, hop), -INF, dtype=torch.float64)
    upper = torch.full((frames, hop), INF, dtype=torch.float64)
    centre = torch.randn(frames - 2, hop, generator=g, dtype=torch.float64) * 1.2
    width = 0.3 + torch.rand(frames - 2, hop, generator=g, dtype=torch.float64) * 1.5
    lower[1:-1], upper[1:-1] = centre - width / 2, centre + width / 2
    mt = MeasurementTensors(
        lower,
        upper,
        torch.zeros(frames, hop, dtype=torch.long),
        torch.zeros(1),
        torch.full((1,), INF),
        torch.ones(1),
        torch.zeros(1, dtype=torch.bool),
        length,
        hop,
    )
    cond = NoisyMeanConditioning(mt, energy_weight=0.0)

    def score(x, sigma):
        return -x / (s0**2 + sigma[:, None] ** 2)

    chains = 400
    sigmas = torch.exp(torch.linspace(math.log(2.0), math.log(1e-3), 60, dtype=torch.float64))
    x0 = torch.randn(chains, length, generator=g, dtype=torch.float64) * 2.0
    out, stats = sample(score, x0, sigmas, cond, steps_per_level=20, step_size=0.2, temperature=1.0, generator=g)
    coeffs = mdct(out, hop)[:, 1:-1].numpy()
    lo, hi = lower[1:-1].numpy(), upper[1:-1].numpy()
    exact = truncnorm(lo / s0, hi / s0, scale=s0)
    mean_err = np.abs(coeffs.mean(0) - exact.mean()) / exact.std()
    var_ratio = coeffs.var(0) / exact.var()
    assert np.median(mean_err) < 0.1 and mean_err.max() < 0.4, (np.median(mean_err), mean_err.max())
    assert 0.85 < np.median(var_ratio) < 1.15, np.median(var_ratio)
    assert stats["nfe"] == 60 * 20 and stats["vjp"] == 0


def test_denoiser_refresh_holds_the_denoised_estimate_within_a_level(measurements, smoke_prior):
    """For a point-mass prior the denoiser D = mu does not depend on x, so holding D within a level is exact:
    the same iterates as a network pass on every step, with one pass per `denoiser_refresh` steps."""
    _, m = measurements
    mt = MeasurementTensors.from_measurements(m)
    mu = 0.05 * torch.randn(1, m.num_samples, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    calls = {"n": 0}

    def score(x, sigma):
        calls["n"] += 1
        return (mu - x) / sigma[:, None] ** 2

    sig = torch.exp(torch.linspace(math.log(0.3), math.log(1e-3), 5, dtype=torch.float64))
    x = torch.zeros(1, m.num_samples, dtype=torch.float64)
    runs = {}
    for refresh in (1, 2, 3):
        calls["n"] = 0
        g = torch.Generator().manual_seed(0)
        runs[refresh] = sample(
            score, x, sig, NoisyMeanConditioning(mt), steps_per_level=3, generator=g, denoiser_refresh=refresh
        )
        assert runs[refresh][1]["nfe"] == calls["n"] == 5 * len(range(0, 3, refresh))
        assert runs[refresh][1]["steps"] == 15
    torch.testing.assert_close(runs[3][0], runs[1][0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(runs[2][0], runs[1][0], rtol=1e-9, atol=1e-12)

    def gaussian(x, sigma):  # D depends on x here: holding it changes the iterates
        return -x / (1 + sigma[:, None] ** 2)

    g1, g3 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    y1, _ = sample(gaussian, x + 0.1, sig, NoisyMeanConditioning(mt), generator=g1)
    y3, _ = sample(gaussian, x + 0.1, sig, NoisyMeanConditioning(mt), generator=g3, denoiser_refresh=3)
    assert not torch.allclose(y1, y3)
    with pytest.raises(ValueError, match="needs conditioning noisy_mean, not Tweedie"):
        sample(gaussian, x, sig, TweedieConditioning(mt), denoiser_refresh=2)
    from dps.sampler import DecodeSettings

    lean = DecodeSettings.from_preset("paper_lean")
    paper = DecodeSettings.from_preset("paper")
    assert lean.denoiser_refresh == 3 and {**asdict(lean), "denoiser_refresh": 3} == {
        **asdict(paper),
        "denoiser_refresh": 3,
    }
    tw = DecodeSettings.from_preset("paper_lean", conditioning="tweedie")
    assert tw.denoiser_refresh == 1 and tw.chunk_seconds == 0
    assert paper.identity()["denoiser_refresh"] == 1 and lean.identity()["denoiser_refresh"] == 3
    from dps.sampler import PosteriorDecoder

    dec = PosteriorDecoder(smoke_prior, DecodeSettings.from_preset("paper_lean", levels=40))
    y, st = dec.decode(measurements[1])
    assert (st["nfe"], st["steps"]) == (40 + 1, 120) and st["inside"] > 0.99, st["inside"]  # + the final denoise
    with pytest.raises(ValueError, match="denoiser_refresh 3: needs conditioning noisy_mean"):
        DecodeSettings.from_preset("paper", conditioning="tweedie", denoiser_refresh=3)
    with pytest.raises(ValueError, match="integer >= 1"):
        DecodeSettings.from_preset("paper", denoiser_refresh=0)


class CountingScore(torch.autograd.Function):
    backward_calls = 0

    @staticmethod
    def forward(ctx, x, sigma):
        return -x / (1 + sigma[:, None] ** 2)

    @staticmethod
    def backward(ctx, grad):
        CountingScore.backward_calls += 1
        return -grad / 2, None  # magnitude is irrelevant here: the count is what is tested


def test_vjp_counts(measurements):
    _, m = measurements
    mt = MeasurementTensors.from_measurements(m)
    calls = {"forward": 0}

    def score(x, sigma):
        calls["forward"] += 1
        return CountingScore.apply(x, sigma)

    x = torch.zeros(1, m.num_samples, dtype=torch.float64)
    sig = torch.tensor([0.1, 0.01], dtype=torch.float64)
    CountingScore.backward_calls = 0
    _, st = sample(score, x, sig, NoisyMeanConditioning(mt), steps_per_level=3)
    assert (st["nfe"], st["vjp"], CountingScore.backward_calls, calls["forward"]) == (6, 0, 0, 6)
    _, st = sample(score, x, sig, TweedieConditioning(mt), steps_per_level=3)
    assert (st["nfe"], st["vjp"], CountingScore.backward_calls, calls["forward"]) == (6, 6, 6, 12)
    # below network_sigma_min the network is not called at all; the likelihood still moves x
    for cond in (NoisyMeanConditioning(mt), TweedieConditioning(mt)):
        calls["forward"] = CountingScore.backward_calls = 0
        y, st = sample(score, x, sig, cond, steps_per_level=3, temperature=0.0, network_sigma_min=0.05)
        assert (st["nfe"], calls["forward"], st["steps"]) == (3, 3, 6)
        assert st["vjp"] == CountingScore.backward_calls == (3 if isinstance(cond, TweedieConditioning) else 0)
        y_first, _ = sample(score, x, sig[:1], cond, steps_per_level=3, temperature=0.0)
        assert not torch.allclose(y, y_first)
    # Tweedie above its sigma_min only: one VJP per step there, the noisy mean's step (same output) below
    CountingScore.backward_calls = 0
    _, st = sample(score, x, sig, TweedieConditioning(mt, sigma_min=0.05), steps_per_level=3)
    assert (st["nfe"], st["vjp"], CountingScore.backward_calls) == (6, 3, 3)
    x1 = torch.randn(1, m.num_samples, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 0.1
    y_noisy, _ = sample(score, x1, sig, NoisyMeanConditioning(mt), temperature=0.0)
    y_low, st = sample(score, x1, sig, TweedieConditioning(mt, sigma_min=1.0), temperature=0.0)
    y_tw, _ = sample(score, x1, sig, TweedieConditioning(mt), temperature=0.0)
    assert st["vjp"] == 0 and torch.equal(y_low, y_noisy) and not torch.allclose(y_tw, y_noisy)


def test_chunked_score_equals_whole_for_a_pointwise_score():
    def score(x, sigma):
        return -x / (0.01 + sigma[:, None] ** 2)

    x = torch.randn(1, 10000, dtype=torch.float64)
    s = torch.tensor([0.05], dtype=torch.float64)
    chunked = ChunkedScore(score, 10000, 2048, 256)
    assert len(chunked.starts) > 3
    torch.testing.assert_close(chunked(x, s), score(x, s), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("min_overlap", [None, 2756])
@pytest.mark.parametrize("length", [88200, 132300, 40000, 300000])
def test_centred_crossfade_mixes_two_chunks_only_within_one_ramp_per_overlap(length, min_overlap):
    from dps.sampler.chunking import chunk_starts, crossfade_weights

    chunk, ramp = 32768, 5512
    starts = chunk_starts(length, chunk, ramp, min_overlap)
    w = crossfade_weights(length, chunk, starts, ramp, torch.float64, centred=True)
    total, mixed = torch.zeros(length, dtype=torch.float64), torch.zeros(length)
    for i, s in enumerate(starts):
        total[s : s + chunk] += w[i]
        mixed[s : s + chunk] += (w[i] > 1e-6).float()
    torch.testing.assert_close(total, torch.ones_like(total), rtol=0, atol=1e-12)  # a partition of unity
    assert mixed.max() <= 2
    shared = [a + chunk - b for a, b in zip(starts, starts[1:])]
    assert int((mixed == 2).sum()) <= sum(min(ramp, o) for o in shared)  # no averaging outside the ramps
    for i, (a, b) in enumerate(zip(starts, starts[1:])):
        if a + chunk - b > ramp + 2:  # an overlap wider than the ramp: neither chunk's inner edge is used
            assert w[i, -1] == 0 and w[i + 1, 0] == 0
    edges = crossfade_weights(length, chunk, starts, ramp, torch.float64)
    if any(o > ramp + 2 for o in shared):  # the default ramps at the edges average scores where chunks overlap
        mixed_edges = sum(
            torch.nn.functional.pad((edges[i] > 1e-6).float(), (s, length - s - chunk)) for i, s in enumerate(starts)
        )
        assert int((mixed_edges >= 2).sum()) > int((mixed == 2).sum())

    def score(x, sigma):
        return -x / (0.01 + sigma[:, None] ** 2)

    x = torch.randn(1, length, dtype=torch.float64)
    s = torch.tensor([0.05], dtype=torch.float64)
    chunked = ChunkedScore(score, length, chunk, ramp, min_overlap=min_overlap, centred=True)
    torch.testing.assert_close(chunked(x, s), score(x, s), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("length", [88200, 132300, 66150, 40000, 32769])
def test_min_overlap_layout_spreads_the_fewest_full_chunks_evenly(length):
    from dps.sampler.chunking import chunk_starts

    chunk, overlap, min_overlap = 32768, 5512, 2756
    starts = chunk_starts(length, chunk, overlap, min_overlap)
    assert starts[0] == 0 and starts[-1] == length - chunk  # full-length chunks that cover the signal
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert max(gaps) - min(gaps) <= 1 and chunk - max(gaps) >= min_overlap
    assert len(starts) <= len(chunk_starts(length, chunk, overlap))
    if len(starts) > 2:  # one chunk fewer would leave an overlap below min_overlap
        assert chunk - (length - chunk) / (len(starts) - 2) < min_overlap
    if length == 88200:  # 4 s at 22.05 kHz with the shipped priors' 1.486 s chunks: 3 instead of 4
        assert len(starts) == 3 == len(chunk_starts(length, chunk, overlap)) - 1

    def score(x, sigma):
        return -x / (0.01 + sigma[:, None] ** 2)

    x = torch.randn(2, length, dtype=torch.float64)
    s = torch.tensor([0.05, 0.2], dtype=torch.float64)
    chunked = ChunkedScore(score, length, chunk, overlap, min_overlap=min_overlap)
    assert chunked.starts == starts and chunked.overlap <= overlap
    torch.testing.assert_close(chunked(x, s), score(x, s), rtol=1e-12, atol=1e-12)  # weights sum to one


def test_min_overlap_seconds_is_checked_and_takes_fewer_chunks(smoke_prior):
    from dps.sampler import DecodeSettings, PosteriorDecoder
    from dps.sampler.decoder import dotlist_overrides

    for bad in (0.5, -0.1, "x"):
        with pytest.raises(ValueError, match="min_overlap_seconds: expected null or a value in"):
            DecodeSettings.from_preset("fast", min_overlap_seconds=bad)
    seg = smoke_prior.config["data"]["segment_seconds"]
    m = parse(encode(load_fixture("speech")[: int(2.6 * seg * 22050)], 16))
    chunks = {}
    for mo in (None, 0.05):
        settings = DecodeSettings.from_preset(
            "fast", levels=4, steps_per_level=2, min_overlap_seconds=mo, chunk_seconds=0.0
        )
        _, stats = PosteriorDecoder(smoke_prior, settings).decode(m)
        chunks[mo] = stats["chunks"]
        assert stats["inside"] >= 0.99
    unset = dotlist_overrides(["min_overlap_seconds=null"])  # --set restores the fixed-hop layout
    assert DecodeSettings.from_preset("fast", **unset).min_overlap_seconds is None
    assert chunks == {None: 5, 0.05: 3}  # 0.372 s chunks: the 0.25 s overlap is capped at half a chunk


def test_chunk_level_input_scales_every_chunk_by_one_gain(smoke_prior, monkeypatch):
    import dps.sampler.decoder as decoder_module
    from dps.sampler import DecodeSettings, PosteriorDecoder

    gains = {}

    def spy(chunker, *args, **kwargs):
        gains[level] = chunker.gains.clone()
        return real_sample(chunker, *args, **kwargs)

    real_sample = decoder_module.sample
    monkeypatch.setattr(decoder_module, "sample", spy)
    seg = smoke_prior.config["data"]["segment_seconds"]
    x = load_fixture("speech")[: int(2.6 * seg * 22050)].copy()
    x[len(x) // 2 :] *= 0.05  # a quiet second half: its chunks get a larger gain of their own
    m = parse(encode(x, 16))
    for level in ("chunk", "input"):
        settings = DecodeSettings.from_preset("fast", levels=4, steps_per_level=2, chunk_seconds=0.0, chunk_level=level)
        _, stats = PosteriorDecoder(smoke_prior, settings).decode(m)
        assert stats["chunks"] == 4
    assert float(gains["chunk"][-1] / gains["chunk"][0]) > 4
    assert gains["input"].tolist() == [1.0] * 4  # the decoder's one gain for the input, nothing per chunk
    with pytest.raises(ValueError, match="chunk_level: expected chunk or input, got 'band'"):
        DecodeSettings.from_preset("fast", chunk_level="band")


def test_one_chunk_path_equals_the_general_overlap_add():
    def score(x, sigma):
        return torch.tanh(x * 3) / sigma[:, None] ** 2

    x = torch.randn(2, 5000, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    s = torch.tensor([0.05, 0.2], dtype=torch.float64)
    one = ChunkedScore(score, 5000, 8000, 256, gains=torch.tensor([1.7]))
    assert one.starts == [0] and one.chunk == 5000
    general = ChunkedScore(score, 5000, 8000, 256, gains=torch.tensor([1.7]), max_batch=1)  # rows > max_batch
    torch.testing.assert_close(one(x, s), general(x, s), rtol=0, atol=0)
    g = one.gains[0].double()  # float32 1.7, as the decoder's gains
    torch.testing.assert_close(one(x, s), score(x * g, s * g) * g, rtol=0, atol=0)


def test_chunked_score_batches_rows_like_single_rows():
    from dps.prior.unet1d import WaveUNet

    torch.manual_seed(0)
    net = WaveUNet(patch=16, channels=(16, 24), blocks=1, kernel=3, emb_dim=32, attention=False).double()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05)
    calls = []

    def score(x, sigma):
        calls.append(x.shape[0])
        return net(x, sigma.log() / 4)

    x = torch.randn(3, 11000, dtype=torch.float64) * 0.1
    s = torch.tensor([0.1, 0.03, 0.01], dtype=torch.float64)
    chunked = ChunkedScore(score, 11000, 4096, 1024, gains=torch.tensor([1.0, 2.0, 0.5, 1.5]))
    assert len(chunked.starts) == 4
    together = chunked(x, s)
    assert calls == [12]  # all 3 x 4 chunks in one network batch
    rows = torch.cat([chunked(x[i : i + 1], s[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(together, rows, rtol=1e-10, atol=1e-12)


def test_chunked_network_agrees_away_from_seams_and_has_no_jumps():
    from dps.prior.unet1d import WaveUNet

    torch.manual_seed(0)
    net = WaveUNet(patch=16, channels=(16, 24), blocks=1, kernel=3, emb_dim=32, attention=False).double()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05)

    def score(x, sigma):
        return net(x, sigma.log() / 4)

    x = torch.randn(1, 12000, dtype=torch.float64) * 0.1
    s = torch.tensor([0.1], dtype=torch.float64)
    chunked = ChunkedScore(score, 12000, 4096, 1024)
    whole, part = score(x, s), chunked(x, s)
    seams = [st for st in chunked.starts[1:]] + [st + 4096 for st in chunked.starts[:-1]]
    away = torch.ones(12000, dtype=torch.bool)
    for seam in seams:
        away[max(0, seam - 600) : seam + 600] = False
    err = (whole[0, away] - part[0, away]).abs().max() / whole.abs().max()
    assert err < 1e-3, float(err)
    jumps = (part[0, 1:] - part[0, :-1]).abs()
    typical = (whole[0, 1:] - whole[0, :-1]).abs().max()
    assert float(jumps.max()) <= 1.5 * float(typical)


@pytest.fixture(scope="module")
def smoke_prior(smoke_prior_file):
    from dps.prior.export import load_prior

    return load_prior(smoke_prior_file)


@pytest.mark.parametrize("conditioning,floor", [("noisy_mean", "prior"), ("tweedie", "prior"), ("noisy_mean", 0.0)])
def test_decoded_coefficients_lie_in_their_intervals(smoke_prior, conditioning, floor):
    from dps.sampler import DecodeSettings, PosteriorDecoder

    x = load_fixture("speech")[:22050]
    settings = DecodeSettings.from_preset(
        "fast", conditioning=conditioning, levels=6, steps_per_level=3, network_sigma_min=floor
    )
    decoder = PosteriorDecoder(smoke_prior, settings)
    network_levels = int((settings.sigmas() >= decoder.network_floor()).sum())
    assert decoder.network_floor() == (smoke_prior.schedule.sigma_min if floor == "prior" else 0.0)
    assert network_levels == (4 if floor == "prior" else 6)  # no network below the prior's sigma_min 1e-4
    for kbps in (8, 16, 24, 32, 48):
        y, stats = decoder.decode(parse(encode(x, kbps)), seed=1)
        assert y.shape == x.shape and np.isfinite(y).all()
        assert stats["inside"] >= 0.99, (kbps, stats["inside"])
        assert stats["nfe"] == 3 * network_levels and stats["steps"] == 18
        assert stats["vjp"] == (stats["nfe"] if conditioning == "tweedie" else 0)


def test_prior_bitstream_mismatch_is_clear(smoke_prior):
    from dps.codec import CodecParams
    from dps.prior.export import PriorError
    from dps.sampler import PosteriorDecoder

    x = np.random.default_rng(0).standard_normal(16000) * 0.1
    m = parse(encode(x, 16, CodecParams(sample_rate=16000)))
    with pytest.raises(PriorError, match="22050 Hz"):
        PosteriorDecoder(smoke_prior).decode(m)


def test_trainer_predict_decodes_a_folder(smoke_prior_file, tmp_path):
    import soundfile as sf

    from dps.sampler import DecodeSettings
    from dps.sampler.predict import decode_files

    files = []
    for name in ("speech", "piano"):
        f = tmp_path / f"{name}.wav"
        sf.write(f, load_fixture(name)[:11025], 22050)
        files.append(f)
    results, reporter = decode_files(
        [(f, tmp_path / "out" / f"{f.stem}.dps.wav") for f in files],
        str(smoke_prior_file),
        DecodeSettings.from_preset("fast", levels=6, steps_per_level=3),
        accelerator="cpu",
        devices=1,
    )
    assert reporter
    assert sorted(Path(r["output"]).name for r in results) == ["piano.dps.wav", "speech.dps.wav"]
    # 6 levels x 3 steps, the network at the 4 levels at or above the prior's sigma_min.
    assert all(r["inside"] > 0.99 and r["nfe"] == 12 and r["steps"] == 18 for r in results), results
    assert {r["device"] for r in results} == {"cpu"}


def test_samples_average_independent_chains(smoke_prior, monkeypatch):
    import dps.sampler.decoder as decoder_module
    from dps.sampler import DecodeSettings, PosteriorDecoder

    chains = []

    def spy(*args, **kwargs):
        y, stats = real_sample(*args, **kwargs)
        chains.append(y.detach().clone())
        return y, stats

    real_sample = decoder_module.sample
    monkeypatch.setattr(decoder_module, "sample", spy)
    x = load_fixture("speech")[:22050]
    m = parse(encode(x, 16))
    # level_normalize off: the chains run at the bitstream's own level, so the output is their plain mean.
    settings = DecodeSettings.from_preset(
        "fast", levels=4, steps_per_level=2, network_sigma_min=0, samples=3, level_normalize=False
    )
    decoder = PosteriorDecoder(smoke_prior, settings)
    y, stats = decoder.decode(m, seed=0)
    (batch,) = chains
    assert batch.shape == (3, len(x)) and stats["nfe"] == 8  # the 3 chains share each network pass
    assert float((batch[0] - batch[1]).abs().max()) > 0  # independent chains, not copies
    np.testing.assert_allclose(batch.double().mean(0).numpy(), y, rtol=1e-6, atol=1e-9)
    kept, kept_stats = decoder.decode_chains(m, seed=0)  # the same chains, uncombined
    assert kept.shape == (3, len(x)) and kept_stats["nfe"] == 8
    np.testing.assert_allclose(kept, batch.double().numpy(), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="samples: expected an integer >= 1, got 0"):
        DecodeSettings.from_preset("fast", samples=0)


def test_a_power_average_keeps_the_uncoded_bins_level_that_a_waveform_mean_cancels():
    from dps.dsp.mdct import imdct, mdct
    from dps.sampler import DecodeSettings
    from dps.sampler.combine import combine_chains

    x = load_fixture("speech")[:22050]
    m = parse(encode(x, 16))
    hop = m.params.hop
    rng = np.random.default_rng(0)
    a = mdct(torch.from_numpy(x), hop).numpy()
    b = np.where(m.coded, a + 1e-3 * rng.standard_normal(a.shape), -2.0 * a)  # b's uncoded bins: opposite, twice
    chains = np.stack([imdct(torch.from_numpy(c), m.num_samples).numpy() for c in (a, b)])
    np.testing.assert_allclose(combine_chains(chains, m, "waveform"), chains.mean(0))
    out = mdct(torch.from_numpy(combine_chains(chains, m, "power")), hop).numpy()
    # Frames cut by the signal's end do not round-trip through the inverse transform: compare the others.
    inner = np.abs(mdct(torch.from_numpy(chains[1]), hop).numpy() - b).max(axis=1) < 1e-9
    assert inner.sum() >= a.shape[0] - 3
    unc = ~m.coded & (np.abs(a) > 1e-9) & inner[:, None]
    assert 0.5 < unc.mean() < 1.0
    # Uncoded: sqrt((a^2 + 4 a^2) / 2) with the first chain's sign; coded: the chains' mean.
    np.testing.assert_allclose(out[unc], np.sqrt(2.5) * a[unc], rtol=1e-6, atol=1e-9)
    coded = m.coded & inner[:, None]
    np.testing.assert_allclose(out[coded], ((a + b) / 2)[coded], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(combine_chains(chains[:1], m, "power"), chains[0])
    with pytest.raises(ValueError, match="sample_average: expected one of waveform, power, got 'median'"):
        DecodeSettings.from_preset("fast", sample_average="median")
    fast4 = DecodeSettings.from_preset("fast4")  # `fast` with 4 chains, power-averaged
    assert asdict(fast4) == asdict(DecodeSettings.from_preset("fast", samples=4, sample_average="power"))


def test_unstable_or_unknown_settings_are_clear_errors():
    from dps.sampler import DecodeSettings

    with pytest.raises(ValueError, match="step_size \\* zeta must be < 2"):
        DecodeSettings.from_preset("fast", zeta=4.0)
    with pytest.raises(ValueError, match="conditioning"):
        DecodeSettings.from_preset("fast", conditioning="exact")
    assert DecodeSettings.from_preset("fast", zeta=3.0).zeta == 3.0
    # Tweedie's spread scales the likelihood step by 1/spread^2 (fast: 0.5 * 1.5 / 0.5^2 = 3 diverged in decoding).
    with pytest.raises(ValueError, match="tweedie_spread\\^2 must be < 2 .* got 3"):
        DecodeSettings.from_preset("fast", conditioning="tweedie", tweedie_spread=0.5)
    assert DecodeSettings.from_preset("fast", tweedie_spread=0.5).tweedie_spread == 0.5  # unused by the noisy mean
    assert DecodeSettings.from_preset("fast", conditioning="tweedie", tweedie_spread=0.8).tweedie_spread == 0.8
    with pytest.raises(ValueError, match="tweedie_spread must be > 0"):
        DecodeSettings.from_preset("fast", tweedie_spread=0.0)
    with pytest.raises(ValueError, match="warm_fill"):
        DecodeSettings.from_preset("fast", warm_fill=-0.5)
    with pytest.raises(ValueError, match="network_sigma_min: expected a sigma >= 0 or 'prior', got 'auto'"):
        DecodeSettings.from_preset("fast", network_sigma_min="auto")
    with pytest.raises(ValueError, match="crossfade: expected edges or centred, got 'middle'"):
        DecodeSettings.from_preset("fast", crossfade="middle")
    with pytest.raises(ValueError, match="tweedie_sigma_min: expected a sigma >= 0, got -0.001"):
        DecodeSettings.from_preset("fast", conditioning="tweedie", tweedie_sigma_min=-1e-3)


def test_a_preset_section_applies_with_its_conditioning_only(tmp_path):
    from dps.sampler import DecodeSettings

    (tmp_path / "p.yaml").write_text("base: fast\ntemperature: 0.3\ntweedie:\n  temperature: 0.7\n  zeta: 1.0\n")
    p = str(tmp_path / "p.yaml")
    assert DecodeSettings.from_preset(p).temperature == 0.3
    assert DecodeSettings.from_preset(p, conditioning="noisy_mean").temperature == 0.3
    tw = DecodeSettings.from_preset(p, conditioning="tweedie")
    assert (tw.conditioning, tw.temperature, tw.zeta) == ("tweedie", 0.7, 1.0)
    assert DecodeSettings.from_preset(p, conditioning="tweedie", temperature=0.5).temperature == 0.5  # --set wins
    (tmp_path / "q.yaml").write_text(f"base: {p}\nconditioning: tweedie\n")  # sections pass through `base:`
    assert DecodeSettings.from_preset(str(tmp_path / "q.yaml")).temperature == 0.7
    (tmp_path / "bad.yaml").write_text("base: fast\ntweedie:\n  temprature: 0.7\n")
    with pytest.raises(ValueError, match="tweedie: unknown decode setting\\(s\\) \\['temprature'\\]"):
        DecodeSettings.from_preset(str(tmp_path / "bad.yaml"))  # checked even when the section does not apply
    (tmp_path / "flat.yaml").write_text("base: fast\ntweedie: 0.7\n")
    with pytest.raises(ValueError, match="tweedie: expected a mapping"):
        DecodeSettings.from_preset(str(tmp_path / "flat.yaml"))


def test_a_preset_extends_its_base(tmp_path):
    """`base: NAME` takes another preset's settings and overrides them with the file's own; cycles are errors."""
    from dataclasses import replace

    from dps.sampler import DecodeSettings

    fast = DecodeSettings.from_preset("fast")
    (tmp_path / "mine.yaml").write_text("base: fast\nzeta: 1.0\nnetwork_sigma_min: 0.0\n")
    mine = DecodeSettings.from_preset(str(tmp_path / "mine.yaml"))
    assert mine == replace(fast, zeta=1.0, network_sigma_min=0.0) and mine.levels == fast.levels == 20
    (tmp_path / "deeper.yaml").write_text(f"base: {tmp_path / 'mine.yaml'}\nlevels: 7\n")
    assert DecodeSettings.from_preset(str(tmp_path / "deeper.yaml")) == replace(mine, levels=7)
    (tmp_path / "loop.yaml").write_text(f"base: {tmp_path / 'loop.yaml'}\n")
    with pytest.raises(ValueError, match="its own base"):
        DecodeSettings.from_preset(str(tmp_path / "loop.yaml"))


def test_bfloat16_network_decodes_close_to_float32(smoke_prior):
    """network_precision bfloat16 runs the network under autocast: same NFE, coefficients inside, output close."""
    from dps.sampler import DecodeSettings, PosteriorDecoder

    x = load_fixture("speech")[:22050]
    m = parse(encode(x, 16))
    out, stats = {}, {}
    for precision in ("float32", "bfloat16"):
        settings = DecodeSettings.from_preset("fast", levels=6, steps_per_level=2, network_precision=precision)
        out[precision], stats[precision] = PosteriorDecoder(smoke_prior, settings).decode(m, seed=3)
        assert out[precision].dtype == np.float64 and stats[precision]["inside"] >= 0.99
    assert stats["float32"]["nfe"] == stats["bfloat16"]["nfe"] > 0
    diff = out["bfloat16"] - out["float32"]
    assert 0 < np.sqrt(np.mean(diff**2)) < 0.05 * np.sqrt(np.mean(out["float32"] ** 2))
    with pytest.raises(ValueError, match="network_precision: expected float32 or bfloat16, got 'fp8'"):
        DecodeSettings.from_preset("fast", network_precision="fp8")


def test_compiled_network_decodes_as_eager(smoke_prior):
    """network_compile runs the score through torch.compile (inductor): same NFE, output equal to rounding."""
    from torch._dynamo.utils import counters

    from dps.sampler import DecodeSettings, PosteriorDecoder

    m = parse(encode(load_fixture("speech")[:11025], 16))
    out, stats, graphs = {}, {}, {}
    for compiled in (False, True):
        # the prior-length layout (0.372 s chunks): one 0.5 s chunk of this 4-level smoke decode lands 98.99 %
        # of coefficients inside, beside the point here (test_decoded_coefficients_lie_in_their_intervals checks it)
        settings = DecodeSettings.from_preset(
            "fast", levels=4, steps_per_level=2, network_compile=compiled, chunk_seconds=0.0
        )
        before = counters["stats"]["unique_graphs"]
        out[compiled], stats[compiled] = PosteriorDecoder(smoke_prior, settings).decode(m, seed=2)
        graphs[compiled] = counters["stats"]["unique_graphs"] - before
    assert graphs == {False: 0, True: graphs[True]} and graphs[True] >= 1  # dynamo traced only the compiled decode
    assert stats[True]["nfe"] == stats[False]["nfe"] > 0 and stats[True]["inside"] >= 0.99
    diff = out[True] - out[False]
    assert np.sqrt(np.mean(diff**2)) < 1e-4 * np.sqrt(np.mean(out[False] ** 2))
    with pytest.raises(ValueError, match="network_compile: expected true or false, got 'yes'"):
        DecodeSettings.from_preset("fast", network_compile="yes")


def _weight_packs(counters) -> int:
    """Weights inductor's freezing has prepacked for oneDNN so far (convolutions and linear layers)."""
    return sum(v for k, v in counters["inductor"].items() if "weight_pack_matcher_count" in k)


def test_frozen_network_decodes_each_prior_with_its_own_weights(smoke_prior):
    """network_freeze compiles under inductor's freezing (weights folded as constants, prepacked oneDNN convolutions):
    equal to the eager decode to rounding, and a second prior of the same architecture in the same process decodes
    with its own weights, not with the constants folded for the first."""
    import copy

    from torch._dynamo.utils import counters

    from dps.sampler import DecodeSettings, PosteriorDecoder

    m = parse(encode(load_fixture("speech")[:11025], 16))
    other = copy.deepcopy(smoke_prior)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    kw = {"levels": 4, "steps_per_level": 2, "chunk_seconds": 0.0}
    frozen = DecodeSettings.from_preset("fast", network_compile=True, network_freeze=True, **kw)
    eager = DecodeSettings.from_preset("fast", **kw)
    out = {}
    for name, prior in (("smoke", smoke_prior), ("other", other)):
        packed = _weight_packs(counters)
        out[name], st = PosteriorDecoder(prior, frozen).decode(m, seed=2)
        ref, st_ref = PosteriorDecoder(prior, eager).decode(m, seed=2)
        assert _weight_packs(counters) > packed  # frozen: this prior's weights were prepacked as constants
        assert st["nfe"] == st_ref["nfe"] > 0
        assert np.sqrt(np.mean((out[name] - ref) ** 2)) < 1e-4 * np.sqrt(np.mean(ref**2)), name
    assert np.sqrt(np.mean((out["smoke"] - out["other"]) ** 2)) > 1e-2 * np.sqrt(np.mean(out["smoke"] ** 2))
    with pytest.raises(ValueError, match="network_freeze: needs network_compile true"):
        DecodeSettings.from_preset("fast", network_freeze=True)


@pytest.mark.parametrize("conditioning", ["noisy_mean", "tweedie"])
def test_compiled_conditioning_decodes_as_eager(smoke_prior, conditioning):
    """conditioning_compile runs the float64 likelihood through torch.compile: output equal to rounding."""
    from torch._dynamo.utils import counters

    from dps.sampler import DecodeSettings, PosteriorDecoder

    m = parse(encode(load_fixture("music")[:11025], 16))
    out, stats, graphs = {}, {}, {}
    for compiled in (False, True):
        settings = DecodeSettings.from_preset(
            "fast", conditioning=conditioning, levels=4, steps_per_level=2, conditioning_compile=compiled
        )
        before = counters["stats"]["unique_graphs"]
        out[compiled], stats[compiled] = PosteriorDecoder(smoke_prior, settings).decode(m, seed=4)
        graphs[compiled] = counters["stats"]["unique_graphs"] - before
    assert graphs[False] == 0 and graphs[True] >= 1
    assert stats[True]["nfe"] == stats[False]["nfe"] > 0 and stats[True]["vjp"] == stats[False]["vjp"]
    assert stats[True]["inside"] >= 0.99
    diff = out[True] - out[False]
    assert np.sqrt(np.mean(diff**2)) < 1e-6 * np.sqrt(np.mean(out[False] ** 2))
    with pytest.raises(ValueError, match="conditioning_compile: expected true or false, got 1"):
        DecodeSettings.from_preset("fast", conditioning_compile=1)


def test_warm_fill_sets_the_warm_starts_noise_fill_and_stays_inside(smoke_prior):
    from dps.sampler import DecodeSettings, PosteriorDecoder

    m = parse(encode(load_fixture("music")[:22050], 16))
    out = {}
    for fill in (0.0, 1.0):
        settings = DecodeSettings.from_preset("fast", warm_fill=fill, levels=3, steps_per_level=2)
        out[fill], stats = PosteriorDecoder(smoke_prior, settings).decode(m, seed=0)
        assert stats["inside"] >= 0.99
    # Same seed and steps: only the warm start differs.
    assert not np.allclose(out[0.0], out[1.0])
    # Cache identity: every setting is in it.
    assert DecodeSettings.from_preset("fast").identity()["warm_fill"] is None
    assert DecodeSettings.from_preset("fast", warm_fill=0.0).identity()["warm_fill"] == 0.0
    # The decoder resolves `network_sigma_min: prior` to the prior's sigma_min, so it and the number share a key.
    by_name = PosteriorDecoder(smoke_prior, DecodeSettings.from_preset("fast")).identity()
    by_value = PosteriorDecoder(smoke_prior, DecodeSettings.from_preset("fast", network_sigma_min=1e-4)).identity()
    assert by_name == by_value and by_name["network_sigma_min"] == smoke_prior.schedule.sigma_min == 1e-4
    never = PosteriorDecoder(smoke_prior, DecodeSettings.from_preset("fast", network_sigma_min=0.0)).identity()
    assert never["network_sigma_min"] == 0.0 and never != by_name
