"""Overlap: a worker edits its next case while the judge scores this one, and faults stay contained.

Each test runs the real benchmark in a fresh pytest process with the `fault` editor and the
`FaultyJudge` (tests/faults). The order of events is forced by waits the test controls, never by
sleeps: `[judge:wait]` holds a case in its judge until the test creates `release-judge`, and
`[edit:wait]` holds an edit until it creates `release`. Without `-n`, pytest runs the physical
cases in suite order, so while 物理-002 is judged, 物理-003 is the case being edited ahead.

What needs no worker process (an OOM raised while editing ahead, run.json's record of the
overlap) is proven in tests/unit (test_case_runner.py, test_run_in_process.py).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from editbench.cases import load_suite
from editbench.overlap import MARKER
from editbench.shard import shard_cases
from support import REPO, SAMPLE_SUITE, bench_command

FIXED = {"SC": 6.0, "PQ": 7.0, "criterion": 5.0, "O": math.sqrt(42.0)}
PHYSICAL = [f"物理-00{i}" for i in range(1, 6)]


# -- a benchmark run in the background, and what the fault plugins leave behind ----------------


class Background:
    """The benchmark in its own process group (as a terminal runs it), stepped by the test."""

    def __init__(self, fault_run, config: Path, *args: str, name: str = "run", **env: str):
        self.fault_run, self.run_dir = fault_run, fault_run.tmp_path / name
        self.process = subprocess.Popen(
            bench_command(config, "-p", "eb_faults", *args, run_dir=self.run_dir),
            cwd=REPO,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **fault_run.env(**env)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output = ""

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate(timeout=30)

    def wait_until(self, condition, limit_s: float = 180) -> None:
        """Poll a condition the run makes true (never a sleep that guesses how long it takes)."""
        deadline = time.monotonic() + limit_s
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the run ended first:\n{self.process.stdout.read()[-3000:]}")
            assert time.monotonic() < deadline, "the condition never held"
            time.sleep(0.05)

    def release(self, name: str) -> None:
        (self.fault_run.fault_dir / name).write_text("go\n", encoding="utf-8")

    def interrupt(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does

    def finish(self, timeout: float = 180) -> int:
        self.output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode

    def recorded(self) -> list[str]:
        path = self.run_dir / "results.jsonl"
        if not path.exists():
            return []
        return [json.loads(line)["case_id"] for line in path.read_text("utf-8").splitlines()]


def edits(fault_run) -> list[str]:
    """Every edit call, in order (the fault editor logs each one as it starts)."""
    path = fault_run.fault_dir / "edits.log"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def edit_waiting(fault_run, case_id: str) -> bool:
    return any(fault_run.fault_dir.glob(f"waiting.{case_id}.*"))


def judge_waiting(fault_run) -> bool:
    return any(fault_run.fault_dir.glob("judge-waiting.*"))


def markers(run_dir: Path) -> list[str]:
    return sorted(p.name.removeprefix(MARKER) for p in run_dir.glob(f"{MARKER}*"))


def assert_honest(record: dict) -> None:
    """Ok with exactly the judge's fixed scores for this case, or failed with no score at all."""
    if record["status"] == "ok":
        assert record["scores"] == pytest.approx(FIXED), record
    else:
        assert all(v is None for v in record["scores"].values()), record
        assert record["reason"], record


def statuses(fault_run, run_dir: Path) -> dict[str, str]:
    records = fault_run.records(run_dir)
    for record in records.values():
        assert_honest(record)
    return {case_id: record["status"] for case_id, record in sorted(records.items())}


def held_in_judge_while_next_is_edited(run: Background, fault_run) -> None:
    """物理-002 waits in its judge while 物理-003's edit has begun: the overlap itself."""
    run.wait_until(lambda: judge_waiting(fault_run) and "物理-003" in edits(fault_run))
    assert "物理-002" not in run.recorded()


# -- the edit made ahead survives the judge's faults ------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fault", ["kill", "timeout"])
def test_judge_death_or_timeout_keeps_the_edit_made_ahead(fault_run, fault):
    tag = "[judge:wait] [judge:kill]" if fault == "kill" else "[judge:wait] [judge:hang]"
    fault_run.change("物理-002", tag=tag)  # the hang answers 9s late; no one may take them
    fault_run.change("物理-003", tag="[edit:wait]")
    judge = {**fault_run.judge, "timeout_s": 8.0} if fault == "timeout" else fault_run.judge
    config = fault_run.config(judge=judge)
    with Background(fault_run, config, "-k", "物理", EB_FAULT_HANG_S="0") as run:
        held_in_judge_while_next_is_edited(run, fault_run)
        assert edit_waiting(fault_run, "物理-003")
        if fault == "kill":
            run.release("release-judge")  # the judge dies, is recreated, dies again
        run.wait_until(lambda: "物理-002" in run.recorded())
        run.release("release-judge")
        run.release("release")  # only now may 物理-003's edit end
        assert run.finish() == 1, run.output[-3000:]
    failed = {"kill": "judge-unavailable", "timeout": "timeout"}[fault]
    assert statuses(fault_run, run.run_dir) == {
        c: failed if c == "物理-002" else "ok" for c in PHYSICAL
    }
    assert edits(fault_run) == PHYSICAL  # 物理-003 edited once: its edit ahead was kept
    assert markers(run.run_dir) == []


# -- worker crashes ------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_worker_dying_while_editing_ahead_loses_only_the_cases_in_flight(fault_run):
    """The edit ahead of 物理-003 kills the worker while 物理-002 is judged: both were in flight.

    xdist hands 物理-003 to the replacement worker behind 物理-004 and 物理-005, so it comes
    next while 物理-005 is judged. It must not be edited ahead there (the marker the dead worker
    left says why), or it would take 物理-005 down too: it is edited in its own test, and dies
    alone.
    """
    fault_run.change("物理-002", tag="[judge:wait]")
    fault_run.change("物理-003", tag="[edit:wait] [edit:exit]")
    with Background(fault_run, fault_run.config(), "-k", "物理", "-n", "1") as run:
        held_in_judge_while_next_is_edited(run, fault_run)
        run.release("release")  # 物理-003's edit ahead now kills the worker
        assert run.finish() == 1, run.output[-3000:]
        run.release("release-judge")
    assert statuses(fault_run, run.run_dir) == {
        "物理-001": "ok",
        "物理-002": "crashed",
        "物理-003": "crashed",
        "物理-004": "ok",
        "物理-005": "ok",
    }
    assert sorted(edits(fault_run)) == sorted([*PHYSICAL, "物理-003"])  # only 物理-003 redone
    assert markers(run.run_dir) == ["物理-003"]


@pytest.mark.timeout(300)
def test_replacement_worker_takes_the_edit_made_ahead_from_the_cache(fault_run):
    """The worker is killed while it judges 物理-001, after 物理-002's edit ahead was cached."""
    fault_run.change("物理-001", tag="[judge:wait] [judge:kill-worker]")
    cache = fault_run.tmp_path / "cache" / "edits"
    with Background(fault_run, fault_run.config(), "-k", "物理", "-n", "1") as run:
        run.wait_until(lambda: judge_waiting(fault_run) and _entries(cache) == 2)
        assert run.recorded() == []
        run.release("release-judge")
        assert run.finish() == 1, run.output[-3000:]
    assert statuses(fault_run, run.run_dir) == {
        c: "crashed" if c == "物理-001" else "ok" for c in PHYSICAL
    }
    records = fault_run.records(run.run_dir)
    assert {c: r["edit_cached"] for c, r in records.items() if c != "物理-001"} == {
        "物理-002": True,
        "物理-003": False,
        "物理-004": False,
        "物理-005": False,
    }
    assert edits(fault_run) == PHYSICAL  # 物理-002 not edited again
    assert markers(run.run_dir) == []


def _entries(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))


# -- Ctrl-C ---------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_ctrl_c_while_judging_stops_the_edit_ahead_and_keeps_what_finished(fault_run):
    """Ctrl-C while 物理-002 is judged and 物理-003's edit ahead is blocked: the run ends at once,
    without waiting for that edit, with 物理-001 recorded, and no later case is edited."""
    fault_run.change("物理-002", tag="[judge:wait]")
    fault_run.change("物理-003", tag="[edit:wait]")
    with Background(fault_run, fault_run.config(), "-k", "物理") as run:
        held_in_judge_while_next_is_edited(run, fault_run)
        run.wait_until(lambda: edit_waiting(fault_run, "物理-003"))
        run.interrupt()
        assert run.finish(timeout=60) == 2, run.output[-3000:]  # ExitCode.INTERRUPTED
    assert statuses(fault_run, run.run_dir) == {"物理-001": "ok"}
    meta = json.loads((run.run_dir / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "interrupted"
    assert edits(fault_run) == ["物理-001", "物理-002", "物理-003"]
    assert markers(run.run_dir) == []  # stopped, not crashed: nothing to warn another worker of


# -- never edit a case that is not going to run ----------------------------------------------


SELECTIONS = {  # args, the cases edited, exit status (2: --stepwise ends as interrupted)
    "-k": (["-k", "物理-002 or 物理-004"], ["物理-002", "物理-004"], 1),
    "--eb-shard": (
        ["-k", "物理", "--eb-shard=2/2"],
        sorted(shard_cases(load_suite(SAMPLE_SUITE).cases, (2, 2)) & set(PHYSICAL)),
        0,
    ),
    "-x": (["-k", "物理", "-x"], ["物理-001", "物理-002"], 1),
    "--maxfail": (["-k", "物理", "--maxfail=1"], ["物理-001", "物理-002"], 1),
    "--stepwise": (["-k", "物理", "--stepwise"], ["物理-001", "物理-002"], 2),
    "--lf": (["-k", "物理", "--lf"], ["物理-002"], 1),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_no_case_outside_the_selection_is_edited(fault_run, selection):
    """物理-002 fails in its judge; -x, --maxfail and --stepwise stop there: 物理-003 is never
    edited, although an edit ahead would have started while 物理-002 was judged."""
    args, expected, status = SELECTIONS[selection]
    fault_run.change("物理-002", tag="[judge:garbage]")
    config = fault_run.config(run={"cache": False})  # every case that runs is edited
    cache_dir = f"cache_dir={fault_run.tmp_path / 'pytest-cache'}"
    if selection == "--lf":  # the first run leaves 物理-002 as the last failure
        _run_with_cacheprovider(fault_run, config, ["-k", "物理", "-o", cache_dir], "first")
        (fault_run.fault_dir / "edits.log").unlink()
    result = _run_with_cacheprovider(fault_run, config, [*args, "-o", cache_dir], "run")
    assert result.returncode == status, result.stdout[-3000:]
    assert edits(fault_run) == expected
    assert sorted(fault_run.records(fault_run.tmp_path / "run")) == expected


def _run_with_cacheprovider(fault_run, config: Path, args: list[str], name: str):
    command = bench_command(config, "-p", "eb_faults", *args, run_dir=fault_run.tmp_path / name)
    at = command.index("no:cacheprovider")
    del command[at - 1 : at + 1]  # --lf and --stepwise need pytest's cache
    return subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **fault_run.env()},
    )
