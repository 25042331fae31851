"""The inference module: a prior + decoding settings turn Measurements into a waveform plus stats."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dps.codec.legacy import decode_legacy
from dps.codec.measurements import Measurements
from dps.dsp.mdct import mdct, quiet_dynamo_basis_warning
from dps.paths import config_dir
from dps.prior.export import Prior, PriorError
from dps.sampler.chunking import ChunkedScore
from dps.sampler.combine import AVERAGES, combine_chains
from dps.sampler.conditioning import MeasurementTensors, NoisyMeanConditioning, TweedieConditioning
from dps.sampler.langevin import sample

PRESET_DIR = config_dir() / "decode"
CONDITIONINGS = ("noisy_mean", "tweedie")


@dataclass
class DecodeSettings:
    """Sampler settings; sigmas are relative to audio at the prior's sigma_data RMS."""

    conditioning: str = "noisy_mean"  # noisy_mean | tweedie
    init: str = "warm"  # warm (legacy + sigma_start noise) | noise (sigma_max noise)
    sigma_max: float = 1.0
    sigma_start: float = 0.01
    warm_fill: float | None = None  # noise-fill factor of the warm start's legacy decoding (None: the codec's)
    sigma_min: float = 1e-4
    levels: int = 20
    steps_per_level: int = 3
    step_size: float = 0.5
    temperature: float = 0.3
    zeta: float = 1.0
    energy_term: str = "zero_bands"
    energy_weight: float = 1.0
    tweedie_spread: float = 1.0
    # Tweedie conditioning only at sigma >= this, the noisy mean below it (no vector-Jacobian product there).
    tweedie_sigma_min: float = 0.0
    final_denoise: bool = False
    # Below it: likelihood steps only, no network pass; "prior": the prior's training sigma_min; 0: never skip.
    network_sigma_min: float | str = 0.0
    # A network pass on every N-th step of a level; the steps between score with the level's denoised estimate
    # D = x + sigma^2 S(x, sigma) held fixed, S(x') = (D - x') / sigma^2 (noisy mean only). 1: every step.
    denoiser_refresh: int = 1
    # bfloat16: the network's matmuls and convolutions under autocast (the sampler and conditioning stay float32).
    network_precision: str = "float32"
    # torch.compile the network and its preconditioning (inductor): the first decode pays the compile (~45 s on
    # 2 CPU cores, cached on disk after), later ones run fused kernels (with bfloat16, ~17 % less network time).
    network_compile: bool = False
    # With network_compile: inductor's freezing (weights as constants, prepacked for oneDNN, residual adds fused into
    # their convolutions) and C++ wrapper, 0.85-0.9 of the compiled network's time on 2 CPU cores. The
    # first decode compiles for longer (~65 s for `paper`), and each prior object compiles a graph of its own.
    network_freeze: bool = False
    # torch.compile the likelihood and its gradient (float64, unchanged to rounding): 1.8-2.9x less conditioning time
    # per step; the first decode compiles for ~9 s, a second input length once more, then lengths are dynamic.
    conditioning_compile: bool = False
    final_temperature: float | None = None
    # Independent chains combined into the output (dps.sampler.combine): `waveform`, their mean, a Monte Carlo estimate
    # of E[x | y]; `power`, that mean in the coded bins and the root mean square in the uncoded ones.
    samples: int = 1
    sample_average: str = "waveform"
    chunk_seconds: float = 0.0
    overlap_seconds: float = 0.25
    # None: chunks at a hop of chunk - overlap, the last one pushed back to the end; a value: the fewest chunks
    # whose overlaps are all at least this long, evenly spread (4 s: 3 chunks instead of 4 at 0.125).
    min_overlap_seconds: float | None = None
    # edges: ramps at each chunk's inner edges, scores averaged where neighbours overlap beyond them; centred: one
    # ramp in the middle of each overlap, the rest of it to the chunk it is further inside (no averaging, no edges).
    crossfade: str = "edges"
    level_normalize: bool = True
    # chunk: each chunk scaled to the prior's level by its own envelope RMS; input: one gain for the whole input.
    chunk_level: str = "chunk"
    max_chunk_gain_db: float = 12.0

    @classmethod
    def from_preset(cls, name_or_path: str, **overrides: Any) -> DecodeSettings:
        """A preset's settings, then its `noisy_mean:` or `tweedie:` section for that conditioning, then overrides."""
        path, data = _preset_data(name_or_path)
        sections = {c: data.pop(c) for c in CONDITIONINGS if c in data}
        known_fields = {f.name for f in fields(cls)}
        for c, section in sections.items():
            if not isinstance(section, dict):
                raise ValueError(f"{path}: {c}: expected a mapping of decode settings, got {section!r}")
            bad = set(section) - known_fields
            if bad:
                raise ValueError(f"{path}: {c}: unknown decode setting(s) {sorted(bad)}")
        conditioning = overrides.get("conditioning", data.get("conditioning", cls.conditioning))
        data.update(sections.get(conditioning, {}))
        data.update(overrides)  # None is a value here (`--set min_overlap_seconds=null`): callers drop unset options
        bad = set(data) - known_fields
        if bad:
            raise ValueError(f"{path}: unknown decode setting(s) {sorted(bad)}")
        s = cls(**data)
        s.validate()
        return s

    def validate(self) -> None:
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning: expected {' or '.join(CONDITIONINGS)}, got {self.conditioning!r}")
        if self.init not in ("warm", "noise"):
            raise ValueError(f"init: expected warm or noise, got {self.init!r}")
        if self.warm_fill is not None and not 0.0 <= self.warm_fill <= 4.0:
            raise ValueError(f"warm_fill: expected a noise-fill factor in [0, 4] or null, got {self.warm_fill}")
        if not isinstance(self.samples, int) or self.samples < 1:
            raise ValueError(f"samples: expected an integer >= 1, got {self.samples!r}")
        if self.sample_average not in AVERAGES:
            raise ValueError(f"sample_average: expected one of {', '.join(AVERAGES)}, got {self.sample_average!r}")
        dr = self.denoiser_refresh
        if isinstance(dr, bool) or not isinstance(dr, int) or dr < 1:
            raise ValueError(f"denoiser_refresh: expected an integer >= 1, got {dr!r}")
        if dr > 1 and self.conditioning != "noisy_mean":
            raise ValueError(
                f"denoiser_refresh {dr}: needs conditioning noisy_mean (Tweedie differentiates the network)"
            )
        if self.levels < 1 or self.steps_per_level < 1:
            raise ValueError("levels and steps_per_level must be >= 1")
        if self.step_size <= 0 or self.zeta < 0:
            raise ValueError(f"step_size must be > 0 and zeta >= 0, got {self.step_size} and {self.zeta}")
        nsm = self.network_sigma_min
        if nsm != "prior" and (isinstance(nsm, str) or nsm < 0):
            raise ValueError(f"network_sigma_min: expected a sigma >= 0 or 'prior', got {nsm!r}")
        for name in ("network_compile", "network_freeze", "conditioning_compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true or false, got {getattr(self, name)!r}")
        if self.network_freeze and not self.network_compile:
            raise ValueError("network_freeze: needs network_compile true (freezing is a compile setting)")
        if self.network_precision not in ("float32", "bfloat16"):
            raise ValueError(f"network_precision: expected float32 or bfloat16, got {self.network_precision!r}")
        mo = self.min_overlap_seconds
        if mo is not None and (isinstance(mo, (bool, str)) or not 0 <= mo <= self.overlap_seconds):
            raise ValueError(
                f"min_overlap_seconds: expected null or a value in [0, overlap_seconds = {self.overlap_seconds}], "
                f"got {mo!r}"
            )
        if self.chunk_level not in ("chunk", "input"):
            raise ValueError(f"chunk_level: expected chunk or input, got {self.chunk_level!r}")
        if self.crossfade not in ("edges", "centred"):
            raise ValueError(f"crossfade: expected edges or centred, got {self.crossfade!r}")
        if self.tweedie_spread <= 0:
            raise ValueError(f"tweedie_spread must be > 0, got {self.tweedie_spread}")
        tsm = self.tweedie_sigma_min
        if isinstance(tsm, (bool, str)) or tsm < 0:
            raise ValueError(f"tweedie_sigma_min: expected a sigma >= 0, got {tsm!r}")
        # The likelihood step -step_size*zeta*(x - bound)/spread^2 (spread 1 for the noisy mean) overshoots past 2.
        tweedie = self.conditioning == "tweedie"
        k = self.step_size * self.zeta / (self.tweedie_spread**2 if tweedie else 1.0)
        if k >= 2:
            name = "step_size * zeta" + (" / tweedie_spread^2" if tweedie else "")
            raise ValueError(f"{name} must be < 2 for a stable likelihood step, got {k:g}")

    def identity(self) -> dict[str, Any]:
        """The settings that determine a decode, for cache keys."""
        return asdict(self)

    def sigmas(self) -> torch.Tensor:
        hi = self.sigma_start if self.init == "warm" else self.sigma_max
        return torch.exp(torch.linspace(np.log(hi), np.log(self.sigma_min), self.levels, dtype=torch.float64))


def dotlist_overrides(pairs: list[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` pairs as typed decode-setting overrides (OmegaConf dotlist)."""
    from omegaconf import OmegaConf

    bad = [p for p in pairs if "=" not in p]
    if bad:
        raise ValueError(f"--set: expected KEY=VALUE, got {bad[0]!r}")
    return dict(OmegaConf.to_container(OmegaConf.from_dotlist(pairs)))  # type: ignore[arg-type]


def _preset_data(name_or_path: str, chain: tuple[str, ...] = ()) -> tuple[Path, dict[str, Any]]:
    """A preset's settings; `base: NAME` starts from another preset's, which the file's own keys override."""
    from omegaconf import OmegaConf

    path = Path(name_or_path)
    if not path.is_file():
        path = PRESET_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
        raise ValueError(f"preset: {name_or_path!r} is neither a file nor one of {known}")
    if str(path) in chain:
        raise ValueError(f"preset: {path} is its own base ({' -> '.join(chain)})")
    data = dict(OmegaConf.to_container(OmegaConf.load(path), resolve=True))  # type: ignore[arg-type]
    base = data.pop("base", None)
    if base is None:
        return path, data
    return path, {**_preset_data(str(base), (*chain, str(path)))[1], **data}


def frame_energy(m: Measurements) -> np.ndarray:
    """Per-frame energy implied by the decoded envelope (sum over bands, spread over the group's frames)."""
    cell = m.envelope_energy().sum(axis=1)  # (groups,)
    frames_per_group = np.bincount(m.group_of_frame, minlength=cell.size)
    return cell[m.group_of_frame] / frames_per_group[m.group_of_frame]


def _frozen(prior: Prior) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The prior's score compiled (at its first call) with inductor's CPU inference options: freezing (in no-grad
    graphs the weights become constants, prepacked for oneDNN, each residual add fused into its convolution; graphs
    with gradients, as Tweedie's, compile without it) and the C++ wrapper (kernels and library calls launched from
    C++). Freezing passed per compile (`options=`) is not applied, hence the patch around each call; the score is
    wrapped in a function of its own so dynamo's cache keeps these graphs, guarded on the prior's identity, apart
    from unfrozen ones of Prior.score."""
    import torch._inductor.config as inductor_config

    def frozen_score(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return prior.score(x, sigma)

    compiled = torch.compile(frozen_score)

    def call(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        with inductor_config.patch(freezing=True, cpp_wrapper=True):
            return compiled(x, sigma)

    return call


class PosteriorDecoder:
    """Decode Measurements by annealed Langevin sampling of p(x | y) with a prior and closed-form conditioning."""

    def __init__(self, prior: Prior, settings: DecodeSettings | None = None, device: str = "cpu") -> None:
        self.prior = prior.to(device)
        self.settings = settings or DecodeSettings()
        self.settings.validate()
        self.device = device
        self._compiled: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def network_floor(self) -> float:
        """The sigma below which the sampler skips the network (settings.network_sigma_min resolved)."""
        nsm = self.settings.network_sigma_min
        return float(self.prior.schedule.sigma_min) if nsm == "prior" else float(nsm)

    def identity(self) -> dict[str, Any]:
        """The settings that fix this decoder's output, `network_sigma_min: prior` resolved, for cache keys."""
        return replace(self.settings, network_sigma_min=self.network_floor()).identity()

    def score_fn(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """The prior's score, compiled and under bfloat16 autocast when the settings ask for them."""
        prior_score = self.prior.score
        if self.settings.network_compile:
            if self._compiled is None:
                quiet_dynamo_basis_warning()
                freeze = self.settings.network_freeze
                self._compiled = _frozen(self.prior) if freeze else torch.compile(self.prior.score)
            prior_score = self._compiled
        if self.settings.network_precision == "float32":
            return prior_score
        device_type = torch.device(self.device).type

        def score(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
            with torch.autocast(device_type, dtype=torch.bfloat16):
                return prior_score(x, sigma).float()

        return score

    def check(self, m: Measurements) -> None:
        if m.sample_rate != self.prior.sample_rate:
            raise PriorError(
                f"prior {self.prior.content!r} is trained at {self.prior.sample_rate} Hz, the bitstream is at "
                f"{m.sample_rate} Hz"
            )

    def _gains(self, m: Measurements, chunker: ChunkedScore, global_gain: float) -> torch.Tensor:
        """Per-chunk level corrections so each chunk reaches the network at sigma_data RMS."""
        if not self.settings.level_normalize or self.settings.chunk_level == "input":
            return torch.ones(len(chunker.starts))
        e = frame_energy(m) * global_gain**2
        hop = m.params.hop
        gains = []
        for s in chunker.starts:
            f0, f1 = s // hop, min(len(e), (s + chunker.chunk) // hop + 2)
            rms = np.sqrt(max(e[f0:f1].sum() / chunker.chunk, 1e-20))
            gains.append(self.prior.denoiser.sigma_data / rms)
        limit = 10 ** (self.settings.max_chunk_gain_db / 20)
        return torch.tensor(np.clip(gains, 1 / limit, limit), dtype=torch.float32)

    def decode(self, m: Measurements, seed: int = 0, progress: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Returns the decoded float64 waveform (the chains combined by `sample_average`) and stats (nfe, vjp,
        wall_s, rtf, inside)."""
        t0 = time.perf_counter()
        chains, stats = self.decode_chains(m, seed, progress)
        st = self.settings
        out = combine_chains(chains, m, st.sample_average)
        if not np.isfinite(out).all():
            raise ValueError(  # a settings problem, reported as a one-line error by the command lines
                f"the sampler diverged (non-finite samples) with step_size {st.step_size}, zeta {st.zeta}: lower them"
            )
        coeffs = mdct(torch.from_numpy(out), m.params.hop).numpy()
        inside = float(np.mean((coeffs >= m.lower) & (coeffs <= m.upper)))
        wall = time.perf_counter() - t0
        stats.update({"wall_s": wall, "rtf": wall / m.duration_s, "inside": inside, "settings": asdict(st)})
        return out, stats

    def decode_chains(self, m: Measurements, seed: int = 0, progress: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
        """The `samples` posterior chains uncombined, (K, T) float64, and the sampler's stats (nfe, vjp, chunks)."""
        self.check(m)
        st = self.settings
        sigma_data = self.prior.denoiser.sigma_data
        total_rms = float(np.sqrt(max(frame_energy(m).sum() / m.num_samples, 1e-20)))
        gain = sigma_data / total_rms if st.level_normalize else 1.0
        mt = MeasurementTensors.from_measurements(m, st.energy_term, gain=gain, device=self.device)
        tweedie = st.conditioning == "tweedie"
        cond_cls = TweedieConditioning if tweedie else NoisyMeanConditioning
        kwargs = {"spread": st.tweedie_spread, "sigma_min": st.tweedie_sigma_min} if tweedie else {}
        cond = cond_cls(mt, zeta=st.zeta, energy_weight=st.energy_weight, compiled=st.conditioning_compile, **kwargs)
        seg = int(self.prior.config["data"]["segment_seconds"] * self.prior.sample_rate)
        chunk = int(st.chunk_seconds * m.sample_rate) if st.chunk_seconds > 0 else seg
        overlap = int(st.overlap_seconds * m.sample_rate)
        min_overlap = None if st.min_overlap_seconds is None else int(st.min_overlap_seconds * m.sample_rate)
        chunker = ChunkedScore(
            self.score_fn(), m.num_samples, chunk, overlap, min_overlap=min_overlap, centred=st.crossfade == "centred"
        )
        chunker.gains = self._gains(m, chunker, gain)
        g = torch.Generator().manual_seed(seed)
        sigmas = st.sigmas()
        shape = (st.samples, m.num_samples)
        if st.init == "warm":
            x = torch.from_numpy(decode_legacy(m, st.warm_fill, seed=seed) * gain).float().expand(shape)
            x = x + float(sigmas[0]) * torch.randn(shape, generator=g)
        else:
            x = float(sigmas[0]) * torch.randn(shape, generator=g)
        x = x.to(self.device)
        y, stats = sample(
            chunker,
            x,
            sigmas,
            cond,
            steps_per_level=st.steps_per_level,
            step_size=st.step_size,
            temperature=st.temperature,
            generator=g,
            final_denoise=st.final_denoise,
            final_temperature=st.final_temperature,
            progress=progress,
            network_sigma_min=self.network_floor(),
            denoiser_refresh=st.denoiser_refresh,
        )
        stats["chunks"] = len(chunker.starts)
        return y.detach().to(torch.float64).cpu().numpy() / gain, stats
