# 40 held-out music files at 16 kb/s, `fast`, noisy mean: the music prior against the speech, joint and piano priors
# (session 18). Two processes, one thread each.
D=${DATA:-$HOME/.cache/dps/data}
python -m dps.eval table --content music --items music=$D/music/heldout.jsonl --n-items 40 \
  --priors matched,speech,joint,piano --decoders legacy,dps-noisy --bitrates 16 --listen-items 0 --workers 2 \
  --no-progress --data-root $D --out results/heldout/music_priors_16/music
# The loss-weighted music fine-tune at step 1000 (results/tuning/music_hf_weighted/, exported to RUNS/hfw1000.safetensors)
S=${RUNS:-$HOME/.cache/dps/s18}
python -m dps.eval table --content music --items music=$D/music/heldout.jsonl --n-items 40 \
  --priors $S/hfw1000.safetensors,$S/plain1000.safetensors --decoders legacy,dps-noisy --bitrates 16 --listen-items 0 \
  --workers 2 --no-progress --data-root $D --out results/heldout/music_priors_16/music_finetunes
# Session 19: the shipped (loss-weighted) music prior against the speech prior fine-tuned on music with the weighting
# (results/tuning/music_hf_weighted/session19.sh, step 1000, RUNS=~/.cache/dps/s19); 94 s, two workers.
S=${RUNS:-$HOME/.cache/dps/s19}
python -m dps.eval table --content music --items music=$D/music/heldout.jsonl --n-items 40 \
  --priors matched,$S/fsw_1000.safetensors --decoders legacy,dps-noisy --bitrates 16 --listen-items 0 --workers 2 \
  --no-progress --data-root $D --out results/heldout/music_priors_16/music_s19
