# One call: install carried wheels, then the sweep; everything lands in $OUT.
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpuS/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/.gpuS/site:$PWD WANDB_MODE=offline PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; nproc
python3 -c "import torch, visqol, dps; print(torch.__version__, torch.cuda.is_available())" || exit 1
python3 results/tuning/gpu_sweep/sweep.py run --items .gpuS/items.npz --out $OUT --workers ${NW:-15} --deadline ${DL:-450} --phase2 ${P2:-170} 2>&1 | grep -v Warning | tee $OUT/log.txt
echo done at $(( $(date +%s) - T0 )) s
