"""Measurement 4: a first run vs an unchanged rerun with the cache on.

Tiny diffusers editor and tiny qwen-vl judge (logit), `-n 2`, a fresh cache folder; the rerun uses
the same config and cache. Compared twice: the test phase as the sum of the test calls' durations
(what the cases themselves cost), and the run's wall time (what a user waits for: start-up, worker
spawn, imports; a fully cached rerun loads neither model, as `rerun_judge_started` shows).
"""

from __future__ import annotations

import json

from perf.bench import Options, ratio, run_bench, write_config
from perf.judgecalls import tiny_judge
from perf.scaling import tiny_editor
from perf.suite import replicate

SIZE = 256
WORKERS = 2
DEFINITION = (
    "sum of test-call durations over all cases (pytest's call phase: edit or cache read, PNG saves, judge "
    "or score-cache read, records), first run with an empty cache vs an unchanged rerun, -n 2, tiny "
    "diffusers editor + tiny qwen-vl judge (logit); wall_speedup: the same two runs' wall time "
    "(start-up and imports included; the rerun loads neither model)"
)


def measure(opts: Options) -> dict:
    cases = opts.pick(6, 2, 2)
    runs = first_and_rerun(opts, opts.work / "cache", cases, "cache")
    first, rerun = (sum(runs[n].call_s()) for n in ("first", "rerun"))
    return {
        "definition": DEFINITION,
        "cases": cases,
        "size": opts.size(SIZE),
        "first_calls_s": first,
        "rerun_calls_s": rerun,
        "speedup": ratio(first, rerun),
        "first_run_wall_s": runs["first"].wall_s,
        "rerun_wall_s": runs["rerun"].wall_s,
        "rerun_fully_cached_cases": fully_cached(runs["rerun"].records),
        "wall_speedup": ratio(runs["first"].wall_s, runs["rerun"].wall_s),
        "rerun_judge_started": judge_started(runs["rerun"].run_dir),
    }


def first_and_rerun(
    opts: Options, folder, cases: int, name: str, extra_env: dict | None = None
) -> dict:
    """{"first": BenchRun, "rerun": BenchRun}: a run with an empty cache and its unchanged rerun."""
    suite = replicate(folder / "suite", cases, opts.size(SIZE))
    config = write_config(folder, suite, tiny_editor(), tiny_judge(opts), cache=True)
    runs = {}
    for run in ("first", "rerun"):
        opts.say(f"{name}: {run} run, {cases} cases at -n {WORKERS}")
        runs[run] = run_bench(opts, config, folder / f"run-{run}", WORKERS, extra_env=extra_env)
    return runs


def fully_cached(records: list[dict]) -> int:
    """How many records took both the edit and every judged score from the cache."""
    return sum(
        1
        for r in records
        if r.get("edit_cached")
        and r.get("cached")
        and all(v for k, v in r["cached"].items() if k != "O")
    )


def judge_started(run_dir) -> bool | None:
    """Whether any worker of the run started its judge interpreter (run.json's worker records)."""
    path = run_dir / "run.json"
    if not path.is_file():
        return None
    workers = json.loads(path.read_text(encoding="utf-8")).get("workers") or {}
    return any((w.get("judge") or {}).get("started") for w in workers.values())
