"""Result tables over content x bitrate x prior x decoder (legacy, DPS, peer codecs), with caching."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dps import __version__
from dps.audio import atomic_path
from dps.codec import decode_legacy, encode, parse
from dps.eval.items import Item
from dps.eval.peers import PEERS, PeerUnavailable, peer_roundtrip
from dps.eval.scoring import Cache, key_of, metric_names, score_pairs
from dps.prior.registry import file_digest

DPS_DECODERS = {"dps-noisy": "noisy_mean", "dps-tweedie": "tweedie"}
DECODERS = ("legacy", *DPS_DECODERS, *PEERS)


@dataclass
class Row:
    content: str
    item: str
    bitrate: float
    decoder: str  # legacy | dps-noisy[prior] | dps-tweedie[prior] | opus | aac | mp3
    actual_kbps: float | None = None
    scores: dict[str, float | None] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why the cell is missing, empty when scored


class TableRunner:
    """Decodes every item with every decoder at every bitrate, scores the results, caches both."""

    def __init__(
        self,
        decoders: list[str],
        priors: list[str],
        preset: str = "fast",
        modes: list[str] | None = None,
        cache: str | Path | None = None,
        workers: int = 2,
        seed: int = 0,
        overrides: dict[str, Any] | None = None,
        device: str = "cpu",
    ) -> None:
        bad = [d for d in decoders if d not in DECODERS]
        if bad:
            raise ValueError(f"--decoders: unknown {bad}, expected some of {list(DECODERS)}")
        self.decoders, self.priors, self.preset = decoders, priors, preset
        self.modes = modes or ["audio"]
        self.cache = Cache(cache)
        self.workers, self.seed = workers, seed
        self.overrides = overrides or {}
        self.device = device  # decoding only; a cached decode is the same bitstream, prior and settings on any device
        if any(d in DPS_DECODERS for d in decoders):
            from dps.sampler import DecodeSettings

            DecodeSettings.from_preset(preset, **self.overrides)  # a bad setting fails here, not in every cell
        self._loaded: dict[tuple[str, str], Any] = {}
        self.audio: dict[tuple[str, float, str], np.ndarray] = {}  # (item, bitrate, decoder) -> decoded

    def _prior_path(self, prior: str, content: str) -> Path:
        from dps.prior.registry import resolve_prior

        return resolve_prior(content if prior == "matched" else prior)

    def _decoder(self, prior_path: Path, conditioning: str) -> Any:
        from dps.prior.export import load_prior
        from dps.sampler import DecodeSettings, PosteriorDecoder

        key = (str(prior_path), conditioning)
        if key not in self._loaded:
            settings = DecodeSettings.from_preset(self.preset, conditioning=conditioning, **self.overrides)
            self._loaded[key] = PosteriorDecoder(load_prior(prior_path, self.device), settings, self.device)
        return self._loaded[key]

    def columns(self, content: str) -> list[tuple[str, str | None, str | None]]:
        """(label, dps conditioning or None, prior spec or None) for one content."""
        cols: list[tuple[str, str | None, str | None]] = []
        for d in self.decoders:
            if d in DPS_DECODERS:
                for p in self.priors:
                    name = content if p == "matched" else Path(p).stem
                    cols.append((f"{d}[{name}]", DPS_DECODERS[d], p))
            else:
                cols.append((d, None, None))
        return cols

    def _decode(self, item: Item, kbps: float, label: str, cond: str | None, prior: str | None) -> Row:
        row = Row(item.content, item.name, kbps, label)
        base = {"item": item.digest, "kbps": kbps, "decoder": label.split("[")[0], "version": __version__}
        try:
            if cond is not None:
                path = self._prior_path(prior or "matched", item.content)
                dec = self._decoder(path, cond)
                key = key_of(**base, prior=file_digest(path), settings=dec.identity(), seed=self.seed)
            else:
                key = key_of(**base, seed=self.seed)
            audio, meta = self.cache.load(key)
            if audio is None or meta is None:
                if cond is not None or label == "legacy":
                    data = encode(item.audio, kbps)
                    m = parse(data)
                    bits = len(data) * 8
                    if cond is not None:
                        audio, stats = dec.decode(m, seed=self.seed)
                        stats.pop("settings", None)
                    else:
                        audio, stats = decode_legacy(m, seed=self.seed), {}
                else:
                    res = peer_roundtrip(label, item.audio, kbps, item.sample_rate)
                    audio, bits, stats = res.audio, res.bits, {"delay": res.delay}
                meta = {"bits": bits, "stats": stats}
                self.cache.save(key, audio, meta)
            row.actual_kbps = meta["bits"] / (item.audio.size / item.sample_rate) / 1000
            row.stats = meta["stats"] | {"key": key}
            self.audio[(item.name, kbps, label)] = np.asarray(audio, dtype=np.float64)
        except PeerUnavailable as exc:
            row.reason = str(exc)
        except (ValueError, RuntimeError, OSError) as exc:  # a missing prior, a failed tool: the cell says why
            row.reason = " ".join(str(exc).split())[:300]
        return row

    def run(self, items: list[Item], bitrates: list[float], progress: bool = True) -> list[Row]:
        from tqdm import tqdm

        jobs = [(it, kb, *col) for it in items for kb in bitrates for col in self.columns(it.content)]
        rows = [self._decode(*j) for j in tqdm(jobs, desc="decode", unit="cell", disable=not progress)]
        self._score(rows, {it.name: it for it in items}, progress)
        return rows

    def _score(self, rows: list[Row], items: dict[str, Item], progress: bool) -> None:
        todo = []
        for r in rows:
            if r.reason:
                continue
            skey = key_of(decoded=r.stats["key"], modes=self.modes, what="scores")
            _, cached = self.cache.load(skey)
            if cached is not None:
                r.scores = cached
            else:
                todo.append((r, skey))
        pairs = [(items[r.item].audio, self.audio[(r.item, r.bitrate, r.decoder)]) for r, _ in todo]
        if progress and todo:
            print(f"scoring {len(todo)} decoded items ({self.workers} processes)", flush=True)
        for (r, skey), s in zip(
            todo, score_pairs(pairs, items[todo[0][0].item].sample_rate if todo else 22050, self.modes, self.workers)
        ):
            if s.get("error"):
                r.reason = s.pop("error")
            r.scores = s
            if not r.reason:
                self.cache.save(skey, None, s)


def ci95(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % Student-t interval."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))


def summarize(rows: list[Row], metric: str) -> list[dict[str, Any]]:
    """One cell per (content, bitrate, decoder): mean, 95 % interval, n, actual kb/s, or the missing reason."""
    cells: dict[tuple[str, float, str], list[Row]] = {}
    for r in rows:
        cells.setdefault((r.content, r.bitrate, r.decoder), []).append(r)
    out = []
    for (content, kb, dec), rs in cells.items():
        ok = [r for r in rs if not r.reason and r.scores.get(metric) is not None]
        cell: dict[str, Any] = {"content": content, "bitrate": kb, "decoder": dec, "n": len(ok), "of": len(rs)}
        if ok:
            mean, half = ci95([r.scores[metric] for r in ok])
            cell |= {"mean": mean, "ci95": half, "actual_kbps": float(np.mean([r.actual_kbps for r in ok]))}
            for extra in ("snr_db", "lsd_db"):
                cell[extra] = float(np.mean([r.scores[extra] for r in ok]))
            for extra in ("nfe", "vjp", "rtf"):
                if extra in ok[0].stats:
                    cell[extra] = float(np.mean([r.stats[extra] for r in ok]))
        reasons = sorted({r.reason for r in rs if r.reason})
        if reasons:
            cell["missing"] = "; ".join(reasons)
        out.append(cell)
    return out


def paired_gains(rows: list[Row], metric: str, reference: str = "legacy") -> list[dict[str, Any]]:
    """Per (content, bitrate, decoder): mean and 95 % t-interval of the per-item difference to the reference."""
    by_cell: dict[tuple[str, float, str], dict[str, float]] = {}
    for r in rows:
        if not r.reason and r.scores.get(metric) is not None:
            by_cell.setdefault((r.content, r.bitrate, r.decoder), {})[r.item] = r.scores[metric]
    out = []
    for (content, kb, dec), scores in by_cell.items():
        ref = by_cell.get((content, kb, reference), {})
        d = [v - ref[item] for item, v in scores.items() if item in ref]
        if dec != reference and d:
            mean, half = ci95(d)
            better, worst = int(sum(x > 0 for x in d)), float(min(d))
            out.append({"content": content, "bitrate": kb, "decoder": dec, "n": len(d), "gain": mean, "ci95": half})
            out[-1] |= {"better": better, "worst": worst}
    return out


def _content_tables(cells: list[dict[str, Any]], title: str, fmt: Any) -> str:
    """Per content a markdown table: rows = bitrate, columns = decoders, fmt(cell or None) in each."""
    lines = []
    for content in dict.fromkeys(c["content"] for c in cells):
        sel = [c for c in cells if c["content"] == content]
        decs = list(dict.fromkeys(c["decoder"] for c in sel))
        lines += [f"### {content} — {title}", ""]
        lines += ["| kb/s | " + " | ".join(decs) + " |", "|---" * (len(decs) + 1) + "|"]
        for kb in sorted({c["bitrate"] for c in sel}):
            row = [fmt(next((x for x in sel if x["bitrate"] == kb and x["decoder"] == d), None)) for d in decs]
            lines.append(f"| {kb:g} | " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def _ci(c: dict[str, Any]) -> str:
    return "" if np.isnan(c["ci95"]) else f" ± {c['ci95']:.3f}"


def markdown(cells: list[dict[str, Any]], metric: str) -> str:
    """Per content: rows = bitrate, columns = decoders; 'mean ± ci (kb/s)' or 'missing: reason'."""

    def fmt(c: dict[str, Any] | None) -> str:
        if c is None:
            return "-"
        if c["n"] == 0:
            return f"missing: {c.get('missing', 'no score')}"
        part = f" ({c['n']}/{c['of']})" if c["n"] < c["of"] else ""
        return f"{c['mean']:.3f}{_ci(c)} ({c['actual_kbps']:.1f}){part}"

    return _content_tables(cells, f"{metric} (mean ± 95 % CI, actual kb/s)", fmt)


def gains_markdown(gains: list[dict[str, Any]], metric: str, reference: str = "legacy") -> str:
    """Per content: rows = bitrate, columns = decoders; 'gain ± ci (better/n, worst)'."""

    def fmt(g: dict[str, Any] | None) -> str:
        return "-" if g is None else f"{g['gain']:+.3f}{_ci(g)} ({g['better']}/{g['n']}, {g['worst']:+.3f})"

    title = f"{metric} minus {reference}, paired per item (mean ± 95 % CI, items better, worst)"
    return _content_tables(gains, title, fmt)


def plot(cells: list[dict[str, Any]], metric: str, path: Path) -> None:
    """ViSQOL vs bitrate, one panel per content, one line per decoder, 95 % intervals as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    contents = list(dict.fromkeys(c["content"] for c in cells))
    colors = {d: f"C{i % 10}" for i, d in enumerate(dict.fromkeys(c["decoder"] for c in cells))}
    fig, axes = plt.subplots(1, len(contents), figsize=(5 * len(contents), 4), squeeze=False)
    for ax, content in zip(axes[0], contents):
        sel = [c for c in cells if c["content"] == content and c["n"] > 0]
        for d in dict.fromkeys(c["decoder"] for c in sel):
            pts = sorted(
                (c["bitrate"], c["mean"], 0 if np.isnan(c["ci95"]) else c["ci95"]) for c in sel if c["decoder"] == d
            )
            ax.errorbar(
                [p[0] for p in pts],
                [p[1] for p in pts],
                yerr=[p[2] for p in pts],
                marker="o",
                label=d,
                capsize=3,
                color=colors[d],
            )
        ax.set(title=content, xlabel="bitrate (kb/s)", ylabel=metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def save_figure(fig: Any, path: Path) -> None:
    """Tight layout, PNG written atomically, figure closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def write_outputs(rows: list[Row], out: Path, modes: list[str], info: dict[str, Any]) -> dict[str, Path]:
    """results.csv (per item), summary.json, table.md and visqol_vs_bitrate.png under out."""
    out.mkdir(parents=True, exist_ok=True)
    metrics = metric_names(modes)
    primary = metrics[0]
    cells = summarize(rows, primary)
    gains = paired_gains(rows, primary)
    paths = {
        "csv": out / "results.csv",
        "json": out / "summary.json",
        "md": out / "table.md",
        "png": out / "visqol_vs_bitrate.png",
    }
    fields = [
        "content",
        "item",
        "bitrate",
        "decoder",
        "actual_kbps",
        *metrics,
        "snr_db",
        "lsd_db",
        "nfe",
        "vjp",
        "rtf",
        "missing",
    ]
    with atomic_path(paths["csv"]) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            rec = {
                "content": r.content,
                "item": r.item,
                "bitrate": r.bitrate,
                "decoder": r.decoder,
                "actual_kbps": None if r.actual_kbps is None else round(r.actual_kbps, 3),
                "missing": r.reason,
            }
            rec |= {k: r.scores.get(k) for k in (*metrics, "snr_db", "lsd_db")}
            rec |= {k: r.stats.get(k) for k in ("nfe", "vjp", "rtf")}
            w.writerow(rec)
    with atomic_path(paths["json"]) as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "info": info,
                    "metric": primary,
                    "cells": cells,
                    "cells_by_metric": {m: summarize(rows, m) for m in metrics},
                    "gains_vs_legacy": gains,
                    "rows": [asdict(r) for r in rows],
                },
                indent=1,
                default=str,
            )
        )
    with atomic_path(paths["md"]) as tmp:
        tmp.write_text(markdown(cells, primary) + ("\n" + gains_markdown(gains, primary) if gains else ""))
    plot(cells, primary, paths["png"])
    return paths
