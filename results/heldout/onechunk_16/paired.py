"""Paired per-file ViSQOL gains at 16 kb/s of two table runs on the same items.

python results/heldout/onechunk_16/paired.py NEW/results.csv OLD/results.csv [dps-noisy|dps-tweedie]
"""

import csv
import sys

from dps.eval.table import ci95


def load(path: str) -> dict[tuple[str, str], float]:
    out = {}
    for row in csv.DictReader(open(path)):
        if float(row["bitrate"]) == 16:
            out[(row["item"], row["decoder"].replace("[" + row["content"] + "]", ""))] = float(row["visqol_audio_48k"])
    return out


new, old = load(sys.argv[1]), load(sys.argv[2])
dec = sys.argv[3] if len(sys.argv) > 3 else "dps-noisy"
items = sorted({i for i, _ in new})
gain_new = [new[(i, dec)] - new[(i, "legacy")] for i in items]
gain_old = [old[(i, dec)] - old[(i, "legacy")] for i in items]
diff = [a - b for a, b in zip(gain_new, gain_old)]
mean, half = ci95(diff)  # the tables' paired t-interval
print(
    f"{len(items)} items: gain {ci95(gain_new)[0]:+.3f} (new) vs {ci95(gain_old)[0]:+.3f} (old), paired difference "
    f"{mean:+.3f} +- {half:.3f}, new better on {sum(d > 0 for d in diff)}"
)
