# 40 held-out speech files at 16 kb/s: `paper_lean` (compiled bfloat16 network, compiled conditioning) against
# legacy; `fast` on the same files is in results/heldout/onechunk_16/ (session 15). One process, 2 threads.
D=${DATA:-$HOME/.cache/dps/data}
python -m dps.eval table --content speech --items speech=$D/speech/heldout.jsonl --n-items 40 --priors matched \
  --decoders legacy,dps-noisy --bitrates 16 --preset paper_lean --set network_precision=bfloat16 \
  --set network_compile=true --set conditioning_compile=true --listen-items 0 --workers 1 --no-progress \
  --data-root $D --out results/heldout/paper_lean_16/speech
