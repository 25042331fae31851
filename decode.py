"""Decode a .dps bitstream, or encode-then-decode audio, with posterior sampling or the legacy decoder.

python decode.py [INPUT] [--prior NAME|PATH] [--bitrate 16] [--decoder dps|legacy]
                 [--conditioning noisy_mean|tweedie] [--preset fast|paper|paper_lean] [--set KEY=VALUE]
                 [--output OUT] [--seed N] [--device auto|cpu|cuda[:N]]
INPUT is a .dps file, an audio file (encoded at --bitrate first) or a folder (every such file in it).
With no INPUT it decodes the shipped example clip with the shipped speech prior and prints
legacy vs DPS ViSQOL.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

from dps.audio import AudioError, check_output, load_audio, save_audio
from dps.cli_common import USER_ERRORS, one_line_errors, resolve_device
from dps.codec import check_bitrate, decode_legacy, encode, load_codec_params, parse
from dps.eval.metrics import snr_db

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}


def example_clip() -> Path:
    return Path(str(resources.files("dps") / "assets" / "example_speech.flac"))


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, disable=not sys.stderr.isatty())


class Job:
    """Decode one input; keeps the prior loaded across a folder."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.decoder = None
        device = resolve_device(args.device)  # checked for the legacy decoder too, which always runs on the CPU
        if args.decoder == "dps":
            from dps.prior.export import load_prior
            from dps.prior.registry import resolve_prior
            from dps.sampler import DecodeSettings, PosteriorDecoder
            from dps.sampler.decoder import dotlist_overrides

            given = {"conditioning": args.conditioning} if args.conditioning else {}
            overrides = {**given, **dotlist_overrides(args.set)}
            settings = DecodeSettings.from_preset(args.preset, **overrides)
            self.decoder = PosteriorDecoder(load_prior(resolve_prior(args.prior), device), settings, device)
        self._visqol = None

    def visqol(self):
        if self._visqol is None:
            from dps.eval.visqol import Visqol

            self._visqol = Visqol("audio")
        return self._visqol

    def run(self, inp: Path, out: Path) -> None:
        a = self.args
        t0 = time.perf_counter()
        reference = None
        if inp.suffix == ".dps":
            if not inp.is_file():
                raise FileNotFoundError(f"{inp}: no such file")
            data = inp.read_bytes()
        else:
            kbps = check_bitrate(a.bitrate)
            params = load_codec_params(a.codec_config)
            reference = load_audio(inp, params.sample_rate, quiet=False).audio
            data = encode(reference, kbps, params)
        m = parse(data)
        rate = len(data) * 8 / m.duration_s / 1000
        stats: dict = {}
        if self.decoder is not None:
            st = self.decoder.settings
            with _progress(st.levels * st.steps_per_level, f"{inp.name}") as bar:
                decoded, stats = self.decoder.decode(m, seed=a.seed, progress=bar.update)
        else:
            decoded = decode_legacy(m, seed=a.seed)
        save_audio(out, decoded, m.sample_rate)
        wall = time.perf_counter() - t0
        where = f" on {self.decoder.device}" if self.decoder is not None else ""
        line = f"{out}: {m.duration_s:.2f} s decoded by {a.decoder}{where} from {rate:.2f} kb/s in {wall:.2f} s"
        if stats:
            line += (
                f" (network evaluations {stats['nfe']}, vector-Jacobian products {stats['vjp']}, "
                f"real-time factor {stats['rtf']:.2f}, "
                f"{100 * stats['inside']:.2f} % of coefficients in their intervals)"
            )
        print(line)
        if reference is not None:
            parts = [f"SNR {snr_db(reference, decoded):.2f} dB"]
            if not a.no_metrics:
                vis = self.visqol()
                parts.append(f"ViSQOL audio {vis(reference, np.asarray(decoded), m.sample_rate):.3f}")
                if a.decoder != "legacy":
                    legacy = decode_legacy(m, seed=a.seed)
                    parts.append(f"legacy ViSQOL audio {vis(reference, legacy, m.sample_rate):.3f}")
            print(f"{a.decoder}: " + ", ".join(parts))


def _inputs(inp: Path) -> list[Path]:
    if inp.is_dir():
        files = sorted(
            p for p in inp.iterdir() if p.is_file() and (p.suffix.lower() in AUDIO_SUFFIXES or p.suffix == ".dps")
        )
        if not files:
            raise AudioError(f"{inp}: folder holds no .dps or audio files")
        return files
    return [inp]


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=None, help=".dps stream, audio file or folder (default: shipped clip)")
    from dps.prior.registry import shipped_priors

    shipped = shipped_priors()
    ap.add_argument(
        "--prior", default="speech", help=f"shipped prior ({', '.join(shipped) or 'none'}) or exported .safetensors"
    )
    ap.add_argument("--bitrate", default="16", help="kb/s in [8, 48] when INPUT is audio (default 16)")
    ap.add_argument("--decoder", default="dps", choices=("dps", "legacy"))
    ap.add_argument("--conditioning", default=None, choices=("noisy_mean", "tweedie"))
    presets = sorted(p.stem for p in (Path(__file__).resolve().parent / "configs" / "decode").glob("*.yaml"))
    ap.add_argument("--preset", default="fast", help=f"preset ({', '.join(presets)}) or a YAML path (default fast)")
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a preset's setting (repeatable)"
    )
    ap.add_argument("--output", default=None, help="output file (or folder for a folder input)")
    ap.add_argument("--codec-config", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto", help="auto (a CUDA GPU when present), cpu, cuda or cuda:N")
    ap.add_argument("--force", action="store_true", help="overwrite existing outputs")
    ap.add_argument("--no-metrics", action="store_true", help="skip ViSQOL when a reference is known")
    args = ap.parse_args(argv)
    inp = Path(args.input) if args.input else example_clip()
    if not inp.exists():
        raise FileNotFoundError(f"{inp}: no such file or folder")
    job = Job(args)
    if inp.is_dir():
        out_dir = Path(args.output) if args.output else Path(f"{inp.name}.{args.decoder}")
        out_dir.mkdir(parents=True, exist_ok=True)
        failures = []
        for f in _inputs(inp):
            try:
                out = check_output(out_dir / f"{f.stem}.{args.decoder}.wav", [f], args.force)
                job.run(f, out)
            except USER_ERRORS as exc:
                failures.append(f"{f}: {' '.join(str(exc).split())}")
        for line in failures:
            print(f"failed: {line}", file=sys.stderr)
        return 1 if failures else 0
    out = Path(args.output) if args.output else Path(f"{inp.stem}.{args.decoder}.wav")
    check_output(out, [inp], args.force or args.input is None)
    job.run(inp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
