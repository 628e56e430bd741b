"""What every measurement of `editbench perf` shares: its options, run configs, and real benchmark runs.

A benchmark run here is the real thing: `python -m pytest benchmarks/ -n K --eb-config ...` in a
fresh process, with `-p perf.clock` added so the test reports' timestamps can be read
back afterwards (see `clock.py`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from editbench.errors import EditbenchError
from perf.clock import ENV as CLOCK_ENV

REPO = Path(__file__).resolve().parents[1]
DEFAULT_JUDGE_PYTHON = REPO / ".tox" / "judge" / "bin" / "python"
CONSTANT_SCORES = {"SC": 7, "PQ": 8, "criterion": 6}
SMOKE_SIZE = 32  # --smoke: the smallest image the tiny models take (the judge's 32-pixel patch)


class PerfError(EditbenchError):
    """A measurement could not be taken (a benchmark run failed, a judge did not start)."""


@dataclass
class Options:
    work: Path  # scratch folder for suites, configs, run folders and caches
    judge_python: str
    cases: int = 200
    sizes: tuple[int, ...] = (256, 1024)
    quick: bool = False
    # the test suite's wiring check: fewest cases, SMOKE_SIZE (the tiny editor keeps its 2 steps:
    # at 1 the flow-match scheduler's shift to its terminal value divides by zero, and the edit is NaN)
    smoke: bool = False
    log: list[str] = field(default_factory=list)

    def size(self, normal: int) -> int:
        """A measurement's image size: its own, or SMOKE_SIZE under --smoke."""
        return SMOKE_SIZE if self.smoke else normal

    def pick(self, full, quick, smoke):
        """A measurement's setting (cases, rounds, tokens) for the full run, --quick or --smoke."""
        return smoke if self.smoke else quick if self.quick else full

    def say(self, text: str) -> None:
        """Progress with a timestamp, flushed at once (a long run must show where it is)."""
        line = f"[{time.strftime('%H:%M:%S')}] {text}"
        self.log.append(line)
        print(line, flush=True)


def env(extra: dict | None = None) -> dict:
    """The environment of every child process: offline, no hub, plus `extra`."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(extra or {})}


def write_config(
    folder: Path, suite: Path, editor: dict, judge: dict, cache: bool = False, name: str = "config"
) -> Path:
    """A run config in `folder` with its run folders and cache kept inside `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "suite": {"path": str(suite)},
        "run": {"dir": str(folder / "reports"), "cache_dir": str(folder / "cache"), "cache": cache},
        "editor": editor,
        "judge": judge,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def constant_judge(opts: Options) -> dict:
    return {"backend": "constant", "scores": dict(CONSTANT_SCORES), "python": opts.judge_python}


@dataclass
class BenchRun:
    """One finished benchmark run: its wall time, test reports' timestamps and results.jsonl."""

    wall_s: float
    reports: list[dict]
    records: list[dict]
    run_dir: Path

    def calls(self) -> list[dict]:
        return [r for r in self.reports if r["when"] == "call"]

    def cycles(self) -> tuple[float, int]:
        """(seconds, cycles) summed over workers: from each worker's second test call's start to its
        last call's start, i.e. whole setup-call-teardown cycles, leaving out the first case (session
        fixtures load the editor and start the judge in its setup; first-use warm-up in its call) and
        the last teardown (which closes the session fixtures)."""
        seconds, count = 0.0, 0
        for worker in {r["worker"] for r in self.reports}:
            starts = sorted(r["start"] for r in self.calls() if r["worker"] == worker)
            if len(starts) > 2:
                seconds += starts[-1] - starts[1]
                count += len(starts) - 2
        return seconds, count

    def test_phase_s(self) -> float:
        """Wall time of the test phase: the first call's start to the last report's end, any worker."""
        starts = [r["start"] for r in self.calls()]
        return max(r["stop"] for r in self.reports) - min(starts)

    def call_s(self) -> list[float]:
        return [r["duration"] for r in self.calls()]

    def median_call_s(self) -> float:
        return statistics.median(self.call_s())


def run_bench(
    opts: Options,
    config: Path,
    run_dir: Path,
    workers: int,
    extra_env: dict | None = None,
    timeout: float = 1800,
    plugins: tuple[str, ...] = (),
    live: bool = False,
    args: tuple[str, ...] = (),
    ok_codes: tuple[int, ...] = (0,),
) -> BenchRun:
    """Run benchmarks/ under pytest (xdist with `workers` > 0) and read back what it wrote.

    `live` lets pytest print to this terminal as it goes (verbose) instead of capturing its output;
    `args` are more pytest options; `ok_codes` the exit statuses that count as a finished run
    (1 where failed cases are expected, e.g. a random judge's unparseable answers).
    """
    clock = run_dir.with_suffix(".clock.json")
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "perf.clock",
        "--eb-config",
        str(config),
        "--eb-run-dir",
        str(run_dir),
        "--timeout",
        str(int(timeout)),
    ]
    for plugin in plugins:
        command += ["-p", plugin]
    if workers:
        command += ["-n", str(workers)]
    if live:
        command += ["-v"]
    command += list(args)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=REPO,
            capture_output=not live,
            text=True,
            timeout=timeout,
            env=env({CLOCK_ENV: str(clock), **(extra_env or {})}),
        )
    except subprocess.TimeoutExpired:
        raise PerfError(
            f"benchmark run {run_dir.name} took over {timeout:.0f} s; command: {' '.join(command)}"
        ) from None
    wall = time.perf_counter() - start
    if done.returncode not in ok_codes or not clock.is_file():
        tail = "(its output is above)" if live else (done.stdout + done.stderr)[-3000:]
        raise PerfError(
            f"benchmark run {run_dir.name} exited {done.returncode}; command: "
            f"{' '.join(command)}\n{tail}"
        )
    reports = json.loads(clock.read_text(encoding="utf-8"))["reports"]
    return BenchRun(wall_s=wall, reports=reports, records=read_records(run_dir), run_dir=run_dir)


def read_records(run_dir: Path) -> list[dict]:
    path = run_dir / "results.jsonl"
    if not path.is_file():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator
