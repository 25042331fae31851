# Session 23 (issue 5): a vectorizable erfcx and a gradient-only conditioning path, and `network_freeze` (inductor's
# freezing + C++ wrapper for the compiled network). Nothing else running for the timings.
D=${DATA:-$HOME/.cache/dps/data}; R=results/tuning/erfcx_s23
# A/B in one process against session 22's code (c3c542c) as package dps_old:
#   mkdir -p /tmp/s23/oldpkg && git archive c3c542c dps | tar -x -C /tmp/s23/oldpkg && mv /tmp/s23/oldpkg/dps /tmp/s23/oldpkg/dps_old
#   grep -rl 'dps\.' /tmp/s23/oldpkg/dps_old | xargs sed -i -E 's/(from|import) dps(\.| )/\1 dps_old\2/g'
python $R/ab_cond.py                                   # conditioning call: old likelihood_at vs new gradient_at
python $R/ab_step.py 100 10 $R/ab_step_freeze_cpp.json  # 301-step `paper` decodes, old vs new with network_freeze
# (ab_step_freeze.json: the same before the C++ wrapper was added to network_freeze)
# Benches (bench_new_1: before network_freeze existed; bench_freeze_1: freezing without the C++ wrapper)
for i in 1 2; do
  python bench/sampler.py --prior speech_lite --seconds 4 --rounds 3 --repeats 3 --rows \
    "paper, compiled bfloat16 network (frozen) and conditioning" "paper, compiled bfloat16 network and conditioning" \
    "fast, compiled bfloat16 network (frozen) and conditioning" --out $R/bench_freeze_cpp_$i.json > $R/bench_freeze_cpp_$i.txt
done
# The speech prior, one run
python bench/sampler.py --prior speech --seconds 4 --rounds 3 --repeats 1 --rows "paper, compiled bfloat16 network (frozen) and conditioning" \
  "paper, compiled bfloat16 network and conditioning" --out $R/bench_speech_freeze.json > $R/bench_speech_freeze.txt
# Scores: `paper` with speech_lite, frozen, against results/tuning/fft_mdct_s21/tune_lite_paper_6.json
python bench/tune_decode.py --content speech --prior speech_lite --preset paper --n-items 6 --offset 0.5 \
  --grid "network_precision=bfloat16,network_compile=true,conditioning_compile=true,network_freeze=true" \
  --workers 1 --data-root $D --out $R/tune_lite_paper_frozen_6.json
