"""Validation manifest without the files any decode setting or checkpoint was tuned on.

Usage: python results/heldout/make_manifest.py DATA CONTENT  ->  DATA/CONTENT/heldout.jsonl
(left out: the files any decode setting was tuned on, listed in tuned_items.json beside this script, and the
result tables' 6 files).
"""

import json
import sys
from pathlib import Path

from dps.data.manifest import read_manifest, write_manifest
from dps.eval.items import items_from

data, content = Path(sys.argv[1]), sys.argv[2]
tuned = set(json.loads((Path(__file__).parent / "tuned_items.json").read_text()).get(content, []))
tuned |= {it.name.split("/", 1)[1] for it in items_from(data / content / "manifest.jsonl", content, n=6)}
entries = [e for e in read_manifest(data / content / "manifest.jsonl") if e.split == "validation"]
kept = [e for e in entries if Path(e.file).stem not in tuned]
write_manifest(data / content / "heldout.jsonl", kept)
print(f"{content}: {len(kept)} of {len(entries)} validation files ({len(tuned)} tuning files left out)")
