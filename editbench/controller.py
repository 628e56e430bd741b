"""The controller of a run: registered as a pytest plugin on the controller process only.

It creates the run folder and run.json when the session starts, and only if cases will run
(`--collect-only`, `--fixtures`, `--setup-plan` run none; `--help`, `--markers` and `--version`
start no session), so those leave no folder and `latest` unchanged. It appends each finished
case to `results.jsonl` as its report arrives (flushed and synced, so a crash loses nothing
finished), and at the end writes the summaries and reports, completes run.json, applies the
`--eb-fail-under` gate to the exit status, prints the table, and prints a failed gate as the very
last line of the output. Under xdist the controller collects nothing, so it maps each report's
node id back to its case.

A run folder that already holds `results.jsonl` (the same `--eb-run-dir` again: a rerun after
Ctrl-C, a Slurm shard resubmitted) is continued: its records are kept, a case that runs again
replaces its record (the latest wins), and at the end results.jsonl is rewritten with each case
once. run.json lists the earlier attempts under `continued`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editbench import protocols
from editbench.errors import EditbenchError
from editbench.protocols.facts import case_facts
from editbench.reporting.gate import parse_thresholds, violations
from editbench.reporting.headline_tables import terminal_lines
from editbench.reporting.junit import add_suite_properties
from editbench.reporting.records import (
    WORKER_KEY,
    latest_per_case,
    read_results,
    record_from_report,
)
from editbench.reporting.rundir import RESULTS, RUN_META, point_latest, write_reports
from editbench.reporting.runmeta import finish_meta, start_meta, write_json
from editbench.reporting.summary import summarize
from editbench.reporting.tables import table_lines
from editbench.settings import Settings


def runs_cases(config: pytest.Config) -> bool:
    """Whether this session will run cases (and so needs a run folder and a judge)."""
    option = config.option
    listing = ("collectonly", "showfixtures", "show_fixtures_per_test", "setupplan", "setuponly")
    return not any(getattr(option, name, False) for name in listing)


def case_lookup(settings: Settings) -> dict:
    """Test id -> case, also under pytest's ASCII-escaped form of the id."""
    lookup = {}
    for case in settings.suite.cases:
        lookup[case.test_id] = case
        lookup[case.test_id.encode("unicode_escape").decode("ascii")] = case
    return lookup


def param_id(nodeid: str) -> str:
    return nodeid[nodeid.index("[") + 1 : -1] if nodeid.endswith("]") and "[" in nodeid else ""


class Controller:
    """Controller-only: the run folder, the live results file, run.json, summaries and the gate."""

    def __init__(
        self,
        settings: Settings,
        run_dir: Path,
        fail_under: list[str] | None = None,
        shard: str | None = None,
        argv: list[str] | None = None,
        start_service: Callable[[], Any] | None = None,
    ) -> None:
        self.settings, self.run_dir = settings, run_dir
        self.start_service = start_service  # service mode: starts or adopts the judge endpoint
        self.fail_under, self.shard = list(fail_under or []), shard
        self.argv = list(sys.argv if argv is None else argv)
        self.by_case: dict[str, dict[str, Any]] = {}  # case id -> its latest record
        self.workers: dict[str, Any] = {}  # worker -> its editor/judge descriptions and versions
        self.summary: dict[str, Any] | None = None
        self.gate: list[str] = []
        categories = [(c.key, c.names) for c in settings.suite.categories]
        self.protocol = settings.protocol
        self.thresholds = parse_thresholds(self.fail_under, categories, self.protocol)
        self.cases = case_lookup(settings)
        self.meta: dict[str, Any] = {}  # run.json, once the run starts
        self.arrived: list[dict[str, Any]] = []  # this session's records, in order of arrival
        self.selected: list[str] | None = None  # the cases this session runs, once collected
        self.collected = False
        self.started = False
        self._results = None

    @property
    def records(self) -> list[dict[str, Any]]:
        return list(self.by_case.values())

    def start(self) -> None:
        """Create (or continue) the run folder and write run.json before any case runs."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "images").mkdir(exist_ok=True)
        point_latest(self.run_dir)
        self.meta = start_meta(self.settings, self.run_dir, self.argv, self.shard, self.fail_under)
        self.meta["protocol"] = protocols.describe(self.protocol)  # what merge and compare read
        self._continue_folder()
        write_json(self.run_dir / RUN_META, self.meta)
        self._results = open(self.run_dir / RESULTS, "a", encoding="utf-8")
        self.started = True

    def _continue_folder(self) -> None:
        """Keep an earlier run's records in this folder, each case once, and say so in run.json."""
        results = self.run_dir / RESULTS
        if not results.is_file():
            return
        kept = latest_per_case(read_results(results))
        self.by_case = {record["case_id"]: record for record in kept}
        self._rewrite_results()
        before = _read_meta(self.run_dir / RUN_META)
        earlier = {k: before.get(k) for k in ("started", "finished", "status", "exit_status")}
        self.meta["continued"] = [*before.get("continued", []), {**earlier, "cases": len(kept)}]
        self.meta["expected_cases"] = _union(
            before.get("expected_cases"), self.meta["expected_cases"]
        )
        self.previous_expected = list(before.get("expected_cases") or [])

    def _rewrite_results(self) -> None:
        """results.jsonl with each case once (its latest record), replaced atomically."""
        path = self.run_dir / RESULTS
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in self.records)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)

    def record_endpoint(self, public: dict[str, Any]) -> None:
        """Service mode: run.json names the endpoint (model, revision, engine, pid), never the key."""
        self.meta["judge"] = {**self.meta["judge"], "service": public}
        write_json(self.run_dir / RUN_META, self.meta)

    def expect(self, case_ids: list[str]) -> None:
        """Record the cases collection chose (shard, -k, -m) as this run's expected cases.

        A continued folder expects its earlier run's cases too: its reports cover both.
        """
        self.selected = list(case_ids)
        expected = _union(getattr(self, "previous_expected", None), case_ids)
        self.meta = {**self.meta, "expected_cases": expected, "expected_from": "collection"}
        write_json(self.run_dir / RUN_META, self.meta)

    def add(self, record: dict[str, Any]) -> None:
        """Append one finished case, flushed and synced to disk before the next one arrives."""
        worker = record.pop(WORKER_KEY, None)
        if worker is not None:
            self.workers[str(record.get("worker") or "main")] = worker
        self.by_case.pop(record["case_id"], None)
        self.by_case[record["case_id"]] = record
        self.arrived.append(record)
        self._results.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._results.flush()
        os.fsync(self._results.fileno())

    def finish(self, exitstatus: int) -> int:
        """Write summaries, reports and the completed run.json; apply the gate to the exit status."""
        summary = summarize(
            self.records,
            [(c.key, c.display) for c in self.settings.suite.categories],
            self.protocol,
        )
        self.gate = violations(summary, self.thresholds)
        if self.gate and exitstatus in (0, 5):
            exitstatus = 1  # pytest.ExitCode.TESTS_FAILED: the CI gate failed
        self.meta = finish_meta(self.meta, self.workers, exitstatus, self.gate)
        write_json(self.run_dir / RUN_META, self.meta)
        summary |= {"fail_under": self.fail_under, "gate_failures": self.gate}
        self.summary = write_reports(self.run_dir, self.records, self.meta, summary)
        self.close()
        self._rewrite_results()
        return exitstatus

    def summary_lines(self) -> list[str]:
        if self.summary is None:
            return []
        lines = [
            "",
            "editbench scores (mean [95% CI] per category; failed cases counted, not scored):",
            *table_lines(self.summary),
        ]
        if "protocol" in self.summary:
            lines += terminal_lines(self.summary["protocol"])
        lines += [f"editbench: FAILED --eb-fail-under {line}" for line in self.gate]
        if self.fail_under and not self.gate:
            lines.append(f"editbench: passed --eb-fail-under {' '.join(self.fail_under)}")
        lines.append(f"editbench run folder: {self.run_dir} (report.html, report.md, summary.csv)")
        return lines

    def gate_line(self, exitstatus: int) -> str | None:
        """The failed gate, said once more as the output's last line (after pytest's own counts)."""
        if not self.gate:
            return None
        return (
            f"editbench: FAILED --eb-fail-under ({'; '.join(self.gate)}): "
            f"exit status {exitstatus} although the tests themselves may have passed"
        )

    def close(self) -> None:
        if self._results is not None and not self._results.closed:
            self._results.close()

    # pytest hooks (this object is the registered controller plugin) ------------------------------

    @pytest.hookimpl(tryfirst=True)  # before xdist starts workers: they need the judge endpoint
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not runs_cases(session.config):
            return
        try:
            endpoint = self.start_service() if self.start_service else None
        except EditbenchError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.start()
        if endpoint is not None:
            self.record_endpoint(endpoint.public())

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._expect([item.nodeid for item in session.items])  # no xdist: collected here

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        self._expect(ids)  # xdist: every worker collects the same ids; the first one counts

    def _expect(self, nodeids: list[str]) -> None:
        if self.started and not self.collected:
            self.collected = True
            found = (self.cases.get(param_id(n)) for n in nodeids if "::test_edit[" in n)
            self.expect([case.id for case in found if case is not None])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        finished = report.when == "call" or (report.when in ("setup", "???") and not report.passed)
        case = self.cases.get(param_id(report.nodeid)) if "::test_edit[" in report.nodeid else None
        if finished and case is not None and self.started:
            record = record_from_report(report, case)
            if self.protocol.keeps_facts:  # what its headline rows and conditions read
                record["facts"] = case_facts(case)
            self.add(record)

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # around pytest's JUnit writer and final lines
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int):
        if self.started:
            session.exitstatus = self.finish(int(exitstatus))
            add_suite_properties(session.config, self.summary, self.run_dir)  # before JUnit writes
        result = yield
        line = self.gate_line(int(session.exitstatus))
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if line and reporter is not None:
            reporter.write_line(line, red=True, bold=True)
        return result

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for line in self.summary_lines():
            terminalreporter.write_line(line)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _union(first: list[str] | None, second: list[str]) -> list[str]:
    """Both lists' ids, each once, in order of first appearance."""
    return list(dict.fromkeys([*(first or []), *second]))
