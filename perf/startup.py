"""Measurement 7: start-up, what a user waits for around the cases.

- collect-only: `python -m pytest benchmarks/ --collect-only -q -k 物理` from the checkout under
  the default config (benchmarks/default.yaml: the sample suite, the tiny diffusers editor, the
  tiny qwen-vl judge), the whole process's wall time: one untimed run first (the tiny checkpoints
  built, the files in the OS cache), then the median of several. Beside it, pytest alone
  collecting an empty folder (its own start-up with the installed plugins), and which model
  libraries the controller imported (`-X importtime`, in one more run, untimed).
- cached rerun: a first run with an empty cache and its unchanged rerun (the `cache`
  measurement's runs: 6 cases of the tiny editor and tiny judge at `-n 2`), their wall times.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from perf.bench import REPO, Options, PerfError, env, ratio
from perf.cache import first_and_rerun, fully_cached, judge_started

WATCHED = ("torch", "diffusers", "transformers", "scipy")
# Python's default: compiled modules (and pytest's assertion-rewritten plugin modules) are cached
# in __pycache__ by the first run and read by the next, as on a researcher's machine. Where
# PYTHONDONTWRITEBYTECODE is set (some sandboxes and CI images), every start compiles the
# checkout's modules again; the measurement clears it for its runs, and says so.
BYTECODE_CACHED = {"PYTHONDONTWRITEBYTECODE": ""}
COLLECT = ("-m", "pytest", "benchmarks", "--collect-only", "-q", "-k", "物理")
DEFINITION = (
    "collect_only_s: wall time of `python -m pytest benchmarks/ --collect-only -q -k 物理` under "
    "benchmarks/default.yaml (tiny diffusers editor, tiny qwen-vl judge, sample suite), median of "
    "{repeats} after one untimed run; pytest_alone_s: `python -m pytest --collect-only -q` in an empty folder, median of {repeats}; "
    "collect_only_imported: the model libraries its controller imported; rerun_wall_speedup: wall time "
    "of a first run with an empty cache / its unchanged rerun, {cases} cases at -n 2, tiny editor + "
    "tiny judge (start-up, worker spawn and imports included; the rerun loads neither model); every "
    "run with Python's default bytecode caching (PYTHONDONTWRITEBYTECODE cleared)"
)


def measure(opts: Options) -> dict:
    repeats, cases = opts.pick((5, 6), (3, 2), (1, 2))
    extra = {"EDITBENCH_JUDGE_PYTHON": opts.judge_python, **BYTECODE_CACHED}
    opts.say(f"startup: --collect-only, 1 untimed and {repeats} timed runs")
    _wall(COLLECT, extra)
    collect = [_wall(COLLECT, extra) for _ in range(repeats)]
    empty = opts.work / "startup" / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    (empty / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    bare = ("-m", "pytest", "--collect-only", "-q")
    alone = [_wall(bare, extra, ok=(5,), cwd=empty) for _ in range(repeats)]
    imported = _imported(extra)
    runs = first_and_rerun(opts, opts.work / "startup", cases, "startup", BYTECODE_CACHED)
    first, rerun = runs["first"], runs["rerun"]
    return {
        "definition": DEFINITION.format(repeats=repeats, cases=cases),
        "cases": cases,
        "collect_only_s": statistics.median(collect),
        "collect_only_runs_s": collect,
        "pytest_alone_s": statistics.median(alone),
        "collect_only_imported": imported,
        "first_run_wall_s": first.wall_s,
        "rerun_wall_s": rerun.wall_s,
        "rerun_wall_speedup": ratio(first.wall_s, rerun.wall_s),
        "rerun_fully_cached_cases": fully_cached(rerun.records),
        "rerun_judge_started": judge_started(rerun.run_dir),
        "cleared_pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
    }


def _wall(args: tuple[str, ...], extra: dict, ok: tuple[int, ...] = (0,), cwd=REPO) -> float:
    """Wall seconds of `python ARGS` run in `cwd`; a failed run stops the measurement."""
    start = time.perf_counter()
    done = _run(args, extra, cwd)
    wall = time.perf_counter() - start
    if done.returncode not in ok:
        raise PerfError(
            f"`python {' '.join(args)}` exited {done.returncode}:\n"
            f"{(done.stdout + done.stderr)[-2000:]}"
        )
    return wall


def _imported(extra: dict) -> list[str]:
    """The libraries of WATCHED that the collect-only controller imported (top-level modules)."""
    done = _run(("-X", "importtime", *COLLECT), extra)
    found = set()
    for line in done.stderr.splitlines():
        name = line.rpartition("|")[2].strip() if line.startswith("import time:") else ""
        if name.split(".")[0] in WATCHED:
            found.add(name.split(".")[0])
    return sorted(found)


def _run(args: tuple[str, ...], extra: dict, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args, "-p", "no:cacheprovider"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env(extra),
    )
