# Session 20: the 40 held-out speech files at 16 kb/s, `fast`, noisy mean: the speech prior against speech_lite
# (results/tuning/speech_p8/run.sh); 57 s, two workers (the speech prior's cells from the eval cache).
D=${DATA:-$HOME/.cache/dps/data}
python -m dps.eval table --content speech --items speech=$D/speech/heldout.jsonl --n-items 40 --priors matched,speech_lite \
  --decoders legacy,dps-noisy --bitrates 16 --listen-items 0 --workers 2 --no-progress --data-root $D \
  --out results/heldout/speech_lite_16/speech
