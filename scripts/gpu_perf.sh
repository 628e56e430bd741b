#!/usr/bin/env bash
# The GPU mode of `editbench perf` on a bare CUDA machine with no network (the lead's device check).
# Needs wheels in .whl/ for what the machine lacks (diffusers, and transformers pinned to the dev
# environment's version): see the final report of issue 7. Writes perf-realsize.json and the log to $OUT.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export EDITBENCH_TINY_DIR=/tmp/editbench-tiny OUT=${OUT:-/tmp/out}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, diffusers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'diffusers', diffusers.__version__)"
python3 -m editbench.cli perf --real-size --out /tmp/perf-realsize "$@" 2>&1 | tee "$OUT/gpu_perf.log"
status=$?
cp /tmp/perf-realsize/perf-realsize.json "$OUT/" 2>/dev/null
exit $status
