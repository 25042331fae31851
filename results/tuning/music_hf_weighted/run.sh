# Session 18: the shipped music prior fine-tuned on this CPU (2 threads) with the loss weighted per MDCT bin
# (loss_weighting.mode=mdct_tilt), and a control with the plain loss; each checkpoint scored on the 18 music tuning
# files at 16 kb/s with `fast`, paired against the shipped prior on the same files (paired.py).
D=${DATA:-$HOME/.cache/dps/data}; S=${RUNS:-$HOME/.cache/dps/s18}
common="init_from=music data.manifest=$D/music/manifest.jsonl optim.lr=1e-4 optim.warmup_steps=100 optim.decay_steps=3000
  ema.decay=0.998 logger=csv checkpoint.every_n_steps=250 val_samples=0 data.num_workers=1"
python train.py configs/prior/music.yaml $common run_dir=$S/music-hfw loss_weighting.mode=mdct_tilt \
  loss_weighting.gamma=1.0 loss_weighting.max_weight=1000 trainer.max_time=00:01:00:00   # stopped after step 2000
python train.py configs/prior/music.yaml $common run_dir=$S/music-plain trainer.max_steps=1000
for ck in music-hfw/checkpoints/step-500 music-hfw/checkpoints/step-1000 music-hfw/checkpoints/step-1500 music-hfw/checkpoints/step-2000 \
    music-plain/checkpoints/step-500 music-plain/checkpoints/step-1000; do
  tag=$(echo $ck | sed 's#music-\(.*\)/checkpoints/step-#\1#')
  python -m dps.prior export $S/$ck.ckpt $S/$tag.safetensors
  python bench/tune_decode.py --content music --prior $S/$tag.safetensors --n-items 6 --offset 0.5 --grid "" \
    --workers 1 --data-root $D --out results/tuning/music_hf_weighted/tune_${tag}_6.json
  python bench/tune_decode.py --content music --prior $S/$tag.safetensors --n-items 12 --offset 0.25 --grid "" \
    --workers 1 --data-root $D --out results/tuning/music_hf_weighted/tune_${tag}_12.json
done
python results/tuning/music_hf_weighted/paired.py hfw500 hfw1000 hfw1500 hfw2000 plain500 plain1000
