# Priors on one GPU, several runs side by side for MAXT (MM:SS); exported EMA weights come back through $OUT.
# SET=1: the four 6-min music runs (MAXT=06:00 NW=3); SET=2: the two 2:40 continuations of scratch64 (MAXT=02:40 NW=6);
# SET=speech: three speech runs (MAXT=07:00 NW=4); SET=speech2: two low-lr continuations of the shipped
# speech prior, which by then was cont64 (MAXT=03:20 NW=6). SET=kl_stage then SET=speechkl: Czech + KLettres, which
# do not fit one transfer: the first call converts .gpu/kl + .gpu/kl_val, the second (on the still-warm machine)
# adds .gpu/speech + .gpu/speech_val and trains three continuations of the shipped prior (MAXT=07:30 NW=4).
# SET=music2_stage then SET=music2 (session 8): a second excerpt set (.gpu/music2: 3 x 3.4 s per training track at
# other offsets, audio/train2/) staged by the first call; the second adds .gpu/music and continues the shipped music
# prior on both (MAXT=07:30 NW=4).
# SET=base_stage then SET=speechbase (session 14): the same speech data (KLettres re-encoded, files >= 1.49 s only) in
# two transfers, .gpuA (STAGED=.gpuA: KLettres + part of the Czech levels) then .gpuB (the other levels); the second
# trains larger speech networks from scratch (size=base, and tiny with wider channels) side by side (MAXT=07:30 NW=4;
# two base exports would not fit the 64 MiB that comes back). base64 then went on alone on the warm machine:
# python3 train.py /tmp/runs/base64/config.yaml run_dir=/tmp/runs/base64 trainer.max_time=00:00:10:00 (max_time
# counts the whole run, so it must exceed the 7.7 min already spent), exported as in this script.
# SET=speechcont (session 15, not yet run on a GPU): after SET=base_stage STAGED=.gpuA, continue a carried export
# INIT (a path in the repository copy, e.g. .gpuB/init/speech_wide64.safetensors, 15 MB) on the whole speech split:
# STAGED=.gpuB INIT=... ARCH='network.channels=[48,96,128,192]' NAME=wide64c MAXT=09:00 NW=4.
# Expects .gpu/whl (wheels the GPU image lacks), .gpu/site (omegaconf), .gpu/init, and the data: .gpu/music
# (gpu_music_runs/make_excerpts.py) or .gpu/speech + .gpu/speech_val (gpu_speech_runs/prep_speech.py stage).
T0=$(date +%s)
PY=${PY:-python3}
G=${STAGED:-.gpu}
if [ "$SET" = music2_stage ]; then
  mkdir -p /tmp/data/music && cp -r .gpu/music2/audio /tmp/data/music/ && cp .gpu/music2/manifest.jsonl /tmp/data/music/m2.jsonl
  echo staged $(wc -l < /tmp/data/music/m2.jsonl) excerpts at $(( $(date +%s) - T0 )) s; exit 0
fi
if [ -z "$LOCAL" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $G/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
fi
export WANDB_MODE=offline PYTHONUNBUFFERED=1
R=${RUNS:-/tmp/runs}; P=${PACK:-/tmp/pack}; mkdir -p $R $P
CONTENT=music; MANIFEST=$PWD/.gpu/music/manifest.jsonl
case "${SET:-1}" in music2)
  MANIFEST=/tmp/data/music/manifest.jsonl
  [ -f /tmp/data/music/m2.jsonl ] || { echo "no staged excerpts: the machine went cold"; exit 3; }
  cp -r .gpu/music/audio /tmp/data/music/ && cat .gpu/music/manifest.jsonl /tmp/data/music/m2.jsonl > $MANIFEST
  echo manifest $(wc -l < $MANIFEST) entries;;
speech*|kl*|base_stage)
  CONTENT=speech; MANIFEST=${SPEECH_DATA:-/tmp/data/speech}/manifest.jsonl
  $PY results/tuning/gpu_speech_runs/prep_speech.py build $G $(dirname $MANIFEST) || exit 1  # adds what is new
  [ "$SET" = kl_stage ] || [ "$SET" = base_stage ] && { echo staged at $(( $(date +%s) - T0 )) s; exit 0; }
  { [ "$SET" = speechbase ] || [ "$SET" = speechcont ]; } && ! grep -q klettres-data $MANIFEST && echo "no KLettres in $MANIFEST: the machine went cold; training on what is here"
  [ "$SET" = speechkl ] && ! grep -q klettres-data $MANIFEST && { echo "no KLettres in $MANIFEST: the machine went cold"; exit 3; }
esac
$PY -c "import torch, lightning, sys; print(sys.version.split()[0], torch.__version__, lightning.__version__, torch.cuda.is_available())"
ACC=${ACC:-gpu}; PREC=${PREC:-bf16-mixed}; NW=${NW:-3}
COMMON="data.manifest=$MANIFEST trainer.precision=$PREC trainer.accelerator=$ACC logger=csv checkpoint.every_n_steps=1000 data.num_workers=$NW data.segments_per_epoch=16000 data.val_segments=64 val_samples=0 trainer.enable_progress_bar=false trainer.max_time=00:00:${MAXT:-06:00} trainer.log_every_n_steps=50"
NAMES=""
launch() { name=$1; shift; NAMES="$NAMES $name"; setsid nohup $PY train.py configs/prior/$CONTENT.yaml run_dir=$R/$name $COMMON "$@" > $R/$name.log 2>&1 < /dev/null & }
if [ "${SET:-1}" = speech ]; then
  launch cont64 init_from=speech data.batch_size=64 optim.lr=3e-4 optim.warmup_steps=100 optim.decay_steps=4000
  launch cont128 init_from=speech data.batch_size=128 optim.lr=4e-4 optim.warmup_steps=100 optim.decay_steps=2500
  launch scratch64 data.batch_size=64 optim.lr=5e-4 optim.warmup_steps=300 optim.decay_steps=5000
elif [ "${SET:-1}" = speech2 ]; then
  launch polish64 init_from=speech data.batch_size=64 optim.lr=1e-4 optim.warmup_steps=50 optim.decay_steps=2000
  launch polish128 init_from=speech data.batch_size=128 optim.lr=1e-4 optim.warmup_steps=50 optim.decay_steps=1200
elif [ "${SET:-1}" = speechkl ]; then
  KL=data.source_weights.klettres-data
  launch kl64 init_from=speech data.batch_size=64 optim.lr=3e-4 optim.warmup_steps=100 optim.decay_steps=4000
  launch kl64w3 init_from=speech data.batch_size=64 optim.lr=3e-4 optim.warmup_steps=100 optim.decay_steps=4000 $KL=3
  launch kl128w2 init_from=speech data.batch_size=128 optim.lr=4e-4 optim.warmup_steps=100 optim.decay_steps=2500 $KL=2
elif [ "${SET:-1}" = speechbase ]; then
  KL=data.source_weights.klettres-data=2
  launch base64 size=base data.batch_size=64 optim.lr=4e-4 optim.warmup_steps=300 optim.decay_steps=2500 ema.decay=0.998 $KL
  launch wide64 'network.channels=[48,96,128,192]' data.batch_size=64 optim.lr=5e-4 optim.warmup_steps=300 optim.decay_steps=4000 ema.decay=0.998 $KL
  launch wide128 'network.channels=[48,96,128,192]' data.batch_size=128 optim.lr=6e-4 optim.warmup_steps=300 optim.decay_steps=2500 ema.decay=0.998 $KL
elif [ "${SET:-1}" = speechcont ]; then
  # Continue a carried export (fp16 weights: a fresh optimizer, a short warm-up) on the whole speech split; ARCH
  # repeats the export's network overrides, e.g. ARCH='network.channels=[48,96,128,192]' for wide64 or size=base.
  launch ${NAME:-cont} init_from=$PWD/$INIT $ARCH data.batch_size=64 optim.lr=${LR:-3e-4} optim.warmup_steps=100 optim.decay_steps=${DECAY:-4000} ema.decay=0.998 $(grep -q klettres-data $MANIFEST && echo data.source_weights.klettres-data=2)
elif [ "${SET:-1}" = music2 ]; then
  launch m2c64 init_from=music data.batch_size=64 optim.lr=3e-4 optim.warmup_steps=100 optim.decay_steps=4000
  launch m2c128 init_from=music data.batch_size=128 optim.lr=4e-4 optim.warmup_steps=100 optim.decay_steps=2500
  launch m2c128slow init_from=music data.batch_size=128 optim.lr=2e-4 optim.warmup_steps=100 optim.decay_steps=3000
elif [ "${SET:-1}" = 1 ]; then
  launch ft64 init_from=music data.batch_size=64 optim.lr=3e-4 optim.warmup_steps=200 optim.decay_steps=5000
  launch ft128 init_from=music data.batch_size=128 optim.lr=4e-4 optim.warmup_steps=200 optim.decay_steps=3000
  launch ft64slow init_from=music data.batch_size=64 optim.lr=1e-4 optim.warmup_steps=200 optim.decay_steps=5000 ema.decay=0.9995
  launch scratch64 data.batch_size=64 optim.lr=5e-4 optim.warmup_steps=300 optim.decay_steps=6000
else
  INIT=$PWD/.gpu/init/music_scratch64.safetensors
  launch cont64 init_from=$INIT data.batch_size=64 optim.lr=3e-4 optim.warmup_steps=100 optim.decay_steps=4000
  launch cont128 init_from=$INIT data.batch_size=128 optim.lr=4e-4 optim.warmup_steps=100 optim.decay_steps=2500
fi
echo launched$NAMES at $(( $(date +%s) - T0 )) s
sleep 20; for f in $R/*.log; do grep -iE "error|Traceback" $f && tail -20 $f; done
while pgrep -f "train.py configs/prior/$CONTENT.yaml" > /dev/null; do sleep 10; echo "--- $(( $(date +%s) - T0 )) s"; [ -z "$LOCAL" ] && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader; for d in $R/*/csv; do echo "$d $(tail -n 1 $d/version_0/metrics.csv 2>/dev/null | cut -c1-160)"; done; done
echo trained by $(( $(date +%s) - T0 )) s
for r in $NAMES; do $PY -m dps.prior export $R/$r/checkpoints/last.ckpt $P/${CONTENT}_${r}.safetensors --dtype float16; for f in csv/version_0/metrics.csv config.yaml summary.json; do cp $R/$r/$f $P/${r}_$(basename $f); done; grep -iE "error|Trace" $R/$r.log | head -3; done
(cd $(dirname $P) && tar cf pack.tar $(basename $P) && split -b 15M pack.tar ${OUT:-/tmp}/pack.tar.part_) && ls -la $P ${OUT:-/tmp}
echo done at $(( $(date +%s) - T0 )) s
