"""The run folder's life through real pytest runs: when it is made, continued, marked, gated.

- commands that run no case (`--help`, `--markers`, `--fixtures`, `--collect-only`, `--version`)
  make no run folder and leave `latest` alone;
- a rerun into the same `--eb-run-dir` continues the folder: each case once in results.jsonl,
  the latest record winning, and `editbench merge` accepts it;
- an interrupted run marks every summary file (summary.json, each row of summary.csv);
- a failed `--eb-fail-under` gate is the last line of the output, after pytest's own counts.

Identity editor, no judge or the constant judge, and the fault editor where a case must wait:
the models are not the point here.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from support import REPO, bench_command, constant_judge, read_results, run_bench, write_config

PHYSICAL = [f"物理-00{i}" for i in range(1, 6)]


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "option", ["--help", "--markers", "--fixtures", "--collect-only", "--version"]
)
def test_commands_that_run_no_case_make_no_run_folder(tmp_path, option):
    config = write_config(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "earlier").mkdir()
    (reports / "latest").symlink_to("earlier", target_is_directory=True)
    result = run_bench(config, option, "-k", "物理", timeout=100)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert sorted(p.name for p in reports.iterdir()) == ["earlier", "latest"]
    assert os.readlink(reports / "latest") == "earlier"


@pytest.mark.timeout(300)
def test_a_rerun_into_the_same_run_dir_continues_it_and_merge_accepts_it(tmp_path):
    config = write_config(tmp_path)
    run_dir = tmp_path / "shard-1"
    first = run_bench(config, "-k", "物理", run_dir=run_dir)
    assert first.returncode == 0, first.stdout[-3000:]
    before = {r["case_id"]: r for r in read_results(run_dir)}
    second = run_bench(config, "-k", "物理-001 or 环境", run_dir=run_dir)
    assert second.returncode == 0, second.stdout[-3000:]
    records = read_results(run_dir)
    ids = [r["case_id"] for r in records]
    assert len(ids) == len(set(ids)) == 10, ids  # each case once: 5 物理 + 5 环境
    rerun = {r["case_id"]: r for r in records}
    assert before["物理-001"]["edit_cached"] is False
    assert rerun["物理-001"]["edit_cached"] is True  # the latest record won: its edit was cached
    assert all(rerun[c] == before[c] for c in PHYSICAL[1:])  # the others kept as they were
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "finished" and len(meta["continued"]) == 1
    assert meta["continued"][0]["status"] == "finished" and meta["continued"][0]["cases"] == 5
    assert set(meta["expected_cases"]) == set(ids)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["micro"]["n"] == 10
    merged = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "merge", str(run_dir), "-o", str(tmp_path / "m")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert len(read_results(tmp_path / "m")) == 10


@pytest.mark.timeout(300)
def test_an_interrupted_run_marks_every_summary_file_and_a_rerun_into_it_finishes(fault_run):
    for case_id in PHYSICAL[2:]:
        fault_run.change(case_id, tag="[edit:wait]")
    config = fault_run.config(judge={"backend": "none"})
    run_dir = fault_run.tmp_path / "run"
    process = subprocess.Popen(
        bench_command(config, "-p", "eb_faults", "-k", "物理", run_dir=run_dir),
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **fault_run.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(fault_run.fault_dir.glob("waiting.*")):  # a case is mid-edit, by design
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 2, output[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["run_status"] == "interrupted" and "Interrupted" in summary["note"]
    with open(run_dir / "summary.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {row["run_status"] for row in rows} == {"interrupted"}

    (fault_run.fault_dir / "release").write_text("go\n", encoding="utf-8")
    result, _ = fault_run.run(config, "-k", "物理", name="run")  # the same command, same folder
    assert result.returncode == 0, result.stdout[-3000:]
    assert sorted(fault_run.records(run_dir)) == PHYSICAL  # each case once
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["run_status"] == "finished" and "note" not in summary
    with open(run_dir / "summary.csv", encoding="utf-8", newline="") as handle:
        assert {row["run_status"] for row in csv.DictReader(handle)} == {"finished"}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_failed_gate_is_the_last_line_of_the_output(tmp_path, workers, judge_python):
    config = write_config(tmp_path, judge=constant_judge(judge_python, SC=2, PQ=3))
    result = run_bench(
        config, *workers, "-k", "物理-00", "--eb-fail-under=O=6.5", run_dir=tmp_path / "run"
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert " 5 passed" in result.stdout  # every test passed; only the gate failed
    final = last_line(result.stdout)
    assert final.startswith("editbench: FAILED --eb-fail-under (O=6.5: "), final
    assert "exit status 1" in final


@pytest.mark.timeout(300)
def test_a_passed_gate_leaves_pytest_s_counts_last(tmp_path, judge_python):
    config = write_config(tmp_path, judge=constant_judge(judge_python))  # O = sqrt(7*8) = 7.48
    result = run_bench(config, "-k", "物理-001", "--eb-fail-under=O=6.5", run_dir=tmp_path / "r")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "editbench: passed --eb-fail-under O=6.5" in result.stdout
    assert " 1 passed" in last_line(result.stdout) and "FAILED" not in result.stdout


@pytest.mark.timeout(300)
def test_a_fully_cached_rerun_starts_no_judge_and_run_json_says_so(fault_run):
    """The faulty judge logs each interpreter it starts; the rerun scores from the cache only."""
    config = fault_run.config()
    started = fault_run.fault_dir / "judge-pids"
    first, first_dir = fault_run.run(config, "-k", "物理", name="first")
    assert first.returncode == 0, first.stdout[-3000:]
    assert len(started.read_text(encoding="utf-8").split()) == 1
    meta = json.loads((first_dir / "run.json").read_text(encoding="utf-8"))
    assert meta["judge"]["describe"]["started"] is True and meta["versions"]["judge"]["python"]
    second, second_dir = fault_run.run(config, "-k", "物理", name="second")
    assert second.returncode == 0, second.stdout[-3000:]
    assert len(started.read_text(encoding="utf-8").split()) == 1  # no judge interpreter started
    records = fault_run.records(second_dir)
    assert all(all(r["cached"][d] for d in ("SC", "PQ", "criterion")) for r in records.values())
    meta = json.loads((second_dir / "run.json").read_text(encoding="utf-8"))
    assert meta["judge"]["describe"]["started"] is False
