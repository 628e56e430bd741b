"""CaseRunner without pytest or a subprocess: edit, cache, save, judge, and the outcome's status.

The runner is handed its editor and judge (as pytest-xdist's DSession is tested against a stand-in
node): the real identity editor, an editor that fails as a pipeline does, and a judge that answers
from a script, so each rule is proven in milliseconds.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PIL import Image

from editbench.cache import Cache
from editbench.config import build_config
from editbench.editors.identity import IdentityEditor
from editbench.runner import CaseRunner
from editbench.suites import load_suite
from editbench.vocabulary import Status
from support import SAMPLE_SUITE


def ok(score: float) -> dict:
    return {"score": score, "status": "ok", "raw": str(score), "reasoning": "", "seconds": 0.0,
            "cached": False}  # fmt: skip


def failed(status: str) -> dict:
    return {"score": None, "status": status, "raw": "...", "reasoning": f"judge said {status}",
            "seconds": 0.0, "cached": False}  # fmt: skip


class ScriptedJudge:
    """Answers every case with the same dimension results; counts what it was sent."""

    method = "generate"

    def __init__(self, **results: dict) -> None:
        self.results = results or {"SC": ok(9.0), "PQ": ok(4.0)}
        self.items: list = []

    def describe(self) -> dict:
        return {"backend": "scripted"}

    def score(self, item) -> dict:
        self.items.append(item)
        return {name: dict(result) for name, result in self.results.items()}

    def close(self) -> None:
        pass


class BrokenEditor(IdentityEditor):
    """Fails as a pipeline does: raises `error`, or returns something that is not an image."""

    name = "broken"

    def __init__(self, error: Exception | None = None, returns=None) -> None:
        super().__init__(None, "cpu")
        self.error, self.returns, self.calls = error, returns, 0

    def edit(self, request):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.returns


class CountingEditor(IdentityEditor):
    def __init__(self) -> None:
        super().__init__(None, "cpu")
        self.calls = 0

    def edit(self, request):
        self.calls += 1
        return super().edit(request)


@pytest.fixture(scope="module")
def cases():
    return load_suite(SAMPLE_SUITE).cases


def runner(tmp_path: Path, editor, judge, cache: bool = True, **kw) -> CaseRunner:
    config = build_config({"run": {"cache": cache, "seed": 3}}, base_dir=str(tmp_path))
    root = tmp_path / "cache" if cache else None
    return CaseRunner(config, editor, judge, tmp_path / "run", Cache(root), **kw)


def test_a_scored_case_saves_both_images_and_keeps_the_judges_dimensions(tmp_path, cases):
    judge = ScriptedJudge()
    outcome = runner(tmp_path, IdentityEditor(None, "cpu"), judge).run(cases[0])
    assert outcome.status == Status.OK and not outcome.failed
    assert (
        outcome.dimensions == judge.results
    )  # O is the protocol's (test_protocols), not the runner's
    for kind in ("source", "edited"):
        saved = tmp_path / "run" / outcome.images[kind]
        assert Image.open(saved).size == Image.open(cases[0].sources[0].path).size
    assert outcome.images["edited"] == f"images/physical/{cases[0].test_id}.edited.png"
    assert judge.items[0].instruction == cases[0].text("en")[0]


def test_a_failed_dimension_fails_the_case_with_its_status_and_name(tmp_path, cases):
    judge = ScriptedJudge(SC=ok(9.0), PQ=failed("unparseable"), O=failed("missing-input"))
    outcome = runner(tmp_path, IdentityEditor(None, "cpu"), judge).run(cases[0])
    assert outcome.status == "unparseable" and outcome.reason == "PQ: judge said unparseable"
    assert outcome.dimensions["O"]["status"] == Status.MISSING_INPUT


def test_the_first_failure_is_the_cases_status(tmp_path, cases):
    judge = ScriptedJudge(SC=failed("timeout"), PQ=failed("unparseable"))
    outcome = runner(tmp_path, IdentityEditor(None, "cpu"), judge).run(cases[0])
    assert (outcome.status, outcome.reason) == ("timeout", "SC: judge said timeout")


@pytest.mark.parametrize(
    "error, status",
    [
        (RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB"), Status.OOM),
        (ValueError("pipeline exploded"), Status.EDIT_ERROR),
    ],
)
def test_an_editor_exception_fails_this_case_only_and_is_never_judged(
    tmp_path, cases, error, status
):
    judge = ScriptedJudge()
    run = runner(tmp_path, BrokenEditor(error), judge)
    outcome = run.run(cases[0])
    assert outcome.status == status and type(error).__name__ in outcome.reason
    assert judge.items == [] and "edited" not in outcome.images and "source" in outcome.images
    assert run.run(cases[1]).status == status  # the runner itself goes on to the next case


def test_an_editor_that_returns_no_image_is_an_edit_error(tmp_path, cases):
    outcome = runner(tmp_path, BrokenEditor(returns="not an image"), ScriptedJudge()).run(cases[0])
    assert outcome.status == Status.EDIT_ERROR
    assert outcome.reason.startswith("the editor returned no usable image")


def test_a_cached_edit_is_taken_not_recomputed_and_a_disabled_cache_recomputes(tmp_path, cases):
    editor = CountingEditor()
    first = runner(tmp_path, editor, ScriptedJudge()).run(cases[0])
    again = runner(tmp_path, editor, ScriptedJudge()).run(cases[0])
    assert (first.edit_cached, again.edit_cached, editor.calls) == (False, True, 1)
    other_seed = build_config({"run": {"seed": 4}}, base_dir=str(tmp_path))
    run = CaseRunner(
        other_seed, editor, ScriptedJudge(), tmp_path / "run", Cache(tmp_path / "cache")
    )
    assert not run.run(cases[0]).edit_cached and editor.calls == 2  # the seed keys the edit
    uncached = runner(tmp_path, editor, ScriptedJudge(), cache=False).run(cases[0])
    assert not uncached.edit_cached and editor.calls == 3


def test_a_case_with_more_inputs_than_the_editor_takes_is_refused_not_cut(tmp_path, cases):
    from dataclasses import replace

    two = replace(cases[0], sources=(cases[0].sources[0], cases[1].sources[0]))
    editor = CountingEditor()
    editor.max_images = 1
    outcome = runner(tmp_path, editor, ScriptedJudge()).run(two)
    assert outcome.status == Status.CASE_ERROR and "has 2 input images" in outcome.reason
    assert editor.calls == 0


def test_the_worker_describes_itself_on_its_first_case_only(tmp_path, cases):
    run = runner(tmp_path, IdentityEditor(None, "cpu"), ScriptedJudge())
    first, second = run.run(cases[0]), run.run(cases[1])
    info = json.loads(first.worker_info)
    assert info["judge"] == {"backend": "scripted"} and info["versions"]["python"]
    assert second.worker_info == ""


def test_properties_are_flat_builtin_values(tmp_path, cases):
    outcome = runner(tmp_path, IdentityEditor(None, "cpu"), ScriptedJudge()).run(cases[0])
    props = dict(outcome.properties())
    assert props["case_id"] == cases[0].id and props["status"] == "ok"
    assert props["score.SC"] == 9.0 and props["status.PQ"] == "ok"
    assert all(isinstance(v, (str, int, float, bool, type(None))) for v in props.values())


def test_out_of_memory_while_editing_ahead_fails_that_case_when_its_own_test_runs(tmp_path, cases):
    """With overlap the next case's edit starts while this one is judged; its OOM is raised on
    that edit thread, and becomes that case's status only when its own test takes the edit."""

    class OomOnSecond(CountingEditor):
        def edit(self, request):
            if request.case.id == cases[1].id:
                self.calls, self.thread = self.calls + 1, threading.current_thread()
                raise RuntimeError(
                    f"CUDA out of memory. Tried to allocate 20.00 GiB ({request.case.id})"
                )
            return super().edit(request)

    editor, queue = OomOnSecond(), list(cases[:3])
    run = runner(tmp_path, editor, ScriptedJudge(), cache=False, overlap=True,
                 upcoming=lambda: queue[1] if len(queue) > 1 else None)  # fmt: skip
    try:
        first = run.run(queue[0])
        assert first.status == Status.OK
        queue.pop(0)
        second = run.run(queue[0])
        assert second.status == Status.OOM and "CUDA out of memory" in second.reason
        assert cases[1].id in second.reason and "edited" not in second.images
        queue.pop(0)
        assert run.run(queue[0]).status == Status.OK
    finally:
        run.close()
    assert editor.calls == 3  # each case edited once: the failed edit ahead was not redone
    assert editor.thread is not threading.current_thread()  # it was edited ahead, not in its test
