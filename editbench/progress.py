"""The live progress of a run: one line saying how far it is, what failed, how fast it goes.

    editbench 12/25 | ETA 2m41s | 4.8 cases/min | edit 10.21s, judge 1.93s | failed 2: edit-error 1, timeout 1

- `12/25`: finished cases of those this run selected (after -k, -m, --lf, --eb-shard);
- `ETA`: the remaining cases at the rate so far; at the end `done in`, or `stopped after` when
  the run ended early (-x, Ctrl-C);
- `cases/min`: finished cases per minute since the session started, model loading included;
- `edit`, `judge`: mean seconds per case over the cases whose edit (or judging) ran, the cached
  ones counted apart (`(3 cached)`); the judge's start (loading its model, paid once per worker by
  the case that started it) is shown apart as its mean over the workers (`load 18.4s`);
- `failed`: finished cases without a score, by status (as in the summary table).

A line wider than the terminal drops its least needed parts first (the failures by status, then
the mean times, then the rate), so the count of finished and failed cases always shows.

Plain code: `Progress.add` is fed the controller's records and `line` is told the time, so both
are tested with given times. The plugin's `ProgressReporter` writes the line on pytest's terminal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from editbench.vocabulary import Status

MODES = ("auto", "off", "line", "log")


def choose_mode(requested: str, isatty: bool, verbosity: int) -> str:
    """`auto`: off with -q, one line rewritten in place on a terminal, plain lines otherwise
    (a CI log, a file, or -v, whose per-test lines a rewritten line would garble)."""
    if requested != "auto":
        return requested
    if verbosity < 0:
        return "off"
    return "line" if isatty and verbosity == 0 else "log"


@dataclass
class Mean:
    """A running mean of the seconds of the cases that ran the step, the cached ones apart."""

    total: float = 0.0
    count: int = 0
    cached: int = 0

    def add(self, seconds: Any, cached: bool) -> None:
        if cached:
            self.cached += 1
        elif isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
            self.total += seconds
            self.count += 1

    def text(self, name: str, load: Mean | None = None) -> str:
        shown = f"{name} {self.total / self.count:.2f}s" if self.count else f"{name} -"
        extras = [f"{self.cached} cached"] if self.cached else []
        if load is not None and load.count:
            extras.append(f"load {load.total / load.count:.1f}s")
        return shown + (f" ({', '.join(extras)})" if extras else "")


@dataclass
class Progress:
    """Counts and times of the finished cases of a run that started at `started` (seconds)."""

    started: float
    total: int | None = None
    done: int = 0
    failures: Counter = field(default_factory=Counter)
    edit: Mean = field(default_factory=Mean)
    judge: Mean = field(default_factory=Mean)
    judge_load: Mean = field(default_factory=Mean)

    def add(self, record: dict[str, Any]) -> None:
        self.done += 1
        status = str(record.get("status") or Status.ERROR.value)
        if status != Status.OK:
            self.failures[status] += 1
        self.edit.add(record.get("edit_s"), bool(record.get("edit_cached")))
        cached = record.get("cached") or {}
        self.judge.add(record.get("judge_s"), bool(cached) and all(cached.values()))
        self.judge_load.add(record.get("judge_load_s"), False)

    def line(self, now: float, final: bool = False, width: int | None = None) -> str:
        """The progress line; with `width`, the fullest form of it that fits in that many columns."""
        elapsed = max(now - self.started, 0.0)
        count = f"{self.done}/{self.total}" if self.total is not None else f"{self.done} done"
        times = f"{self.edit.text('edit')}, {self.judge.text('judge', self.judge_load)}"
        head = [f"editbench {count}", self._tail(elapsed, final)]
        rate = self._rate(elapsed)
        forms = [
            [*head, rate, times, self._failed()],
            [*head, rate, times, self._failed(detail=False)],
            [*head, rate, self._failed(detail=False)],
            [*head, self._failed(detail=False)],
        ]
        lines = [" | ".join(parts) for parts in forms]
        if width is None:
            return lines[0]
        return next((line for line in lines if len(line) <= width), lines[-1][:width])

    def _failed(self, detail: bool = True) -> str:
        failed = sum(self.failures.values())
        if not failed or not detail:
            return f"failed {failed}"
        by_status = ", ".join(f"{s} {n}" for s, n in sorted(self.failures.items()))
        return f"failed {failed}: {by_status}"

    def _rate(self, elapsed: float) -> str:
        if elapsed <= 0:
            return "- cases/min"
        rate = self.done * 60 / elapsed
        return f"{rate:.0f} cases/min" if rate >= 100 else f"{rate:.1f} cases/min"

    def _tail(self, elapsed: float, final: bool) -> str:
        if self.total is not None and self.done >= self.total:
            return f"done in {duration(elapsed)}"
        if final:
            return f"stopped after {duration(elapsed)}"
        if self.total is None or not self.done or elapsed <= 0:
            return "ETA -"
        return f"ETA {duration((self.total - self.done) * elapsed / self.done)}"


def duration(seconds: float) -> str:
    """41s, 2m41s, 1h02m."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass
class Throttle:
    """`log` mode: at most one line per `interval` seconds (the first one at once)."""

    interval: float
    last: float | None = None

    def due(self, now: float) -> bool:
        if self.last is not None and now - self.last < self.interval:
            return False
        self.last = now
        return True
