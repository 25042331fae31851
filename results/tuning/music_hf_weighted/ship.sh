# Session 19: ship step 1000 of the loss-weighted run as the music prior (float16, as the other shipped priors),
# check that the float16 file scores as the float32 one on the 18 tuning files, then decode every music-prior
# cell of the result tables again (every other cell comes from the eval cache, keyed by the prior's digest).
# Two processes, one thread each; times from session 19.
D=${DATA:-$HOME/.cache/dps/data}; S=${RUNS:-$HOME/.cache/dps/s18}
python -m dps.prior export --dtype float16 $S/music-hfw/checkpoints/step-1000.ckpt dps/assets/priors/music.safetensors
python bench/tune_decode.py --content music --prior music --n-items 6 --offset 0.5 --grid "" --workers 1 --data-root $D \
  --out results/tuning/music_hf_weighted/tune_shipped_fp16_6.json     # +0.000 (float32: +0.000)
python bench/tune_decode.py --content music --prior music --n-items 12 --offset 0.25 --grid "" --workers 1 --data-root $D \
  --out results/tuning/music_hf_weighted/tune_shipped_fp16_12.json    # +0.015 (float32: +0.015)
python -m dps.eval table --content speech --priors matched,music --data-root $D --out results/speech --workers 1 --no-progress  # 5.4 min
python -m dps.eval table --content piano --priors matched,music --data-root $D --out results/piano --workers 1 --no-progress    # 5.9 min
python -m dps.eval table --content music --priors matched --data-root $D --out results/music --workers 1 --no-progress          # 5.8 min
python -m dps.eval table --content speech,piano,music --priors speech,joint,music --decoders legacy,dps-noisy --bitrates 16 \
  --data-root $D --out results/model_test --workers 1 --no-progress                                                            # 22 s
python -m dps.eval table --content music --items music=$D/music/heldout.jsonl --n-items 40 --priors matched \
  --decoders legacy,dps-noisy --bitrates 8,16,32 --listen-items 0 --workers 1 --no-progress --data-root $D \
  --out results/heldout/s15/music                                                                                              # 5.2 min
python -m dps.eval table --content music --items music=$D/music/heldout.jsonl --n-items 40 --priors matched \
  --decoders legacy,dps-noisy,dps-tweedie --bitrates 16 --listen-items 0 --workers 1 --no-progress --data-root $D \
  --out results/heldout/tweedie_16/music                                                                                       # 8.5 min
