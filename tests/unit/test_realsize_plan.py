"""`editbench perf --real-size --budget`: the plan fits the budget, and the JSON is whole after
every stage (what a run killed at its lease's end leaves)."""

from __future__ import annotations

import json

import pytest

from perf.realsize import run_stage
from perf.realsize_plan import CANDIDATES, COSTS, STAGES, Plan, Progress, choose, estimates


@pytest.mark.parametrize(
    ("kind", "budget"), [("gpu", 390), ("gpu", 420), ("gpu", 900), ("cpu", 300), ("cpu", 600)]
)
def test_the_chosen_plan_fits_its_first_three_stages_in_the_budget(kind, budget):
    plan = choose(budget, COSTS[kind], None, None)
    needed = estimates(plan, COSTS[kind])
    assert plan.cases >= 3
    assert sum(needed[s] for s in STAGES[:3]) <= 0.9 * budget


def test_a_larger_budget_never_buys_a_smaller_plan():
    plans = [choose(b, COSTS["gpu"], None, None) for b in (300, 420, 600, 2000)]
    order = [Plan(*c) for c in CANDIDATES]
    assert [order.index(p) for p in plans] == sorted((order.index(p) for p in plans), reverse=True)


class Say:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        self.lines.append(text)


def test_the_json_is_complete_after_each_stage_and_a_stage_that_would_not_fit_is_skipped(
    tmp_path,
):
    path = tmp_path / "perf-realsize.json"
    progress = Progress(path, 300.0, Plan(3, 2, 64), COSTS["cpu"], gpu="none")
    assert json.loads(path.read_text())["stages"] == []
    opts = Say()
    assert run_stage(opts, progress, "harness", lambda: {"ratio": 1.01})
    assert json.loads(path.read_text())["stages"] == [
        {"stage": "harness", "status": "done", "seconds": pytest.approx(0, abs=5), "ratio": 1.01}
    ]
    progress.data["estimates_s"]["decode"] = 10_000.0
    ran = []
    assert run_stage(opts, progress, "decode", lambda: ran.append(1) or {})
    assert not ran and "stage decode: SKIPPED" in opts.lines[-1]

    def broken():
        raise RuntimeError("no diffusers")

    assert not run_stage(opts, progress, "overlap", broken)
    data = json.loads(path.read_text())
    assert [(s["stage"], s["status"]) for s in data["stages"]] == [
        ("harness", "done"),
        ("decode", "skipped"),
        ("overlap", "failed"),
    ]
    assert data["complete"] is False and "no diffusers" in data["stages"][2]["error"]
    progress.finish()
    assert json.loads(path.read_text())["complete"] is True
