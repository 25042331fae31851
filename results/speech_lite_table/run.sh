# Session 22: the speech result table's 6 files x 5 bitrates, `fast`, noisy mean: the speech prior against speech_lite
# (the speech prior's cells equal results/speech/table.md's to the last digit); 2.6 min, two workers.
D=${DATA:-$HOME/.cache/dps/data}
python -m dps.eval table --content speech --priors matched,speech_lite --decoders legacy,dps-noisy \
  --bitrates 8,16,24,32,48 --listen-items 0 --workers 2 --no-progress --data-root $D \
  --out results/speech_lite_table/speech
