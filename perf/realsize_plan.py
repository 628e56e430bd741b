"""`editbench perf --real-size --budget SECONDS`: which cases, steps and tokens fit, and the JSON
written after every stage (so a run killed at its lease's end keeps each finished stage).

The costs are per-unit seconds measured on one H200 (issue 26's run: 9.4 s per 10-step 1024² edit
with true CFG, 55 ms per decode step of the generate judge at batch 3, model builds) and, for
$EDITBENCH_PERF_REALSIZE_SHRINK on a 2-core CPU, on this project's shared machine under a load
average of about 10 (64² images there). An estimate
errs high: a stage that would not fit in what is left of the budget is skipped, and says so.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

STAGES = ("harness", "decode", "overlap", "service")

COSTS = {
    "gpu": {
        "run_start_s": 30.0,  # pytest, the editor's build, the judge interpreter and its build
        "edit_step_s": 0.95,  # one denoising step at 1024², true CFG (two transformer passes)
        "logit_s": 1.5,  # one case's 3 logit dimensions (0.3 s, spikes to 3.1 s)
        "today_token_s": 0.055,  # one decode step of the generate judge, batch 3, dynamic cache
        "fast_token_s": 0.03,  # the same with the static cache and compiled step (to be measured)
        "judge_start_s": 20.0,  # a judge interpreter with the 8B judge built
        "compile_s": 45.0,  # a first fast decode: compile (inductor's cache helps the later ones)
        "overlap_compile_s": 45.0,  # the same in each overlap run's judge
        "save_s": 60.0,  # writing the random 8B judge to disk for the server
        "serve_start_s": 60.0,  # transformers serve loading it
    },
    "cpu": {
        "run_start_s": 30.0,
        "edit_step_s": 6.0,
        "logit_s": 5.0,
        "today_token_s": 0.1,
        "fast_token_s": 0.1,
        "judge_start_s": 15.0,
        "compile_s": 40.0,
        "overlap_compile_s": 0.0,  # on a CPU the overlap runs keep judge.fast_decode auto (off)
        "save_s": 3.0,
        "serve_start_s": 25.0,
    },
}

# preferred first: the shape (more steps and tokens) down to the least that still measures;
# four cases before three, since the overlap and harness figures time the cycles between the 2nd
# and the last case (three cases: one cycle)
CANDIDATES = [
    (5, 10, 256),
    (4, 6, 192),
    (4, 4, 128),
    (4, 4, 96),
    (4, 2, 64),
    (4, 2, 48),
    (3, 2, 64),
    (3, 1, 32),
    (3, 1, 16),
]


@dataclass(frozen=True)
class Plan:
    cases: int  # at least 3: the first and last case's cycles are left out of the harness ratio
    steps: int
    tokens: int


def estimates(plan: Plan, costs: dict) -> dict[str, float]:
    """Seconds each stage is expected to take (generate answers of a random judge never parse:
    every case is asked twice in a benchmark run)."""
    c, n = costs, plan.cases
    edit = plan.steps * c["edit_step_s"]
    today = plan.tokens * c["today_token_s"]
    fast = plan.tokens * c["fast_token_s"]
    return {
        "harness": c["run_start_s"] + n * (edit + c["logit_s"] + 1.0),
        "decode": 2 * c["judge_start_s"] + c["compile_s"] + n * (today + fast),
        "overlap": 2 * (c["run_start_s"] + c["overlap_compile_s"]) + n * (2 * edit + 4 * fast + 2),
        "service": c["judge_start_s"] + c["save_s"] + c["serve_start_s"] + n * 2 * fast + 10.0,
    }


def choose(budget: float, costs: dict, cases: int | None, steps: int | None) -> Plan:
    """The first candidate whose first three stages fit in 90% of the budget (given values kept)."""
    plans = [Plan(cases or c, steps or s, t) for c, s, t in CANDIDATES]
    for plan in plans:
        needed = estimates(plan, costs)
        if sum(needed[s] for s in STAGES[:3]) <= 0.9 * budget:
            return plan
    return plans[-1]


class Progress:
    """perf-realsize.json, rewritten whole (atomically) after every stage."""

    def __init__(self, path: Path, budget: float, plan: Plan, costs: dict, **facts) -> None:
        self.path, self.start, self.budget = path, time.monotonic(), budget
        self.data = {
            "version": 2,
            "budget_s": budget,
            "plan": asdict(plan),
            "estimates_s": estimates(plan, costs),
            "stages": [],
            "complete": False,
            **facts,
        }
        self.write()

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.start)

    def add(self, name: str, status: str, **figures) -> None:
        self.data["stages"].append({"stage": name, "status": status, **figures})
        self.write()

    def finish(self) -> None:
        self.data["complete"] = True
        self.write()

    def write(self) -> None:
        self.data["elapsed_s"] = time.monotonic() - self.start
        partial = self.path.with_suffix(".json.part")
        partial.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, self.path)
