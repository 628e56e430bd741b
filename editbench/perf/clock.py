"""A pytest plugin for `editbench perf`: the controller writes every test report's timestamps to JSON.

Loaded with `-p editbench.perf.clock` and active only when `EDITBENCH_PERF_CLOCK` names the output
file. Under xdist the controller receives the workers' reports, which carry pytest's own `start` and
`stop` wall-clock stamps, so the spans of the test phase are read after the run without touching
the benchmark's code.
"""

from __future__ import annotations

import json
import os
import time

import pytest

ENV = "EDITBENCH_PERF_CLOCK"
_rows: list[dict] = []
_marks: dict[str, float] = {}


def _active(config: pytest.Config) -> bool:
    return bool(os.environ.get(ENV)) and not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    _marks["session_start"] = time.time()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    _rows.append(
        {
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "worker": getattr(gateway, "id", None) or "main",
            "start": float(report.start),
            "stop": float(report.stop),
            "duration": float(report.duration),
        }
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _active(session.config):
        return
    _marks["session_finish"] = time.time()
    with open(os.environ[ENV], "w", encoding="utf-8") as handle:
        json.dump({"marks": _marks, "reports": _rows}, handle)
