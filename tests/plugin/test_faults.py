"""Fault injection: nothing finished is lost, nothing is invented.

Each test runs the real benchmark (benchmarks/test_edit.py) in a fresh pytest process, with
faults forced by the `fault` editor (tests/faults/eb_faults.py, loaded with `-p eb_faults`) and
the `FaultyJudge` backend (tests/faults/judge_faults.py, loaded by path in the real judge
interpreter). A case picks its fault by a tag in its instruction, e.g. `[judge:hang]`; the
`fault_run` fixture (conftest.py) copies the sample suite and runs the benchmark over it.

What needs no pytest process is proven below it: unreadable images, path escapes, YAML tags and
decompression bombs in tests/unit (test_startup_refusals.py, test_run_in_process.py); the judge's
death, timeout and late reply at the gateway in tests/e2e/test_judge_gateway.py. Here: the
wiring of a start-up error under xdist, Ctrl-C, and every fault at once in one -n 2 run.
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

from support import REPO, bench_command

FIXED = {"SC": 6.0, "PQ": 7.0, "criterion": 5.0, "O": math.sqrt(42.0)}
PHYSICAL = [f"物理-00{i}" for i in range(1, 6)]


# -- helpers -------------------------------------------------------------------------------------


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def assert_honest(record: dict) -> None:
    """A record is either ok with every score read from the judge, or failed with no score at all."""
    scores = record.get("scores") or {}
    if record["status"] == "ok":
        assert set(record["statuses"].values()) == {"ok"}, record
        assert scores and all(isinstance(v, float) and 0.0 <= v <= 10.0 for v in scores.values()), (
            record
        )
        assert scores == pytest.approx(FIXED), record  # exactly what the judge said, for this case
    else:
        assert all(v is None for v in scores.values()), record
        assert record["reason"], record


def pids_alive(pids: list[int], grace: float = 5.0) -> list[int]:
    deadline = time.monotonic() + grace
    while True:
        alive = [p for p in pids if _running(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def judge_pids(fault_run) -> list[int]:
    path = fault_run.fault_dir / "judge-pids"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


# -- one test per row of the fault table ---------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_startup_error_is_one_line_and_loads_nothing(fault_run):
    """The wiring under xdist: the refusal (its text: tests/unit/test_startup_refusals.py) stops
    the controller before any worker builds an editor or starts a judge."""
    editor = {"backend": "fault", "stepz": 4}
    needle = "unknown config key editor.stepz; did you mean editor.steps?"
    result, run_dir = fault_run.run(fault_run.config(editor=editor), "-n", "2")
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert not run_dir.exists()
    assert (
        sorted(p.name for p in fault_run.fault_dir.iterdir()) == []
    )  # no editor built, no judge started


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "workers",
    [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist", marks=pytest.mark.slow)],
)
def test_ctrl_c_keeps_what_finished_and_a_rerun_finishes_from_the_cache(fault_run, workers):
    """Ctrl-C arrives while a case is known to be mid-edit (it blocks until the test releases it)."""
    finished_first = PHYSICAL[:2]
    for case_id in PHYSICAL[2:]:
        fault_run.change(case_id, tag="[edit:wait]")
    config = fault_run.config()
    first = fault_run.tmp_path / "first"
    command = [*bench_command(config, "-p", "eb_faults", "-k", "物理", *workers, run_dir=first)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **fault_run.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_until(
            process,
            lambda: (
                _lines(first / "results.jsonl") >= 2 and any(fault_run.fault_dir.glob("waiting.*"))
            ),
        )
        os.killpg(
            process.pid, signal.SIGINT
        )  # what a terminal's Ctrl-C does: the whole process group
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 2, output[-3000:]  # pytest.ExitCode.INTERRUPTED
    finished = fault_run.records(first)
    assert sorted(finished) == finished_first and {r["status"] for r in finished.values()} == {"ok"}
    summary = summary_of(first)
    assert summary["overall"]["micro"]["n"] == 2 and summary["overall"]["micro"]["failed"] == 0
    page = (first / "report.html").read_text(encoding="utf-8")
    assert page.count('<div class="case ') == 2
    assert "Interrupted: these reports cover only the cases that finished" in page
    assert json.loads((first / "run.json").read_text(encoding="utf-8"))["status"] == "interrupted"
    edits_log = fault_run.fault_dir / "edits.log"
    edited_before = edits_log.read_text(encoding="utf-8").split()

    (fault_run.fault_dir / "release").write_text("go\n", encoding="utf-8")
    result, second = fault_run.run(config, "-k", "物理", *workers, name="second")
    assert result.returncode == 0, result.stdout[-3000:]
    rerun = fault_run.records(second)
    assert sorted(rerun) == PHYSICAL and {r["status"] for r in rerun.values()} == {"ok"}
    for case_id in finished:
        assert rerun[case_id]["edit_cached"] is True
        scored = {k: v for k, v in rerun[case_id]["cached"].items() if k != "O"}  # O is computed
        assert scored == dict.fromkeys(("SC", "PQ", "criterion"), True)  # no score asked again
    edited_again = edits_log.read_text(encoding="utf-8").split()[len(edited_before) :]
    assert (
        sorted(edited_again) == PHYSICAL[2:]
    )  # each unfinished case edited once; no finished one redone
    for record in rerun.values():
        assert_honest(record)


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _wait_until(process: subprocess.Popen, condition, limit_s: float = 180) -> None:
    """Poll a condition the run makes true (not a sleep that guesses how long it takes)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert process.poll() is None, (
            f"the run ended before the condition held: {process.stdout.read()[-3000:]}"
        )
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


# -- all at once ---------------------------------------------------------------------------------

INJECTED = {
    "物理-001": ("corrupt", "case-error"),
    "物理-002": ("missing", "case-error"),
    "物理-003": ("[edit:exit]", "crashed"),
    "物理-004": ("[edit:raise]", "edit-error"),
    "物理-005": ("[judge:kill-once]", "ok"),  # recovered by the gateway: not a failure
    "环境-001": ("[judge:hang]", "timeout"),
    "环境-002": ("[judge:garbage]", "unparseable"),
    "环境-003": ("[judge:kill]", "judge-unavailable"),
    "环境-004": ("[judge:raise]", "judge-error"),
    "环境-005": ("", "ok"),
    "社会-001": ("[judge:retry-hang]", "timeout"),  # unreadable, then the retry past timeout_s
}


@pytest.mark.timeout(400)
def test_failures_by_status_equal_the_injected_faults(fault_run):
    for case_id, (fault, _) in INJECTED.items():
        if fault == "corrupt":
            fault_run.image(case_id).write_bytes(fault_run.image(case_id).read_bytes()[:200])
        elif fault == "missing":
            fault_run.image(case_id).unlink()
        elif fault:
            fault_run.change(case_id, tag=fault)
    config = fault_run.config(judge={**fault_run.judge, "method": "generate", "timeout_s": 1.5})
    result, run_dir = fault_run.run(
        config, "-n", "2", "-k", "物理 or 环境 or 社会-001", timeout=360, EB_FAULT_HANG_S="3"
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "crashed" in result.stdout
    assert (
        "物理-004: edit-error: RuntimeError: injected editor failure on 物理-004" in result.stdout
    )
    records = fault_run.records(run_dir)
    assert sorted(records) == sorted(INJECTED)  # zero results lost
    assert {k: r["status"] for k, r in records.items()} == {k: s for k, (_, s) in INJECTED.items()}
    for record in records.values():
        assert_honest(record)  # zero scores invented
    dimensions = ("SC", "PQ", "criterion")
    hung = records["环境-001"]  # the next case on that worker got its own reply, not the late 9s
    assert "judge.timeout_s=1.5s" in hung["reason"]
    assert set(hung["statuses"].values()) <= {"timeout", "missing-input"}
    garbage = records["环境-002"]
    assert {garbage["statuses"][d] for d in dimensions} == {"unparseable"}
    assert all(garbage["raw"][d].count("hard to say") == 2 for d in dimensions)  # with the retry's
    assert "died twice" in records["环境-003"]["reason"]
    retried = records["社会-001"]  # the first answer unreadable, the retry past judge.timeout_s
    assert {retried["statuses"][d] for d in dimensions} == {"timeout"}
    assert "in the retry with a format reminder" in retried["reasoning"]["SC"]
    assert "hard to say" in retried["raw"]["SC"]  # the first answer is kept
    assert "物理-003" in (run_dir / "report.html").read_text(encoding="utf-8")  # the crashed case
    expected = {}
    for _, status in INJECTED.values():
        if status != "ok":
            expected[status] = expected.get(status, 0) + 1
    micro = summary_of(run_dir)["overall"]["micro"]
    assert micro["failures"] == expected
    assert (micro["n"], micro["scored"], micro["failed"]) == (11, 2, 9)
    assert micro["dimensions"]["O"]["n"] == 2
    assert pids_alive(judge_pids(fault_run)) == []
