"""dps decode [INPUT]: decode .dps bitstreams, or audio encoded first at --bitrate, by posterior sampling (or the
legacy decoder). INPUT is a .dps file, an audio file or a folder walked recursively (its tree kept in the output
folder, existing outputs skipped on a rerun, failures listed at the end). With no INPUT it decodes the shipped
example clip with the shipped speech prior and prints DPS and legacy ViSQOL."""

from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from dps.cli.common import USER_ERRORS
from dps.paths import config_dir


def example_clip() -> Path:
    return Path(str(resources.files("dps") / "assets" / "example_speech.flac"))


def add_parser(sub: argparse._SubParsersAction) -> None:
    from dps.prior.registry import AUTO_PRIOR, shipped_priors

    p = sub.add_parser("decode", help="decode bitstreams or audio (posterior sampling or legacy)", description=__doc__)
    p.add_argument("input", nargs="?", default=None, help=".dps stream, audio file or folder (default: shipped clip)")
    p.add_argument("-o", "--output", default=None, help="output file, or folder for a folder input")
    shipped = ", ".join(shipped_priors()) or "none"
    p.add_argument(
        "--prior",
        default="speech",
        help=f"shipped prior ({shipped}), auto (unknown content: {AUTO_PRIOR}) or an exported .safetensors",
    )
    p.add_argument("--decoder", default="dps", choices=("dps", "legacy"))
    presets = ", ".join(sorted(f.stem for f in (config_dir() / "decode").glob("*.yaml")))
    p.add_argument("--preset", default="fast", help=f"sampler preset ({presets}) or a YAML path (default fast)")
    p.add_argument("--conditioning", default=None, choices=("noisy_mean", "tweedie"))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a preset's setting")
    p.add_argument("--bitrate", default="16", help="kb/s in [8, 48] when INPUT is audio (default 16)")
    p.add_argument("--codec-config", default=None, help="codec YAML for audio input (default: configs/codec.yaml)")
    p.add_argument("--fill", type=float, default=None, help="legacy decoder's noise-fill factor (default: tuned)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (a CUDA GPU when present), cpu, cuda or cuda:N")
    p.add_argument(
        "--devices",
        type=int,
        default=None,
        help="a folder over N processes per node (Trainer.predict, DDP; GPUs or CPU)",
    )
    p.add_argument("--num-nodes", type=int, default=1, help="with --devices: nodes (under SLURM or torchrun)")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("--no-metrics", action="store_true", help="skip ViSQOL when a reference is known")
    p.set_defaults(run=run)


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """--conditioning and --set as decode-setting overrides."""
    from dps.sampler.decoder import dotlist_overrides

    given = {"conditioning": args.conditioning} if args.conditioning else {}
    return {**given, **dotlist_overrides(args.set)}


def load(args: argparse.Namespace) -> Any:
    from dps.api import load_decoder

    if args.decoder == "legacy":
        from dps.cli.common import resolve_device

        resolve_device(args.device)  # a bad --device is an error whichever decoder runs
        return load_decoder(None, fill=args.fill)
    return load_decoder(args.prior, args.preset, args.device, **setting_overrides(args))


class Metrics:
    """SNR, and ViSQOL (audio mode) of the output and of the legacy decode, when asked and the eval extra is
    installed."""

    def __init__(self, visqol: bool) -> None:
        self.with_visqol = visqol
        self._visqol: Any = None

    def line(self, decoded: Any, seed: int) -> str:
        from dps.codec import decode_legacy, parse
        from dps.eval.metrics import snr_db

        ref, out, rate = decoded.reference, decoded.audio, decoded.sample_rate
        parts = [f"SNR {snr_db(ref, out):.2f} dB"]
        if not self.with_visqol:
            return ", ".join(parts)
        if self._visqol is None:
            try:
                from dps.eval.visqol import Visqol

                self._visqol = Visqol("audio")
            except ImportError:
                return ", ".join([*parts, "ViSQOL needs the eval extra: pip install 'dps[eval]'"])
        parts.append(f"ViSQOL audio {self._visqol(ref, out, rate):.3f}")
        if decoded.stats["decoder"] != "legacy":
            legacy = decode_legacy(parse(decoded.bitstream), seed=seed)
            parts.append(f"legacy ViSQOL audio {self._visqol(ref, legacy, rate):.3f}")
        return ", ".join(parts)


def describe(out: Path, decoded: Any, wall: float) -> str:
    st = decoded.stats
    where = f" ({st['prior']} prior) on {st['device']}" if st["decoder"] != "legacy" else ""
    line = f"{out}: {decoded.audio.size / decoded.sample_rate:.2f} s decoded by {st['decoder']}{where}"
    if "bitrate_kbps" in st:
        line += f" from {st['bitrate_kbps']:.2f} kb/s"
    line += f" in {wall:.2f} s"
    if "nfe" in st:
        line += (
            f" (network evaluations {st['nfe']}, vector-Jacobian products {st['vjp']}, "
            f"real-time factor {st['rtf']:.2f}, {100 * st['inside']:.2f} % of coefficients in their intervals)"
        )
    return line


def decode_one(decoder: Any, inp: Path, out: Path, args: argparse.Namespace, metrics: Metrics, bar: bool) -> list[str]:
    """Decode inp to out (atomically); the lines to print."""
    from tqdm import tqdm

    from dps.audio import save_audio

    t0 = time.perf_counter()
    with tqdm(total=decoder.steps, desc=inp.name, unit="step", leave=False, disable=not bar or None) as steps:
        decoded = decoder.decode(
            inp, bitrate=args.bitrate, seed=args.seed, codec_config=args.codec_config, progress=steps.update
        )
    save_audio(out, decoded.audio, decoded.sample_rate)
    lines = [describe(out, decoded, time.perf_counter() - t0)]
    if decoded.reference is not None:
        lines.append(f"{decoded.stats['decoder']}: {metrics.line(decoded, args.seed)}")
    return lines


def folder_inputs(folder: Path) -> list[Path]:
    from dps.audio import AUDIO_SUFFIXES, files_under

    files = files_under(folder, AUDIO_SUFFIXES | {".dps"})
    if not files:
        raise FileNotFoundError(f"{folder}: folder holds no .dps or audio files")
    return files


def decode_folder(folder: Path, args: argparse.Namespace, metrics: Metrics) -> int:
    from tqdm import tqdm

    from dps.audio import check_output

    out_dir = Path(args.output) if args.output else Path(f"{folder.resolve().name}.{args.decoder}")
    if out_dir.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{out_dir}: the output folder must lie outside the input folder {folder}")
    files = folder_inputs(folder)
    jobs = []
    for f in files:
        rel = f.relative_to(folder)
        out = out_dir / rel.parent / f"{rel.stem}.{args.decoder}.wav"
        if out.exists() and not args.force:
            continue
        for stale in out.parent.glob(f".{out.name}.*.tmp"):  # left by a decode killed while writing
            stale.unlink()
        jobs.append((f, out))
    skipped = len(files) - len(jobs)
    if args.devices:
        failures, report = decode_on_devices(jobs, args)
        if not report:
            return 0  # another rank's process: rank zero reports for all
    else:
        decoder, failures = load(args), []
        with tqdm(jobs, unit="file", desc="decode", disable=None) as bar:
            for f, out in bar:
                try:
                    check_output(out, [f], True)
                    for line in decode_one(decoder, f, out, args, metrics, bar=False):
                        bar.write(line)
                except USER_ERRORS as exc:
                    failures.append(f"{f}: {' '.join(str(exc).split())}")
    done = len(jobs) - len(failures)
    print(f"{out_dir}: {done} decoded, {skipped} existing skipped, {len(failures)} failed of {len(files)} files")
    for line in failures:
        print(f"failed: {line}", file=sys.stderr)
    return 1 if failures else 0


def decode_on_devices(jobs: list[tuple[Path, Path]], args: argparse.Namespace) -> tuple[list[str], bool]:
    """The jobs over --devices processes per node (Trainer.predict, DDP): every rank decodes its share and the
    failures of all ranks are gathered; returns them and whether this process reports."""
    from dps.codec import check_bitrate
    from dps.prior.registry import resolve_prior
    from dps.sampler.decoder import DecodeSettings
    from dps.sampler.predict import decode_files

    if args.decoder != "dps":
        raise ValueError("--devices: decodes with --decoder dps (the legacy decoder needs no accelerator)")
    settings = DecodeSettings.from_preset(args.preset, **setting_overrides(args))
    accelerator = "cpu" if args.device == "cpu" else "auto"
    ddp = args.devices > 1 or args.num_nodes > 1
    records, report = decode_files(
        jobs,
        str(resolve_prior(args.prior)),
        settings,
        check_bitrate(args.bitrate),
        args.seed,
        args.codec_config,
        accelerator=accelerator,
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy="ddp" if ddp else "auto",
    )
    if report:
        for r in records:
            if "error" not in r:
                print(f"{r['output']}: decoded on rank {r['rank']} ({r['device']}), real-time factor {r['rtf']:.2f}")
    return [f"{r['input']}: {r['error']}" for r in records if "error" in r], report


def run(args: argparse.Namespace) -> int:
    from dps.audio import check_output

    inp = Path(args.input) if args.input else example_clip()
    if not inp.exists():
        raise FileNotFoundError(f"{inp}: no such file or folder")
    metrics = Metrics(visqol=not args.no_metrics)
    if inp.is_dir():
        return decode_folder(inp, args, metrics)
    if args.devices:
        raise ValueError("--devices: decodes a folder; a single file runs on --device")
    decoder = load(args)
    out = Path(args.output) if args.output else Path(f"{inp.stem}.{args.decoder}.wav")
    check_output(out, [inp], args.force or args.input is None)
    for line in decode_one(decoder, inp, out, args, metrics, bar=True):
        print(line)
    return 0
