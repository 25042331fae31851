#!/bin/bash
# Three chunks with one gain for the whole input (chunk_level=input): separates the one-chunk speech gain.
cd /work/main
export OMP_NUM_THREADS=1 WANDB_MODE=offline
D=~/.cache/dps/data
P=.venv/bin/python
O=results/heldout/chunk_level_16
$P -m dps.eval table --content speech --items speech=$D/speech/heldout.jsonl --n-items 40 --priors matched --decoders legacy,dps-noisy --bitrates 16 --listen-items 0 --workers 1 --no-progress --data-root $D --set chunk_seconds=0 --set chunk_level=input --out $O/speech
$P -m dps.eval table --content speech --items speech=$D/speech/heldout.jsonl --n-items 40 --priors matched --decoders legacy,dps-tweedie --bitrates 16 --listen-items 0 --workers 1 --no-progress --data-root $D --set chunk_level=input --out $O/tweedie_speech
