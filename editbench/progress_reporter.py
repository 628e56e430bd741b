"""The controller's `ProgressReporter`: the run's progress line (`progress.Progress`, plain and
tested with given times) written on pytest's terminal in the mode `--eb-progress` chose."""

from __future__ import annotations

import time

import pytest

from editbench.controller import Controller
from editbench.progress import Progress, Throttle, choose_mode


class ProgressReporter:
    """Controller only: the run's progress line (editbench.progress) on pytest's terminal, fed
    with the controller's records as cases finish, serially or under xdist.

    Where pytest would print a letter per case (no -v), the line stands for the cases instead:
    their letters and the file name before them are left out, so nothing else shares its line.
    """

    def __init__(self, controller: Controller, requested: str, interval: float) -> None:
        self.controller, self.requested = controller, requested
        self.progress = Progress(started=time.monotonic())
        self.throttle = Throttle(interval)
        self.mode, self.terminal, self.replaces_letters = "off", None, False
        self.seen, self.shown = 0, -1  # records taken in; `done` when a log line was last written

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.progress.started = time.monotonic()
        self.terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if self.terminal is None:
            return
        isatty = self.terminal.isatty  # a bool in older pytest, callable in newer
        verbosity = session.config.option.verbose
        self.mode = choose_mode(
            self.requested, isatty() if callable(isatty) else bool(isatty), verbosity
        )
        self.replaces_letters = self.mode == "line" or (self.mode == "log" and verbosity <= 0)
        if self.replaces_letters:
            self.terminal.showfspath = False

    @pytest.hookimpl(trylast=True)  # after the controller counted the selected cases
    def pytest_collection_finish(self) -> None:
        self._expect()

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_xdist_node_collection_finished(self) -> None:
        self._expect()

    def _expect(self) -> None:
        if self.controller.selected is not None:  # this session's cases, not a continued run's
            self.progress.total = len(self.controller.selected)

    @pytest.hookimpl(trylast=True)  # after the controller turned the report into a record
    def pytest_runtest_logreport(self) -> None:
        arrived = self.controller.arrived
        if self.seen == len(arrived):
            return
        for record in arrived[self.seen :]:
            self.progress.add(record)
        self.seen = len(arrived)
        self._show(final=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport):
        result = yield
        if self.replaces_letters and "::test_edit[" in report.nodeid:
            return result[0], "", ""  # the category still counts in pytest's summary
        return result

    def pytest_sessionfinish(self) -> None:
        self._show(final=True)

    def _show(self, final: bool) -> None:
        if self.mode == "off" or not self.progress.done:
            return
        now = time.monotonic()
        complete = self.progress.done == self.progress.total
        if self.mode == "line":
            if final and complete:
                return  # its last line already says "done in"
            width = self.terminal._tw.fullwidth - 1  # a wrapped line could not be rewritten
            self.terminal.rewrite(self.progress.line(now, final, width), erase=True)
            self.terminal.flush()
            self.terminal.currentfspath = -2  # pytest's mark of a taken line: others start below
            return
        # the last line is written unless it already was (a log line at most every N seconds)
        due = (
            not (complete and self.shown == self.progress.done) if final else self.throttle.due(now)
        )
        if due:
            self.terminal.write_line(self.progress.line(now, final))
            self.shown = self.progress.done
