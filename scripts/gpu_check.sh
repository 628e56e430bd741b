#!/usr/bin/env bash
# GPU check for the editor side: runs the sample suite's 物理 cases with the tiny Qwen-Image-Edit
# pipeline on the GPU (-n 1, no judge, cache off) and prints the device name, the time of each
# edit and the peak GPU memory. Exits 0 only if every edit ran on a CUDA device.
# Needs torch (CUDA), diffusers, transformers, pytest, pytest-xdist; installs nothing and uses no
# network. Run from anywhere: scripts/gpu_check.sh   (PYTHON=... to pick the interpreter; it says
# which python it used, and which of those packages it cannot import, before anything else)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

if ! PY_PATH="$(command -v "$PY")"; then
    echo "gpu_check: FAIL: no python at '$PY'; set PYTHON to the bench environment's interpreter," \
        "e.g. PYTHON=.tox/bench/bin/python scripts/gpu_check.sh"
    exit 1
fi
echo "gpu_check: python $PY_PATH ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"
# what the editor side needs, each named if missing; then whether torch sees a CUDA device
"$PY" - <<'PY' || exit 1
import importlib.util, sys
missing = [m for m in ("torch", "diffusers", "transformers", "pytest", "xdist")
           if importlib.util.find_spec(m) is None]
if missing:
    print(f"gpu_check: FAIL: {sys.executable} cannot import {', '.join(missing)}; run with the "
          "bench environment's python (python3 -m tox -e bench -- --collect-only -q builds it, "
          "then PYTHON=.tox/bench/bin/python scripts/gpu_check.sh)")
    sys.exit(1)
import torch
if not torch.cuda.is_available():
    print(f"gpu_check: FAIL: torch {torch.__version__} (CUDA build: {torch.version.cuda}) sees no "
          "CUDA device; on a GPU machine install the CUDA build "
          "(python3 -m tox -e lock -- --gpu; EDITBENCH_LOCKS=gpu) and check CUDA_VISIBLE_DEVICES")
    sys.exit(1)
print(f"gpu_check: torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"{torch.cuda.device_count()} device(s): {torch.cuda.get_device_name(0)}")
PY

WORK="$(mktemp -d "${TMPDIR:-/tmp}/editbench-gpu-check.XXXXXX")"
export EDITBENCH_TINY_DIR="${EDITBENCH_TINY_DIR:-$WORK/tiny}" EDITBENCH_EDITOR_STATS="$WORK/stats.jsonl"

cat > "$WORK/config.yaml" <<YAML
suite: {path: $REPO/fixtures/sample_suite}
run: {dir: $WORK/reports, cache_dir: $WORK/cache, cache: false}
editor: {backend: diffusers, model: "tiny:qwen-image-edit", device: cuda, steps: 2}
judge: {backend: none}
YAML

start=$(date +%s)
set +e
timeout 170 "$PY" -m pytest "$REPO/benchmarks" -p no:cacheprovider -q -n 1 -k 物理 \
    --eb-config="$WORK/config.yaml" --eb-run-dir="$WORK/run" >"$WORK/pytest.log" 2>&1
status=$?
set -e
echo "gpu_check: pytest exit $status after $(( $(date +%s) - start )) s (log: $WORK/pytest.log)"
[ $status -eq 0 ] || tail -40 "$WORK/pytest.log"

"$PY" - "$WORK" "$status" <<'PY'
import json, sys
from pathlib import Path
work, status = Path(sys.argv[1]), int(sys.argv[2])
stats_file = work / "stats.jsonl"
stats = [json.loads(l) for l in stats_file.read_text().splitlines()] if stats_file.exists() else []
results = work / "run" / "results.jsonl"
records = [json.loads(l) for l in results.read_text().splitlines()] if results.exists() else []
for s in stats:
    print(f"  {s['case']:<10} {s['seconds']:.3f} s  peak {s.get('peak_bytes', 0) / 2**20:.1f} MiB  "
          f"device {s['device']} ({s.get('pipeline_device')})  {s.get('gpu', '')}")
problems = []
if status != 0:
    problems.append(f"pytest exited {status}")
if len(stats) != 5:
    problems.append(f"{len(stats)} edits recorded, expected 5")
if any(s["device"] != "cuda" or not str(s.get("pipeline_device", "")).startswith("cuda")
       or s.get("peak_bytes", 0) <= 0 for s in stats):
    problems.append("an edit did not run on the GPU")
if len(records) != 5 or any(r.get("edit_cached") for r in records):
    problems.append("results.jsonl does not hold 5 fresh edits")
if stats:
    print(f"gpu_check: device {stats[0].get('gpu')}; load {stats[0].get('load_s') or 0:.2f} s; "
          f"median edit {sorted(s['seconds'] for s in stats)[len(stats) // 2]:.3f} s; "
          f"peak GPU memory {max(s.get('peak_bytes', 0) for s in stats) / 2**20:.1f} MiB")
print("gpu_check: " + ("OK: all edits ran on the GPU" if not problems else "FAIL: " + "; ".join(problems)))
sys.exit(1 if problems else 0)
PY
