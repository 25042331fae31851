"""Slim inference files: EMA weights as safetensors with the full config in the metadata (no pickle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from dps import __version__
from dps.audio import atomic_path
from dps.prior.denoiser import Denoiser
from dps.prior.networks import build_denoiser
from dps.prior.registry import file_digest, resolve_prior
from dps.prior.schedule import NoiseSchedule

FORMAT = "dps-prior"
FORMAT_VERSION = "1"


class PriorError(ValueError):
    """A prior file that is damaged, of another format, or does not fit the bitstream."""


class Prior(nn.Module):
    """A loaded prior: the preconditioned denoiser, its schedule and config; score(x, sigma) for the sampler."""

    def __init__(self, denoiser: Denoiser, schedule: NoiseSchedule, config: dict[str, Any]) -> None:
        super().__init__()
        self.denoiser = denoiser
        self.schedule = schedule
        self.config = config

    @property
    def sample_rate(self) -> int:
        return int(self.config["data"]["sample_rate"])

    @property
    def content(self) -> str:
        return str(self.config.get("content", "?"))

    def score(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.denoiser.score(x, sigma)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.denoiser(x, sigma)


def _load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise PriorError(f"{path}: not a readable Lightning checkpoint ({str(exc).splitlines()[0][:200]})") from None


def _checkpoint_parts(ckpt_path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, torch.Tensor]]:
    """(checkpoint, config, denoiser state) of a Lightning checkpoint; state_dict holds the EMA weights."""
    ckpt = _load_checkpoint(ckpt_path)
    try:
        config = ckpt["hyper_parameters"]["config"]
        state = {k[len("denoiser.") :]: v for k, v in ckpt["state_dict"].items() if k.startswith("denoiser.")}
    except (KeyError, TypeError):
        raise PriorError(f"{ckpt_path}: not a dps prior checkpoint (no config or denoiser weights)") from None
    if not state:
        raise PriorError(f"{ckpt_path}: no denoiser weights in the checkpoint")
    state = {k.replace("net._orig_mod.", "net."): v for k, v in state.items()}  # torch.compile wrapper
    return ckpt, dict(config), state


def prior_from_checkpoint(ckpt_path: str | Path, device: str | torch.device = "cpu") -> tuple[Prior, int]:
    """A Prior with the checkpoint's EMA weights, and its global step (for per-checkpoint evaluation)."""
    ckpt, config, state = _checkpoint_parts(Path(ckpt_path))
    return _build_prior(config, state, str(ckpt_path), device), int(ckpt.get("global_step", 0))


def export_prior(ckpt_path: str | Path, out_path: str | Path, dtype: str = "float32") -> dict[str, Any]:
    """Checkpoint (EMA weights in state_dict, via EMAWeightAveraging) -> safetensors + config metadata."""
    ckpt_path = Path(ckpt_path)
    ckpt, config, state = _checkpoint_parts(ckpt_path)
    target = getattr(torch, dtype)
    state = {k: (v.to(target) if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    from dps.codec import CodecParams

    info = {
        "global_step": int(ckpt.get("global_step", 0)),
        "train_wall_s": float(ckpt.get("train_wall_s", 0.0)),
        "ema": "averaged" if "averaging_state" in ckpt or "current_model_state" in ckpt else "none",
    }
    config = dict(config)
    config.setdefault("codec", CodecParams().to_dict())
    _write_prior(out_path, state, config, info, dtype)
    return {"config": config, **info}


def _write_prior(
    out_path: str | Path, state: dict[str, torch.Tensor], config: dict[str, Any], info: dict[str, Any], dtype: str
) -> None:
    """Weights + config/training metadata as safetensors, written to a temp file and renamed."""
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dps_version": __version__,
        "config": json.dumps(config),
        "training": json.dumps(info),
        "dtype": dtype,
    }
    with atomic_path(out_path) as tmp:
        save_file(state, str(tmp), metadata=meta)


def read_prior_metadata(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise PriorError(f"{path}: no such prior file")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise PriorError(f"{path}: not a safetensors prior file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise PriorError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise PriorError(f"{path}: prior format version {meta.get('format_version')}, expected {FORMAT_VERSION}")
    try:
        return {"config": json.loads(meta["config"]), "training": json.loads(meta.get("training", "{}"))}
    except (KeyError, json.JSONDecodeError):
        raise PriorError(f"{path}: prior metadata is damaged") from None


def load_prior(path: str | Path, device: str | torch.device = "cpu") -> Prior:
    """Rebuild the network from the embedded config and load the weights (float32, eval mode)."""
    meta = read_prior_metadata(path)
    config = meta["config"]
    config["training"] = meta["training"]
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise PriorError(f"{path}: unreadable weights ({exc})") from None
    return _build_prior(config, state, str(path), device)


# Config parts that must agree for weights to be averaged: the network, its preconditioning and the audio it saw.
SOUP_KEYS = ("family", "network", "schedule")


def soup_priors(
    paths: list[str | Path], out_path: str | Path, weights: list[float] | None = None, dtype: str = "float16"
) -> dict[str, Any]:
    """Weight-space average sum_i w_i theta_i of priors fine-tuned from one start (model soup, Wortsman et al. 2022)."""
    if len(paths) < 2:
        raise PriorError(f"soup: expected at least two priors, got {len(paths)}")
    w = [1.0 / len(paths)] * len(paths) if weights is None else [float(v) for v in weights]
    if len(w) != len(paths) or min(w) < 0 or abs(sum(w) - 1) > 1e-6:
        raise PriorError(f"soup: expected {len(paths)} weights >= 0 summing to 1, got {weights}")
    if Path(out_path).resolve() in {Path(p).resolve() for p in paths}:
        raise PriorError(f"soup: the output {out_path} is one of the inputs; choose another file")
    metas = [read_prior_metadata(p) for p in paths]
    first = metas[0]["config"]
    for path, meta in zip(paths[1:], metas[1:]):
        cfg = meta["config"]
        for key in SOUP_KEYS:
            if cfg.get(key) != first.get(key):
                got, want = cfg.get(key), first.get(key)
                raise PriorError(f"soup: {path} has another {key!r} than {paths[0]} ({got} vs {want})")
        for key in ("sample_rate", "segment_seconds"):
            if cfg["data"][key] != first["data"][key]:
                raise PriorError(f"soup: {path} has data.{key} {cfg['data'][key]}, {paths[0]} {first['data'][key]}")
    states = []
    for p in paths:
        try:
            states.append(load_file(str(p)))
        except (SafetensorError, OSError) as exc:
            raise PriorError(f"{p}: unreadable weights ({exc})") from None
    for p, st in zip(paths[1:], states[1:]):
        shapes = {k: tuple(v.shape) for k, v in st.items()}
        if shapes != {k: tuple(v.shape) for k, v in states[0].items()}:
            raise PriorError(f"soup: {p} holds other tensors than {paths[0]} (names or shapes differ)")
    target = getattr(torch, dtype)
    soup = {}
    for k, v in states[0].items():
        if not v.is_floating_point():
            soup[k] = v
            continue
        total = sum(wi * s[k].double() for wi, s in zip(w, states))
        soup[k] = total.to(target).contiguous()
    ingredients = [
        {
            "path": str(p),
            "sha256": file_digest(p),
            "weight": wi,
            "global_step": int(m["training"].get("global_step", 0)),
            "train_wall_s": float(m["training"].get("train_wall_s", 0.0)),
        }
        for p, wi, m in zip(paths, w, metas)
    ]
    info = dict(metas[0]["training"])
    info["soup"] = ingredients
    _write_prior(out_path, soup, first, info, dtype)
    return {"config": first, **info}


def init_weights(denoiser: Denoiser, spec: str | Path, partial: bool = False) -> dict[str, Any]:
    """Load a prior's weights (shipped name, .safetensors or .ckpt EMA weights) into `denoiser` for fine-tuning.

    partial: load only the tensors whose name and shape fit (e.g. a new stem around a trained body), list the rest.
    """
    path = Path(spec) if str(spec).endswith(".ckpt") else resolve_prior(str(spec))
    if path.suffix == ".ckpt":
        ckpt, _, state = _checkpoint_parts(path)
        step = int(ckpt.get("global_step", 0))
    else:
        step = int(read_prior_metadata(path)["training"].get("global_step", 0))
        state = load_file(str(path))
    info: dict[str, Any] = {"path": str(path), "sha256": file_digest(path), "global_step": step}
    if partial:
        own = denoiser.state_dict()
        fits = {k: v.float() for k, v in state.items() if k in own and own[k].shape == v.shape}
        if not fits:
            raise PriorError(f"init_from {path}: no tensor fits this config's network (init_partial=true)")
        denoiser.load_state_dict(fits, strict=False)
        info["partial"] = {"loaded": len(fits), "fresh": sorted(k for k in own if k not in fits)}
        return info
    try:
        denoiser.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError as exc:
        raise PriorError(
            f"init_from {path}: weights do not fit this config's network ({str(exc).splitlines()[-1].strip()[:200]})"
        ) from None
    return info


def _build_prior(config: dict[str, Any], state: dict[str, torch.Tensor], where: str, device: Any) -> Prior:
    try:
        denoiser, schedule = build_denoiser(config)
        missing, unexpected = denoiser.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    except (RuntimeError, TypeError, KeyError, ValueError) as exc:
        raise PriorError(
            f"{where}: weights do not fit the embedded config ({str(exc).splitlines()[0][:200]})"
        ) from None
    if missing or unexpected:
        raise PriorError(
            f"{where}: weights do not fit the embedded config (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    prior = Prior(denoiser, schedule, config).to(device)
    prior.eval()
    for p in prior.parameters():
        p.requires_grad_(False)
    return prior
