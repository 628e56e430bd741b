#!/usr/bin/env bash
# `editbench perf --real-size` on a bare CUDA machine with no network (the lead's device check),
# sized to a lent machine's lease: about 7 minutes in all, model builds included.
#
#   scripts/gpu_perf.sh [--budget SECONDS]       (default: $EDITBENCH_PERF_BUDGET, else 390)
#
# Uses the machine's own python3, torch and transformers. What the machine lacks travels as wheels
# in .whl/ (carry it): diffusers for the editor, and fastapi, uvicorn, pydantic, starlette and
# openai for `transformers serve` (stage 4). A missing piece is said and its stage is recorded as
# failed or skipped; the others still run. Writes $OUT/perf-realsize.json as each stage ends (a
# run cut short keeps every finished stage), and $OUT/gpu_perf.log. Each stage prints
# "stage NAME: STARTED / DONE / SKIPPED / FAILED".
set -u -o pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 1
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
BUDGET="${EDITBENCH_PERF_BUDGET:-390}"
if [ "${1:-}" = "--budget" ] && [ -n "${2:-}" ]; then BUDGET="$2"; shift 2; fi
case "${1:-}" in --budget=*) BUDGET="${1#--budget=}"; shift ;; esac
LOG="$OUT/gpu_perf.log"
say() { echo "gpu_perf: $*" | tee -a "$LOG"; }

if ls .whl/*.whl >/dev/null 2>&1; then
    if python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl >>"$LOG" 2>&1; then
        export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
        say "installed $(ls .whl/*.whl | wc -l) wheels from .whl/ into /tmp/site"
    else
        say "installing .whl/ failed (see $LOG); going on with what the machine has"
    fi
else
    say "no .whl/ (carry it): diffusers and the serving packages are used only if already installed"
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$REPO" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 EDITBENCH_TINY_DIR=/tmp/editbench-tiny

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$LOG" \
    || say "nvidia-smi: not available"
python3 - <<'PY' 2>&1 | tee -a "$LOG"
import importlib, sys
print("gpu_perf: python", sys.version.split()[0], sys.executable)
needs = {"torch": "all stages", "transformers": "all stages", "diffusers": "stages harness and overlap",
         "fastapi": "stage service", "uvicorn": "stage service", "openai": "stage service"}
for name, used in needs.items():
    try:
        print(f"gpu_perf: {name} {importlib.import_module(name).__version__}")
    except Exception as exc:  # a missing optional piece: say so, its stages will say the rest
        print(f"gpu_perf: {name} MISSING ({type(exc).__name__}); needed by {used}: add its wheel to .whl/")
try:
    import torch
    print("gpu_perf: CUDA", torch.version.cuda, "available:", torch.cuda.is_available())
except Exception:
    pass
PY

JSON=/tmp/perf-realsize/perf-realsize.json
rm -rf /tmp/perf-realsize
copy_json() { [ -f "$JSON" ] && cp "$JSON" "$OUT/perf-realsize.json.part" && mv "$OUT/perf-realsize.json.part" "$OUT/perf-realsize.json"; }
(while sleep 3; do copy_json; done) &
COPIER=$!
say "editbench perf --real-size --budget=$BUDGET (killed at budget + 90 s, keeping finished stages)"
timeout --signal=TERM --kill-after=10 "$((${BUDGET%.*} + 90))" \
    python3 -m editbench.cli perf --real-size --budget="$BUDGET" --out=/tmp/perf-realsize "$@" 2>&1 \
    | tee -a "$LOG"
status=$?
kill "$COPIER" 2>/dev/null
copy_json
if [ -f "$OUT/perf-realsize.json" ]; then
    python3 - "$OUT/perf-realsize.json" <<'PY' | tee -a "$LOG"
import json, sys
data = json.load(open(sys.argv[1]))
print(f"gpu_perf: plan {data.get('plan')}, {data.get('elapsed_s', 0):.0f} s of {data.get('budget_s')}, complete: {data.get('complete')}")
for stage in data.get("stages", []):
    keys = [k for k in ("ratio", "speedup", "today_s_per_case", "fast_s_per_case", "s_per_case_off",
                        "s_per_case_on", "s_per_case", "why", "error") if k in stage]
    shown = ", ".join(f"{k}={str(stage[k])[:160]}" for k in keys)
    print(f"gpu_perf: stage {stage['stage']}: {stage['status']} {shown}")
PY
else
    say "no perf-realsize.json was written"
fi
say "exit status $status"
exit "$status"
