# Session 19: two more loss-weighted fine-tunes on the whole music split (2 threads, ~20 min each), each checkpoint
# exported in float16 and scored on the 18 music tuning files at 16 kb/s, paired against the prior shipped since
# session 19 (tune_shipped_fp16_*.json, from ship.sh).
D=${DATA:-$HOME/.cache/dps/data}; S=${RUNS:-$HOME/.cache/dps/s19}; R=results/tuning/music_hf_weighted
common="data.manifest=$D/music/manifest.jsonl ema.decay=0.998 logger=csv checkpoint.every_n_steps=250 val_samples=0
  data.num_workers=1 loss_weighting.mode=mdct_tilt loss_weighting.gamma=1.0 loss_weighting.max_weight=1000
  trainer.max_steps=1000"
python train.py configs/prior/music.yaml $common init_from=music optim.lr=3e-5 optim.warmup_steps=50 \
  optim.decay_steps=1000 run_dir=$S/music-hfw2                                 # tags hfw2_500, hfw2_1000
python train.py configs/prior/music.yaml $common init_from=speech optim.lr=1e-4 optim.warmup_steps=100 \
  optim.decay_steps=3000 run_dir=$S/music-from-speech-w                        # tags fsw500, fsw1000
for pair in music-hfw2:hfw2_ music-from-speech-w:fsw; do
  for st in 500 1000; do
    run=${pair%%:*}; tag=${pair##*:}$st
    python -m dps.prior export --dtype float16 $S/$run/checkpoints/step-$st.ckpt $S/$tag.safetensors
    for set in "6 0.5" "12 0.25"; do set -- $set
      python bench/tune_decode.py --content music --prior $S/$tag.safetensors --n-items $1 --offset $2 --grid "" \
        --workers 1 --data-root $D --out $R/tune_${tag}_$1.json
    done
  done
done
python $R/paired.py --against shipped_fp16 hfw2_500 hfw2_1000 fsw500 fsw1000
# The piano prior with the same weighting (stopped after step 500: -0.016 against the shipped piano prior, 0/6 better).
python train.py configs/prior/piano.yaml $common init_from=piano data.manifest=$D/piano/manifest.jsonl optim.lr=1e-4 \
  optim.warmup_steps=100 optim.decay_steps=3000 run_dir=$S/piano-w
python -m dps.prior export --dtype float16 $S/piano-w/checkpoints/step-500.ckpt $S/pw500.safetensors
python bench/tune_decode.py --content piano --prior piano --n-items 6 --offset 0.5 --grid "" --workers 1 --data-root $D \
  --out $R/tune_piano_shipped_6.json
python bench/tune_decode.py --content piano --prior $S/pw500.safetensors --n-items 6 --offset 0.5 --grid "" --workers 1 \
  --data-root $D --out $R/tune_pw500_6.json
# Again with the cap at 15 (music's largest weight), 500 steps: -0.005 against the shipped piano prior, 0/6 better.
python train.py configs/prior/piano.yaml $common init_from=piano data.manifest=$D/piano/manifest.jsonl optim.lr=1e-4 \
  optim.warmup_steps=100 optim.decay_steps=3000 loss_weighting.max_weight=15 trainer.max_steps=500 run_dir=$S/piano-w15
python -m dps.prior export --dtype float16 $S/piano-w15/checkpoints/step-500.ckpt $S/pw15_500.safetensors
python bench/tune_decode.py --content piano --prior $S/pw15_500.safetensors --n-items 6 --offset 0.5 --grid "" \
  --workers 1 --data-root $D --out $R/tune_pw15_500_6.json
# Plain-loss control for piano, 500 steps: +0.001 against the shipped piano prior, 5/6 better.
python train.py configs/prior/piano.yaml data.manifest=$D/piano/manifest.jsonl init_from=piano optim.lr=1e-4 \
  optim.warmup_steps=100 optim.decay_steps=3000 ema.decay=0.998 logger=csv checkpoint.every_n_steps=250 val_samples=0 \
  data.num_workers=1 trainer.max_steps=500 run_dir=$S/piano-plain
python -m dps.prior export --dtype float16 $S/piano-plain/checkpoints/step-500.ckpt $S/pplain500.safetensors
python bench/tune_decode.py --content piano --prior $S/pplain500.safetensors --n-items 6 --offset 0.5 --grid "" \
  --workers 2 --data-root $D --out $R/tune_pplain500_6.json
