# decode.py on a GPU: the example clip with each preset and conditioning, then a folder through Trainer.predict.
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpuD/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/.gpuD/site:$PWD WANDB_MODE=offline PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
D="python3 decode.py --device cuda --force"
$D --output $OUT/fast.wav 2>&1 | grep -v Warn
$D --conditioning tweedie --output $OUT/fast_tw.wav 2>&1 | grep -v Warn
$D --preset paper --no-metrics --output $OUT/paper.wav 2>&1 | grep -v Warn
$D --preset paper --no-metrics --set network_precision=bfloat16 --output $OUT/paper_bf16.wav 2>&1 | grep -v Warn
$D --device cpu --no-metrics --output $OUT/fast_cpu.wav 2>&1 | grep -v Warn
mkdir -p /tmp/f && for i in 1 2 3; do cp dps/assets/example_speech.flac /tmp/f/clip$i.flac; done
python3 - <<'PY' 2>&1 | grep -v Warn
import time
from pathlib import Path
from dps.prior.registry import resolve_prior
from dps.sampler.predict import decode_files
t = time.perf_counter()
rows = decode_files(sorted(Path("/tmp/f").glob("*.flac")), str(resolve_prior("speech")), "/tmp/fo", accelerator="gpu", devices=1)
print(f"Trainer.predict on gpu: {len(rows)} files in {time.perf_counter() - t:.1f} s;", [(Path(r.get('output', '?')).name, r.get('device'), round(r.get('rtf', -1), 3)) for r in rows])
PY
python3 - <<'PY'
import os, numpy as np, soundfile as sf
a, _ = sf.read(os.environ["OUT"] + "/fast.wav"); b, _ = sf.read(os.environ["OUT"] + "/fast_cpu.wav")
print("fast cuda vs cpu: max abs diff %.2e, relative rms diff %.4f" % (np.abs(a - b).max(), np.sqrt(np.mean((a - b) ** 2) / np.mean(b ** 2))))
PY
echo done at $(( $(date +%s) - T0 )) s
