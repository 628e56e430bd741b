"""Edit ahead: the worker's next case is edited while the judge scores this one.

Wall time per case becomes max(edit, judge) instead of their sum. One daemon thread per worker
runs every edit stage of that worker, in order, one at a time: the diffusers pipeline (which
loads lazily, on its first edit) only ever runs on that thread, and the judge (an execnet
channel or the service client) only ever on the test's thread. Nothing else is shared.

What the thread returns or raises is kept until the case's own test takes it: an editor error
or an out-of-memory during an edit ahead fails that case, with the status it would have had,
when its test runs, and never the case being judged meanwhile.

A worker that dies mid-edit must not take the next worker with it: while an edit runs ahead of
its test, a file `editing-ahead.<test id>` in the run folder says so, and it is removed when the
edit ends. A case whose file is already there (left by a dead worker; xdist gives the case to
another worker) is not edited ahead again, but in its own test, so if it kills that worker too it
loses only itself. The file is also where to look when a crash report names an innocent case.

Daemon, and never joined: Ctrl-C or the end of the session (`stop`) drops what is queued and
leaves an edit in progress to die with the process, instead of waiting for it.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from editbench.cases import Case

T = TypeVar("T")
MARKER = "editing-ahead."  # + test id: an edit running ahead of its test, in the run folder


def enabled(configured: bool, maxfail: int | None, stepwise: bool) -> bool:
    """run.overlap, except where a failure stops the session (-x, --maxfail, --stepwise): the case
    after a failure must never be edited, and an edit ahead would start before the failure is
    known (the judge's answer decides it)."""
    return configured and not (maxfail or stepwise)


class EditAhead(Generic[T]):
    """Runs `stage(case)` on one edit thread: ahead of a case's test (`start`) or for it (`take`)."""

    def __init__(self, stage: Callable[[Case], T], run_dir: Path) -> None:
        self.stage, self.run_dir = stage, run_dir
        # test id -> its edit; only the test's thread touches it
        self.futures: dict[str, Future] = {}
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.stopped = False

    def start(self, case: Case) -> bool:
        """Begin editing `case` ahead of its test; False where a dead worker left it mid-edit."""
        if self.stopped or case.test_id in self.futures or self.marker(case).exists():
            return False
        try:
            self.marker(case).write_text(f"pid {os.getpid()}\n", encoding="utf-8")
        except OSError:
            return False  # no marker, no edit ahead: the case is edited in its own test
        self.futures[case.test_id] = self._submit(case, ahead=True)
        return True

    def take(self, case: Case) -> T:
        """The edit stage's result for `case`: the one started ahead, else one run now (same thread).

        Whatever the stage raised is raised here, in the case's own test.
        """
        if self.stopped:
            raise RuntimeError("editing stopped: no case runs after the session's end")
        future = self.futures.pop(case.test_id, None) or self._submit(case, ahead=False)
        return future.result()

    def stop(self) -> None:
        """Drop queued edits, let the thread end after the current one, wait for nothing."""
        if self.stopped:
            return
        self.stopped = True
        for test_id, future in self.futures.items():
            future.cancel()
            self._unmark(test_id)  # stopped, not crashed: nothing to warn the next worker of
        self.futures.clear()
        self.jobs.put(None)

    def marker(self, case: Case) -> Path:
        return self.run_dir / f"{MARKER}{case.test_id}"

    def _unmark(self, test_id: str) -> None:
        try:
            (self.run_dir / f"{MARKER}{test_id}").unlink(missing_ok=True)
        except OSError:
            pass  # a marker that cannot go only stops this case being edited ahead again

    def _submit(self, case: Case, ahead: bool) -> Future:
        future: Future = Future()
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name="editbench-edit", daemon=True)
            self.thread.start()
        self.jobs.put((case, future, ahead))
        return future

    def _loop(self) -> None:
        while (job := self.jobs.get()) is not None:
            case, future, ahead = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self.stage(case))
            except BaseException as exc:  # noqa: BLE001 - kept for the case's own test to raise
                future.set_exception(exc)
            finally:
                if ahead:
                    self._unmark(case.test_id)
