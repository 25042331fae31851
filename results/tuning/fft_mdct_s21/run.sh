# Session 21: the MDCT by FFT (DCT-IV via an N/2-point complex FFT) instead of a basis matmul, the conditioning's
# transforms eager around its compiled element-wise terms, a one-chunk path in ChunkedScore and an in-place
# Langevin update (issue 5). The same decodes as session 20's (results/tuning/speech_p8/), re-run with the new code,
# to check the scores move only by rounding; then the bench, alternated with the previous commit (7248c90).
D=${DATA:-$HOME/.cache/dps/data}; R=results/tuning/fft_mdct_s21
for n in 6:0.5 12:0.25; do
  python bench/tune_decode.py --content speech --prior speech --n-items ${n%%:*} --offset ${n##*:} --grid "" \
    --workers 1 --data-root $D --out $R/tune_shipped_${n%%:*}.json
done
python bench/tune_decode.py --content speech --prior speech_lite --preset paper --n-items 6 --offset 0.5 \
  --grid "network_precision=bfloat16,network_compile=true,conditioning_compile=true" --workers 1 --data-root $D \
  --out $R/tune_lite_paper_6.json
# Bench, nothing else running, alternating this commit and session 20's (7248c90 checked out at /tmp/head, the same
# bench script run against it through PYTHONPATH): paper rows are the median of 3 timed decodes after the compiling one.
for i in 1 2; do
  python bench/sampler.py --prior speech_lite --seconds 4 --rounds 3 --repeats 3 --rows \
    "paper, compiled bfloat16 network and conditioning" "fast, compiled bfloat16 network and conditioning" \
    --out $R/bench_new_$i.json > $R/bench_new_$i.txt
  PYTHONPATH=/tmp/head python bench/sampler.py --prior speech_lite --seconds 4 --rounds 3 --repeats 3 --rows \
    "paper, compiled bfloat16 network and conditioning" "fast, compiled bfloat16 network and conditioning" \
    --out $R/bench_s20_$i.json > $R/bench_s20_$i.txt
done
# The same comparison in one process (a slow or fast spell of this shared machine hits both alike), 301 steps a decode,
# 12 interleaved rounds, with the FiLM change in the tree (bench_final: this tree once more, FiLM included):
python results/tuning/fft_mdct_s21/ab_inprocess.py 100 12 $R/ab_inprocess.json
python bench/sampler.py --prior speech_lite --seconds 4 --rounds 3 --repeats 3 --rows \
  "paper, compiled bfloat16 network and conditioning" "fast, compiled bfloat16 network and conditioning" \
  --out $R/bench_final.json > $R/bench_final.txt
# After the in-place fold in mdct/imdct (the committed code): the same two measurements once more.
python results/tuning/fft_mdct_s21/ab_inprocess.py 100 12 $R/ab_inprocess_fold.json
python bench/sampler.py --prior speech_lite --seconds 4 --rounds 3 --repeats 3 --rows \
  "paper, compiled bfloat16 network and conditioning" "fast, compiled bfloat16 network and conditioning" \
  --out $R/bench_final_fold.json > $R/bench_final_fold.txt
