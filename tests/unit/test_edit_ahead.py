"""EditAhead: one edit thread per worker, edits ahead marked in the run folder, results kept."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from editbench.overlap import MARKER, EditAhead, enabled


@dataclass(frozen=True)
class Case:
    test_id: str


class Stage:
    """An edit stage that says which thread ran it and, for `hold`, waits until the test allows."""

    def __init__(self, run_dir, hold: str | None = None, fail: str | None = None) -> None:
        self.run_dir, self.hold, self.fail = run_dir, hold, fail
        self.threads: list[int] = []
        self.ran: list[str] = []
        self.started, self.release = threading.Event(), threading.Event()
        self.marked_while_running: list[bool] = []

    def __call__(self, case: Case) -> str:
        self.threads.append(threading.get_ident())
        self.ran.append(case.test_id)
        self.marked_while_running.append((self.run_dir / f"{MARKER}{case.test_id}").exists())
        if case.test_id == self.hold:
            self.started.set()
            assert self.release.wait(30)
        if case.test_id == self.fail:
            raise RuntimeError(f"CUDA out of memory on {case.test_id}")
        return f"edited {case.test_id}"


def test_every_edit_runs_on_one_thread_that_is_not_the_tests(tmp_path):
    stage = Stage(tmp_path)
    ahead = EditAhead(stage, tmp_path)
    assert ahead.take(Case("a")) == "edited a"
    assert ahead.start(Case("b")) is True
    assert ahead.take(Case("b")) == "edited b"
    assert ahead.take(Case("c")) == "edited c"
    assert len(set(stage.threads)) == 1 and stage.threads[0] != threading.get_ident()
    ahead.stop()


def test_an_edit_ahead_is_marked_in_the_run_folder_while_it_runs(tmp_path):
    stage = Stage(tmp_path, hold="b")
    ahead = EditAhead(stage, tmp_path)
    assert ahead.start(Case("b"))
    assert stage.started.wait(30)
    assert (tmp_path / f"{MARKER}b").read_text(encoding="utf-8").startswith("pid ")
    stage.release.set()
    assert ahead.take(Case("b")) == "edited b"
    assert ahead.take(Case("c")) == "edited c"  # edited in its own test: not marked
    assert stage.marked_while_running == [True, False]
    assert list(tmp_path.iterdir()) == []
    ahead.stop()


def test_a_case_a_dead_worker_left_mid_edit_is_edited_in_its_own_test(tmp_path):
    (tmp_path / f"{MARKER}b").write_text("pid 1\n", encoding="utf-8")
    stage = Stage(tmp_path)
    ahead = EditAhead(stage, tmp_path)
    assert ahead.start(Case("b")) is False
    assert stage.ran == []  # nothing ran ahead
    assert ahead.take(Case("b")) == "edited b"
    assert (tmp_path / f"{MARKER}b").exists()  # still there for the next worker to see
    ahead.stop()


def test_what_an_edit_ahead_raises_is_raised_by_its_own_take(tmp_path):
    ahead = EditAhead(Stage(tmp_path, fail="b"), tmp_path)
    assert ahead.start(Case("b"))
    with pytest.raises(RuntimeError, match="CUDA out of memory on b"):
        ahead.take(Case("b"))
    assert ahead.take(Case("c")) == "edited c"  # the thread lives on
    assert list(tmp_path.iterdir()) == []
    ahead.stop()


def test_stop_waits_for_nothing_and_drops_what_is_queued(tmp_path):
    stage = Stage(tmp_path, hold="a")
    ahead = EditAhead(stage, tmp_path)
    assert ahead.start(Case("a")) and ahead.start(Case("b"))
    assert stage.started.wait(30)
    queued = ahead.futures["b"]
    ahead.stop()  # returns while "a" is still being edited
    assert queued.cancelled()
    assert list(tmp_path.iterdir()) == []  # stopped, not crashed: no marker left
    assert ahead.start(Case("c")) is False
    with pytest.raises(RuntimeError, match="editing stopped"):
        ahead.take(Case("c"))
    stage.release.set()
    ahead.thread.join(30)
    assert stage.ran == ["a"]  # "b" never ran


@pytest.mark.parametrize(
    ("configured", "maxfail", "stepwise", "expected"),
    [
        (True, 0, False, True),
        (True, None, False, True),
        (False, 0, False, False),
        (True, 1, False, False),
        (True, 3, False, False),
        (True, 0, True, False),
    ],
)
def test_overlap_is_off_where_a_failure_stops_the_session(configured, maxfail, stepwise, expected):
    assert enabled(configured, maxfail, stepwise) is expected
