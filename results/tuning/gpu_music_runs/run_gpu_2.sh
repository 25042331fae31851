# Music priors on one GPU: 4 concurrent runs for MAXMIN minutes, exported EMA weights come back through $OUT.
T0=$(date +%s)
PY=${PY:-python3}
if [ -z "$LOCAL" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
fi
export WANDB_MODE=offline PYTHONUNBUFFERED=1
R=${RUNS:-/tmp/runs}; P=${PACK:-/tmp/pack}; mkdir -p $R $P
$PY -c "import torch, lightning, sys; print(sys.version.split()[0], torch.__version__, lightning.__version__, torch.cuda.is_available())"
ACC=${ACC:-gpu}; PREC=${PREC:-bf16-mixed}; NW=${NW:-6}
COMMON="data.manifest=$PWD/.gpu/music/manifest.jsonl trainer.precision=$PREC trainer.accelerator=$ACC logger=csv checkpoint.every_n_steps=1000 data.num_workers=$NW data.segments_per_epoch=16000 data.val_segments=64 val_samples=0 trainer.enable_progress_bar=false trainer.max_time=00:00:${MAXT:-07:00} trainer.log_every_n_steps=50"
launch() { name=$1; shift; setsid nohup $PY train.py configs/prior/music.yaml run_dir=$R/$name $COMMON "$@" > $R/$name.log 2>&1 < /dev/null & }
launch cont64 init_from=$PWD/.gpu/init/music_scratch64.safetensors data.batch_size=64 optim.lr=3e-4 optim.warmup_steps=100 optim.decay_steps=4000
launch cont128 init_from=$PWD/.gpu/init/music_scratch64.safetensors data.batch_size=128 optim.lr=4e-4 optim.warmup_steps=100 optim.decay_steps=2500
echo launched at $(( $(date +%s) - T0 )) s
sleep 20; for f in $R/*.log; do grep -iE "error|Traceback" $f && tail -20 $f; done
while pgrep -f "train.py configs/prior/music.yaml" > /dev/null; do sleep 10; echo "--- $(( $(date +%s) - T0 )) s"; [ -z "$LOCAL" ] && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader; for d in $R/*/csv; do echo "$d $(tail -n 1 $d/version_0/metrics.csv 2>/dev/null | cut -c1-160)"; done; done
echo trained by $(( $(date +%s) - T0 )) s
for r in cont64 cont128; do $PY -m dps.prior export $R/$r/checkpoints/last.ckpt $P/music_${r}.safetensors --dtype float16; cp $R/$r/csv/version_0/metrics.csv $P/${r}_metrics.csv; cp $R/$r/config.yaml $P/${r}_config.yaml; cp $R/$r/summary.json $P/${r}_summary.json; tail -3 $R/$r.log > $P/${r}_tail.log; grep -iE "error|Trace" $R/$r.log | head -3; done
(cd $(dirname $P) && tar cf pack.tar $(basename $P) && split -b 15M pack.tar ${OUT:-/tmp}/pack.tar.part_) && ls -la $P ${OUT:-/tmp}
echo done at $(( $(date +%s) - T0 )) s
