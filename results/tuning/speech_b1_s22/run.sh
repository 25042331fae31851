# Session 22: a cheaper network for the exact `paper` sampler (issue 5). speech_lite's network with one ResBlock per
# level instead of two (network.blocks=1; 1.38 M against 2.09 M parameters). Every tensor of the pruned network
# starts from speech_lite's (init_partial=true loads 133 of 133, the dropped blocks are left out), then trains on this
# CPU (2 threads) with speech_lite's recipe. Each float16 export is decoded on the 18 speech tuning files at 16 kb/s
# with `fast` and paired file by file against the shipped speech prior and speech_lite (tune_shipped_*, tune_lite_*:
# session 20's decodes, copied from ../speech_p8; session 21 checked that the code since decodes them within 1.6e-6).
# A 16-bin patch stem (network.patch_bins=16, 0.66 of speech_lite's compiled forward) was tried first and stopped at
# step 3000: its validation loss stalled at 0.789 (speech_lite's run: 0.676 at step 3000, 0.617 at 6000);
# metrics_p16.csv.
D=${DATA:-$HOME/.cache/dps/data}; S=${RUNS:-$HOME/.cache/dps/s22}; R=results/tuning/speech_b1_s22
python train.py configs/prior/speech.yaml network.patch_bins=16 init_from=speech_lite init_partial=true \
  data.manifest=$D/speech/manifest.jsonl data.source_weights.klettres-data=2 ema.decay=0.998 logger=csv \
  checkpoint.every_n_steps=500 val_samples=0 data.num_workers=1 trainer.enable_progress_bar=false optim.lr=3e-4 \
  optim.warmup_steps=200 optim.decay_steps=7000 trainer.max_steps=7000 run_dir=$S/speech-p16   # stopped at 3000
python train.py configs/prior/speech.yaml network.patch_bins=8 network.blocks=1 init_from=speech_lite init_partial=true \
  data.manifest=$D/speech/manifest.jsonl data.source_weights.klettres-data=2 ema.decay=0.998 logger=csv \
  checkpoint.every_n_steps=500 val_samples=0 data.num_workers=1 trainer.enable_progress_bar=false optim.lr=3e-4 \
  optim.warmup_steps=200 optim.decay_steps=7000 trainer.max_steps=7000 run_dir=$S/speech-p8b1
# Stopped at step 6000 (35.9 min of training; validation loss 0.623 against speech_lite's 0.617 at 6000)
python -m dps.prior export --dtype float16 $S/speech-p8b1/checkpoints/step-6000.ckpt $S/b1_6000.safetensors
for n in 6:0.5 12:0.25; do
  python bench/tune_decode.py --content speech --prior $S/b1_6000.safetensors --n-items ${n%%:*} --offset ${n##*:} \
    --grid "" --workers 1 --data-root $D --out $R/tune_b1_6000_${n%%:*}.json
done
python results/tuning/music_hf_weighted/paired.py --dir $R --against shipped lite b1_6000 > $R/paired.txt
python results/tuning/music_hf_weighted/paired.py --dir $R --against lite b1_6000 >> $R/paired.txt
# `paper` on the 6 files (tune_lite_paper_6.json: speech_lite, session 20, copied from ../speech_p8)
python bench/tune_decode.py --content speech --prior $S/b1_6000.safetensors --preset paper --n-items 6 --offset 0.5 \
  --grid "network_precision=bfloat16,network_compile=true,conditioning_compile=true" --workers 1 --data-root $D \
  --out $R/tune_b1_6000_paper_6.json
# Not shipped: `fast` -0.054 ± 0.014 paired against speech_lite (4/18 better), `paper` +0.084 against +0.124.
# Cost: bench with speech_lite, at the start of the session and after the runs (nothing else running)
for i in 0 1; do
  python bench/sampler.py --prior speech_lite --seconds 4 --rounds 3 --repeats 3 --rows \
    "paper, compiled bfloat16 network and conditioning" "fast, compiled bfloat16 network and conditioning" \
    --out $R/bench_speech_lite_$i.json
done
