"""A self-contained MUSHRA-style listening page: hidden reference, 3.5 kHz anchor, shuffled conditions, CSV export."""

from __future__ import annotations

import base64
import html
import io
import random
from pathlib import Path

import numpy as np
import soundfile as sf

from dps.audio import atomic_path
from dps.eval.items import Item
from dps.prior.samples import png_bytes, spectrogram_image

ANCHOR_HZ = 3500.0


def lowpass_anchor(x: np.ndarray, sample_rate: int, cutoff: float = ANCHOR_HZ) -> np.ndarray:
    """MUSHRA's low-pass anchor: zero-phase 8th-order Butterworth at 3.5 kHz."""
    from scipy.signal import butter, sosfiltfilt

    return sosfiltfilt(butter(8, cutoff, fs=sample_rate, output="sos"), x)


def _audio_uri(x: np.ndarray, sample_rate: int) -> str:
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1, 1), sample_rate, format="FLAC", subtype="PCM_16")
    return "data:audio/flac;base64," + base64.b64encode(buf.getvalue()).decode()


def _png_uri(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()


SCRIPT = """
function exportCSV() {
  const rater = document.getElementById('rater').value.replace(/[,\\n]/g, ' ');
  const lines = ['rater,item,condition,rating'];
  document.querySelectorAll('input.rating').forEach(r => {
    if (r.dataset.rated === '1') lines.push([rater, r.dataset.item, atob(r.dataset.c), r.value].join(','));
  });
  const text = lines.join('\\n') + '\\n';
  document.getElementById('csv').value = text;
  const a = document.getElementById('download');
  a.href = URL.createObjectURL(new Blob([text], {type: 'text/csv'}));
  a.style.display = 'inline';
  return text;
}
document.querySelectorAll('input.rating').forEach(r => r.addEventListener('input', () => {
  r.dataset.rated = '1';
  r.nextElementSibling.textContent = r.value;
}));
"""

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}
td,th{padding:4px 8px;border-bottom:1px solid #ddd}input.rating{width:260px}img{height:90px}"""


def write_listening_page(
    path: str | Path,
    items: list[Item],
    decoded: dict[str, dict[str, np.ndarray]],
    scores: dict[str, dict[str, float]],
    title: str,
    seed: int = 0,
) -> Path:
    """decoded[item][condition] -> audio; scores[item][condition] -> ViSQOL, shown only under 'reveal'."""
    rng = random.Random(seed)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        "<p>Rate each condition against the reference (0 bad – 100 excellent). Conditions are shuffled and "
        "include a hidden reference and a 3.5 kHz low-pass anchor. Then export your ratings as CSV.</p>",
        "<p>Rater: <input id='rater' value='anonymous'></p>",
    ]
    for it in items:
        conds = dict(decoded.get(it.name, {}))
        conds["hidden_reference"] = it.audio
        conds["anchor_lp3500"] = lowpass_anchor(it.audio, it.sample_rate)
        order = list(conds)
        rng.shuffle(order)
        parts.append(
            f"<h2>{html.escape(it.name)}</h2><p>Reference: <audio controls preload='metadata' "
            f"src='{_audio_uri(it.audio, it.sample_rate)}'></audio></p><table>"
        )
        for k, name in enumerate(order):
            label = chr(ord("A") + k)
            c = base64.b64encode(name.encode()).decode()
            parts.append(
                f"<tr><td>{label}</td><td><audio controls preload='metadata' "
                f"src='{_audio_uri(conds[name], it.sample_rate)}'></audio></td><td><input type='range' "
                f"class='rating' min='0' max='100' value='50' data-item='{html.escape(it.name)}' data-c='{c}'>"
                "<span>–</span></td></tr>"
            )
        parts.append("</table><details><summary>reveal conditions, scores and spectrograms</summary><table>")
        for k, name in enumerate(order):
            s = scores.get(it.name, {}).get(name)
            score = "" if s is None else f"{s:.3f}"
            parts.append(
                f"<tr><td>{chr(ord('A') + k)}</td><td>{html.escape(name)}</td><td>{score}</td>"
                f"<td><img alt='{html.escape(name)} spectrogram' "
                f"src='{_png_uri(spectrogram_image(conds[name]))}'></td></tr>"
            )
        parts.append("</table></details>")
    parts.append(
        "<p><button id='export' onclick='exportCSV()'>Export ratings (CSV)</button> "
        "<a id='download' download='ratings.csv' style='display:none'>download ratings.csv</a></p>"
        "<textarea id='csv' rows='8' cols='80' readonly></textarea>"
    )
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text("".join(parts))
    return Path(path)
