# Session 20: a 2x cheaper `tiny` MDCT U-Net for the exact `paper` sampler (issue 5). The shipped speech prior's body
# with a new 8-bin patch stem and head (network.patch_bins=8, init_partial=true: the two new weight tensors start
# fresh, the other 211 from the prior), trained on this CPU (2 threads) on the whole speech split, then each
# float16 export decoded on the 18 speech tuning files at 16 kb/s with `fast` and paired file by file against the
# shipped prior (tune_shipped_*.json, same run). Network cost: 3.2 against 6.5 GFLOP per 4 s; compiled bfloat16
# forward on 4 s 20.9 against 43.7 ms (session 20, side by side).
D=${DATA:-$HOME/.cache/dps/data}; S=${RUNS:-$HOME/.cache/dps/s20}; R=results/tuning/speech_p8
python train.py configs/prior/speech.yaml network.patch_bins=8 init_from=speech init_partial=true \
  data.manifest=$D/speech/manifest.jsonl data.source_weights.klettres-data=2 ema.decay=0.998 logger=csv \
  checkpoint.every_n_steps=500 val_samples=0 data.num_workers=1 trainer.enable_progress_bar=false optim.lr=3e-4 \
  optim.warmup_steps=200 optim.decay_steps=7000 trainer.max_steps=7000 run_dir=$S/speech-p8
for n in 6:0.5 12:0.25; do
  python bench/tune_decode.py --content speech --prior speech --n-items ${n%%:*} --offset ${n##*:} --grid "" \
    --workers 1 --data-root $D --out $R/tune_shipped_${n%%:*}.json
done
for st in 2000 3000 4000 5000 6000; do   # stopped after step 6000 (time); shipped: step 6000
  python -m dps.prior export --dtype float16 $S/speech-p8/checkpoints/step-$st.ckpt $S/p8_$st.safetensors
  for n in 6:0.5 12:0.25; do
    python bench/tune_decode.py --content speech --prior $S/p8_$st.safetensors --n-items ${n%%:*} --offset ${n##*:} \
      --grid "" --workers 1 --data-root $D --out $R/tune_p8_${st}_${n%%:*}.json
  done
done
python results/tuning/music_hf_weighted/paired.py --dir $R --against shipped p8_2000 p8_3000 p8_4000 p8_5000 p8_6000 > $R/paired.txt
cp $S/p8_6000.safetensors dps/assets/priors/speech_lite.safetensors
for p in speech_lite speech; do   # nothing else running
  python bench/sampler.py --prior $p --seconds 4 --rounds 3 --rows "paper, compiled bfloat16 network and conditioning" \
    "fast, compiled bfloat16 network and conditioning" --out $R/bench_sampler_$p.json
done
python bench/tune_decode.py --content speech --prior speech_lite --preset paper --n-items 6 --offset 0.5 \
  --grid "network_precision=bfloat16,network_compile=true,conditioning_compile=true" --workers 1 --data-root $D \
  --out $R/tune_lite_paper_6.json
