#!/bin/bash
# Fine-tune the shipped music prior on 4 s segments of the whole music split (one-chunk decoding sees 4 s).
cd /work/main
export WANDB_MODE=offline
.venv/bin/python train.py configs/prior/music.yaml init_from=music \
  data.manifest=/root/.cache/dps/data/music/manifest.jsonl data.segment_seconds=3.993832 data.batch_size=8 \
  data.val_batch_size=8 data.val_segments=32 data.num_workers=1 val_samples=0 \
  optim.lr=1e-4 optim.warmup_steps=100 optim.decay_steps=4000 logger=csv \
  run_dir=/root/.cache/dps/s16/music4s checkpoint.every_n_steps=250 trainer.max_time=00:01:00:00 \
  trainer.enable_progress_bar=false "$@"
