"""Live progress in real runs: rewritten in place on a terminal (a pseudo-terminal here), plain
lines in a piped log, quiet with -q, and right with -x, --lf and --eb-shard.

Times are not asserted (the unit tests give the line its times); these check which lines appear.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import REPO, bench_command, constant_judge, run_bench, write_config

pytestmark = pytest.mark.timeout(300)
LINE = re.compile(r"editbench (\d+)/(\d+) \| (ETA [^|]+|done in \S+|stopped after \S+) \|")


def progress(text: str) -> list[tuple[int, int, str]]:
    """(done, total, tail) of every progress line, in order, however it was written."""
    return [(int(d), int(t), tail.strip()) for d, t, tail in LINE.findall(text)]


def run_in_terminal(
    command: list[str], timeout: float = 240, columns: int = 200, env: dict | None = None
) -> str:
    """Run `command` with a pseudo-terminal as its stdout and stderr (a 200-column one)."""
    primary, secondary = pty.openpty()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": str(columns),
        "LINES": "50",
        **(env or {}),
    }
    proc = subprocess.Popen(
        command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(primary)
    return b"".join(chunks).decode("utf-8", errors="replace")


@pytest.fixture
def constant_config(tmp_path, judge_python) -> Path:
    return write_config(tmp_path, judge=constant_judge(judge_python))


def test_terminal_shows_one_line_rewritten_in_place(tmp_path, constant_config):
    command = bench_command(constant_config, "-n", "2", run_dir=tmp_path / "run")
    output = run_in_terminal(command)
    assert "25 passed" in output, output[-3000:]
    lines = progress(output)
    assert [done for done, _, _ in lines] == list(range(1, 26))
    assert lines[-1][1] == 25 and lines[-1][2].startswith("done in")
    first, last = output.index("\reditbench 1/25 "), output.index("\reditbench 25/25 ")
    assert output[first:last].count("\reditbench ") == 24  # each rewinds to the line's start...
    assert "\n" not in output[first:last]  # ...of one and the same line
    assert "[100%]" not in output  # pytest's dots and percentages are not printed beside it


def test_piped_log_has_plain_lines(tmp_path, constant_config):
    result = run_bench(
        constant_config, "-n", "2", "--eb-progress-interval=0", run_dir=tmp_path / "run"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "\r" not in result.stdout
    written = [
        line for line in result.stdout.splitlines() if line.startswith("editbench ") and "|" in line
    ]
    assert [done for done, _, _ in progress("\n".join(written))] == list(range(1, 26))
    assert written[-1].split(" | ")[1].startswith("done in")
    assert re.search(
        r"\| \d+(\.\d)? cases/min \| edit \d+\.\d\ds, judge \d+\.\d\ds( \(load \d+\.\ds\))? "
        r"\| failed 0$",
        written[-1],
    )


def test_quiet_with_q_and_off_on_request(tmp_path):
    config = write_config(tmp_path)
    quiet = run_bench(config, "-q", "-k", "物理", run_dir=tmp_path / "q")
    off = run_bench(config, "--eb-progress=off", "-k", "物理", run_dir=tmp_path / "off")
    log = run_bench(config, "-q", "--eb-progress=log", "-k", "物理", run_dir=tmp_path / "log")
    assert quiet.returncode == off.returncode == log.returncode == 0
    assert progress(quiet.stdout) == [] and progress(off.stdout) == []
    assert progress(log.stdout)[-1][:2] == (5, 5)


def test_failures_by_status_and_stop_on_x(fault_run):
    fault_run.change("物理-002", tag="[edit:raise]")
    config = fault_run.config(judge={"backend": "none"})
    result, _ = fault_run.run(config, "-x", "-k", "物理", "--eb-progress=log")
    assert result.returncode == 1
    last = [line for line in result.stdout.splitlines() if line.startswith("editbench 2/5")][-1]
    assert last.split(" | ")[1].startswith("stopped after")
    assert last.endswith("| failed 1: edit-error 1")


def test_last_failed_counts_only_the_rerun_cases(fault_run):
    """--lf with the cache provider on (a plain `python -m pytest`, as a user runs it)."""
    fault_run.change("物理-003", tag="[edit:raise]")
    config = fault_run.config(judge={"backend": "none"})
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        f"--eb-config={config}",
        f"--override-ini=cache_dir={fault_run.tmp_path / 'pytest-cache'}",
        "-p",
        "eb_faults",
        "-k",
        "物理",
        "--eb-progress=log",
    ]
    env = {**os.environ, **fault_run.env()}
    outputs = []
    for name, extra in (("first", []), ("again", ["--lf"])):
        run_dir = f"--eb-run-dir={fault_run.tmp_path / name}"
        done = subprocess.run(
            [*command, *extra, run_dir],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
        )
        assert done.returncode == 1, done.stdout[-3000:]
        outputs.append(progress(done.stdout)[-1])
    assert outputs[0][:2] == (5, 5) and outputs[1][:2] == (1, 1)


def test_shard_total_is_the_shard_cases(tmp_path):
    run_dir = tmp_path / "run"
    result = run_bench(write_config(tmp_path), "-n", "2", "--eb-shard=2/3", run_dir=run_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    expected = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["expected_cases"]
    assert 0 < len(expected) < 25
    assert progress(result.stdout)[-1][:2] == (len(expected), len(expected))


def test_a_narrow_terminal_drops_detail_but_never_the_failed_count(fault_run):
    """At 60 columns each rewrite fits the terminal, and the last one still ends `failed 2`."""
    fault_run.change("物理-002", tag="[edit:raise]")
    fault_run.change("物理-004", tag="[judge:garbage]")
    config = fault_run.config()
    command = bench_command(
        config, "-p", "eb_faults", "-k", "物理", run_dir=fault_run.tmp_path / "r"
    )
    output = re.sub(
        r"\x1b\[[0-9;]*m", "", run_in_terminal(command, columns=60, env=fault_run.env())
    )
    assert "2 failed, 3 passed" in output, output[-3000:]
    shown = [
        part.split("\n")[0].rstrip() for part in output.split("\r") if part.startswith("editbench ")
    ]
    assert shown and all(len(line) < 60 for line in shown), shown
    assert shown[-1].startswith("editbench 5/5 | done in") and shown[-1].endswith("| failed 2")


def test_the_judge_load_is_shown_apart_from_the_per_case_judge_time(fault_run):
    """The case that started the judge records its load as judge_load_s, not in judge_s."""
    config = fault_run.config(editor={"backend": "identity"})
    result, run_dir = fault_run.run(
        config, "-p", "no:xdist", "-k", "物理", "--eb-progress=log", EB_FAULT_LOAD_S="5"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    loaded = [r for r in records if r.get("judge_load_s")]
    assert len(loaded) == 1 and loaded[0]["judge_load_s"] >= 5.0  # the judge slept 5 s to start
    assert loaded[0]["judge_s"] < loaded[0]["judge_load_s"]
    last = [line for line in result.stdout.splitlines() if line.startswith("editbench 5/5")][-1]
    assert re.search(r"judge \d+\.\d\ds \(load \d+\.\ds\)", last), last
