"""`editbench perf`: the smoke run (`--smoke`: fewest cases, 32-pixel images, fewest new tokens)
writes perf.json with every field of every measurement.

Timings are never asserted (they depend on the machine and its load); what is asserted is that every
measurement ran, produced its figures and the behaviour they rest on (cached rerun, equal scores over
the gateway and in-process, bit-identical logit scores, the greedy text the fast decode keeps, the
overlap's requests to its server). `--quick` and the full run measure at their own sizes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from perf.bench import REPO
from perf.report import TARGETS, judge_targets, table
from perf.runner import MEASUREMENTS, main

FIELDS = {
    "overhead": {"definition", "workers", "sizes", "elapsed_s"},
    "transport": {
        "definition",
        "cases",
        "size",
        "gateway_s_per_case",
        "in_process_s_per_case",
        "old_way_s_per_case",
        "gateway_vs_in_process",
        "gateway_wall_vs_in_process_wall",
        "gateway_ms",
        "old_way_vs_gateway",
        "gateway_scores_equal_in_process",
        "elapsed_s",
    },
    "scaling": {"definition", "cases", "size", "n1", "n2", "speedup", "elapsed_s"},
    "cache": {
        "definition",
        "cases",
        "size",
        "first_calls_s",
        "rerun_calls_s",
        "speedup",
        "first_run_wall_s",
        "rerun_wall_s",
        "rerun_fully_cached_cases",
        "wall_speedup",
        "rerun_judge_started",
        "elapsed_s",
    },
    "method": {
        "definition",
        "cases",
        "size",
        "max_new_tokens",
        "logit_s_per_case",
        "generate_s_per_case",
        "generate_vs_logit",
        "logit_bit_identical",
        "generated_chars_per_answer",
        "elapsed_s",
    },
    "overlap": {
        "definition",
        "cases",
        "size",
        "edit_s",
        "constant",
        "latency",
        "cpu",
        "constant_cost",
        "latency_speedup",
        "cpu_speedup",
        "cpu_headroom",
        "elapsed_s",
    },
    "startup": {
        "definition",
        "cases",
        "collect_only_s",
        "collect_only_runs_s",
        "pytest_alone_s",
        "collect_only_imported",
        "first_run_wall_s",
        "rerun_wall_s",
        "rerun_wall_speedup",
        "rerun_fully_cached_cases",
        "rerun_judge_started",
        "cleared_pythondontwritebytecode",
        "elapsed_s",
    },
    "judge": {
        "definition",
        "cases",
        "max_new_tokens",
        "today_s_per_case",
        "fast_s_per_case",
        "stop_s_per_case",
        "service_s_per_case",
        "fast_vs_today",
        "stop_vs_today",
        "service_vs_today",
        "best_vs_today",
        "fast_same_greedy_text",
        "elapsed_s",
    },
}
SIZE_FIELDS = {
    "cases",
    "cycles_timed",
    "harness_ms_per_case",
    "loop_ms_per_case",
    "loop_ms_before_after",
    "overhead_ms_per_case",
    "loop_spread_ms",
    "median_call_ms",
    "run_wall_s",
    "test_phase_s",
}
SCALING_FIELDS = {"test_phase_s", "cases_per_s", "median_call_s", "run_wall_s"}


def check_overhead(m: dict) -> None:
    sizes = m["sizes"]
    assert list(sizes) == ["32"] and SIZE_FIELDS <= set(sizes["32"])
    at = sizes["32"]  # the figures agree with each other (the timings themselves vary)
    assert at["overhead_ms_per_case"] == pytest.approx(
        at["harness_ms_per_case"] - at["loop_ms_per_case"]
    )
    assert at["loop_ms_per_case"] == pytest.approx(sum(at["loop_ms_before_after"]) / 2)


def check_scaling(m: dict) -> None:
    for workers in ("n1", "n2"):
        assert SCALING_FIELDS <= set(m[workers])


def check_cached_rerun(m: dict) -> None:
    assert m["rerun_fully_cached_cases"] == m["cases"]
    assert m["rerun_judge_started"] is False  # a cached rerun loads no judge


def check_startup(m: dict) -> None:
    assert m["collect_only_imported"] == []  # no model library while collecting
    check_cached_rerun(m)


def check_overlap(m: dict) -> None:
    assert m["latency"]["server_requests"] == 2 * 3 * m["cases"]  # 3 dimensions, off and on


def holds(key: str):
    def check(m: dict) -> None:
        assert m[key] is True, (key, m)

    return check


CHECKS = {  # the behaviour each measurement's figures rest on
    "overhead": check_overhead,
    "transport": holds("gateway_scores_equal_in_process"),
    "scaling": check_scaling,
    "cache": check_cached_rerun,
    "method": holds("logit_bit_identical"),  # across two fresh judge interpreters
    "overlap": check_overlap,
    "startup": check_startup,
    "judge": holds("fast_same_greedy_text"),  # the fast decode writes the plain decode's text
}


@pytest.mark.slow  # each well under a minute of CPU; apart, so that xdist spreads them
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", MEASUREMENTS)
def test_smoke_run_writes_every_field(tmp_path, name):
    out = tmp_path / "perf"
    done = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "perf", "--smoke", f"--only={name}"]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=540,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    data = json.loads((out / "perf.json").read_text(encoding="utf-8"))
    assert {
        "version",
        "created",
        "elapsed_s",
        "machine",
        "options",
        "measurements",
        "targets",
        "log",
    } <= set(data)
    assert data["options"]["smoke"] is True and data["options"]["sizes"] == [32]
    assert list(data["measurements"]) == [name] == data["options"]["only"]
    measured = data["measurements"][name]
    assert "error" not in measured, measured["error"]
    assert FIELDS[name] <= set(measured), FIELDS[name] - set(measured)
    CHECKS[name](measured)
    assert len(data["targets"]) == len(TARGETS)
    rows = [row for target, row in zip(TARGETS, data["targets"], strict=True) if target[1] == name]
    assert rows and all(row["value"] is not None and row["met"] in (True, False) for row in rows)
    assert "met" in done.stdout
    assert name != "overhead" or "overhead per case at 32²" in done.stdout
    assert not (out / "work").exists()  # scratch suites and run folders are removed


def test_a_failed_measurement_is_reported_not_measured():
    rows = judge_targets(
        {
            "transport": {"error": "judge did not start\ntraceback"},
            "cache": {"speedup": 80.0},
            "scaling": {"speedup": 1.2},
        }
    )
    by_name = {row["target"]: row for row in rows}
    assert by_name["judge: gateway vs in-process"]["met"] is None
    assert "judge did not start" in by_name["judge: gateway vs in-process"]["why"]
    assert by_name["cache: first run vs unchanged rerun"]["met"] is True
    assert by_name["scaling: -n 2 vs -n 1 throughput"]["met"] is False
    assert by_name["judge method: logit scores bit-identical"]["why"] == "not run (--only)"
    lines = "\n".join(table(rows))
    assert "NOT MET" in lines and "not measured" in lines


def test_bad_options_fail_with_one_clear_error(tmp_path, capsys):
    from editbench.errors import ConfigError

    with pytest.raises(ConfigError, match="--only 'overhead,speed': choose from"):
        main(["--only", "overhead,speed", "--out", str(tmp_path)])
    with pytest.raises(ConfigError, match="--judge-python .*no such interpreter"):
        main(["--judge-python", str(tmp_path / "nope"), "--out", str(tmp_path)])


@pytest.mark.timeout(120)
def test_real_size_without_cuda_fails_fast(tmp_path, monkeypatch):
    """`editbench perf --real-size` on a machine without CUDA stops at once with one line
    (`python -m perf` prints an EditbenchError as `editbench perf: error: ...`, exit 2)."""
    from editbench.errors import EditbenchError

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: the real-size mode would run")
    monkeypatch.delenv("EDITBENCH_PERF_REALSIZE_SHRINK", raising=False)
    with pytest.raises(EditbenchError, match="--real-size needs a CUDA GPU"):
        main(["--real-size", "--out", str(tmp_path)])
    assert not (tmp_path / "work").exists()


@pytest.mark.timeout(900)
def test_a_real_size_run_killed_midway_keeps_its_finished_stages(tmp_path):
    """The shrunk real-size run on the CPU, killed once its first stage is written: the JSON it
    leaves holds that stage and says the run is not complete."""
    run = subprocess.Popen(
        [sys.executable, "-m", "perf", "--real-size", "--budget=300", f"--out={tmp_path}"],
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "EDITBENCH_PERF_REALSIZE_SHRINK": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its pytest and judge children go with it
    )
    seen = []
    try:
        for line in run.stdout:  # blocks on the run's own output: no sleeping, no clock
            seen.append(line)
            if "stage harness: DONE" in line or "stage harness: FAILED" in line:
                break
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    assert any("stage harness: DONE" in line for line in seen), "".join(seen)[-4000:]
    data = json.loads((tmp_path / "perf-realsize.json").read_text(encoding="utf-8"))
    assert data["complete"] is False
    assert [s["stage"] for s in data["stages"]] == ["harness"]
    assert data["stages"][0]["status"] == "done" and data["stages"][0]["ratio"] > 0
    assert data["plan"]["cases"] >= 3 and data["budget_s"] == 300
