#!/usr/bin/env bash
# GPU check of the training stack on the release-shaped tiny Qwen2.5-VL (see gpu_check.py).
# For a CUDA machine with torch, transformers, peft, accelerate and torchvision but no network:
# TRL and the other missing pure-Python packages come as wheels from WHEEL_DIR, installed into a
# private folder (never into the machine's environment); medvie is imported from this checkout.
#   benchmarks/gpu_check.sh WHEEL_DIR [gpu_check.py options]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
wheels=${1:?usage: benchmarks/gpu_check.sh WHEEL_DIR [gpu_check.py options]}
shift
python=${PYTHON:-python3}
site=${GPU_CHECK_SITE:-/tmp/site}
shopt -s nullglob
whl=("$wheels"/*.whl)
if ((${#whl[@]})); then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "${whl[@]}"
fi
export PYTHONPATH="$site:$root${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
exec "$python" "$root/benchmarks/gpu_check.py" "$@"
