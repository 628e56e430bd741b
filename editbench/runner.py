"""Run one case: edit (or take the edit from the cache), save it, judge it, and describe the outcome.

Plain code, no pytest: the benchmark test calls `CaseRunner.run` and turns the outcome into
`user_properties` and a pass/fail. Every value in a record is a builtin type, because records
cross execnet (xdist) and land in JUnit XML and JSON.

A case runs in two stages. The edit stage (`edit_stage`, a function of the case alone: source,
cache, editor) may run ahead of its test on the worker's edit thread (`overlap.EditAhead`), while
the judge scores the case before it; the judge stage (`judge_stage`: save the PNGs, score) always
runs in the case's own test, so each test reports its own case.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench.cache import Cache, cache_key
from editbench.cases import Case, case_seed
from editbench.config import Config
from editbench.editors import Editor, EditRequest
from editbench.errors import CaseError
from editbench.images import encode_png, sha256
from editbench.judging import Judge, JudgeInput
from editbench.overlap import EditAhead
from editbench.reporting.runmeta import versions
from editbench.schema import to_properties
from editbench.vocabulary import Status


@dataclass
class CaseOutcome:
    """What happened to one case. `status` is "ok" or the first failure's status."""

    case: Case
    status: str = Status.OK.value
    reason: str = ""
    seed: int = 0
    dimensions: dict[str, dict] = field(default_factory=dict)
    edit_s: float = 0.0
    judge_s: float = 0.0
    judge_load_s: float = 0.0  # the judge's start, paid by the case that started it: not in judge_s
    edit_cached: bool = False
    images: dict[str, str] = field(default_factory=dict)
    language: str = ""  # the language of the instruction this case ran with
    worker_info: str = ""  # JSON: editor/judge descriptions and versions, on a worker's first case

    @property
    def failed(self) -> bool:
        return self.status != Status.OK

    def fail(self, status: Status | str, reason: str) -> CaseOutcome:
        """Record the first failure; later ones keep the first's status (it is what went wrong)."""
        if not self.failed:
            self.status, self.reason = Status(status).value, reason
        return self

    def properties(self) -> list[tuple[str, Any]]:
        """Flat, builtin-typed properties for `record_property` (and so for JUnit XML), in the
        shape `editbench.schema.Record` writes down."""
        case = self.case
        own: dict[str, Any] = {
            "case_id": case.id,
            "test_id": case.test_id,
            "category": case.category.key,
            "category_name": case.category.display,
            "status": self.status,
            "reason": self.reason,
            "seed": self.seed,
            "edit_s": round(self.edit_s, 6),
            "judge_s": round(self.judge_s, 6),
            "edit_cached": self.edit_cached,
            "language": self.language,
        }
        if self.judge_load_s:
            own["judge_load_s"] = round(self.judge_load_s, 6)
        stem = case.output_stem or ""
        return to_properties(own, self.dimensions, self.images, stem, self.worker_info)


@dataclass
class Edit:
    """The edit stage's result, handed to the judge stage: the outcome so far and the PNG bytes."""

    outcome: CaseOutcome
    instruction: str = ""
    description: str = ""
    source_pngs: list[bytes] = field(default_factory=list)  # every input, in order
    edited_png: bytes | None = None


class CaseRunner:
    """Holds what one worker needs to run cases: config, editor, judge, cache and run folder.

    With `overlap`, every edit runs on one edit thread (`EditAhead`), and once a case's edit has
    succeeded the edit of `upcoming()` (the worker's next case, None when there is none or it must
    not be edited ahead) starts there while this case is judged.
    """

    def __init__(
        self,
        config: Config,
        editor: Editor,
        judge: Judge,
        run_dir: Path,
        cache: Cache,
        languages: tuple[str, ...] = ("en",),
        overlap: bool = False,
        upcoming: Callable[[], Case | None] = lambda: None,
    ) -> None:
        self.config, self.editor, self.judge = config, editor, judge
        self.run_dir, self.cache, self.languages = run_dir, cache, tuple(languages)
        # what determines an edit besides the case: it keys the edit cache
        self.editor_key = editor.describe()
        self.ahead = EditAhead(self.edit_stage, run_dir) if overlap else None
        self.upcoming = upcoming
        self._judge_started: bool | None = None  # as last described to the controller

    def run(self, case: Case) -> CaseOutcome:
        edit = self.ahead.take(case) if self.ahead else self.edit_stage(case)
        following = self.upcoming() if self.ahead and edit.edited_png is not None else None
        if following is not None:
            self.ahead.start(following)
        outcome = self.judge_stage(edit)
        self._describe_worker(outcome)
        return outcome

    def close(self) -> None:
        """Stop editing ahead (Ctrl-C, end of session): a queued edit is dropped, none is waited for."""
        if self.ahead is not None:
            self.ahead.stop()

    def _describe_worker(self, outcome: CaseOutcome) -> None:
        """The worker's description rides on its first case, and again once its judge has started
        (a gateway judge starts on its first score-cache miss); the controller keeps the latest."""
        started = bool(getattr(self.judge, "ready", True))
        if started != self._judge_started:
            self._judge_started = started
            outcome.worker_info = worker_info(self.editor_key, self.judge, self.ahead)

    def edit_stage(self, case: Case) -> Edit:
        """Load the inputs and edit them (or take the edit from the cache). Writes nothing to the
        run folder and never touches the judge, so it can run ahead of its test on another thread."""
        edit = Edit(CaseOutcome(case=case, seed=case_seed(self.config.run.seed, case)))
        outcome = edit.outcome
        try:
            outcome.language = case.language_for(self.languages)
            loaded = [ref.load() for ref in case.sources]
        except CaseError as exc:
            outcome.fail(Status.CASE_ERROR, str(exc))
            return edit
        images, edit.source_pngs = [image for image, _ in loaded], [png for _, png in loaded]
        edit.instruction, edit.description = case.text(outcome.language)
        refusal = self._refusal(case)
        if refusal:
            outcome.fail(Status.CASE_ERROR, refusal)
            return edit
        edit.edited_png = self._edit(outcome, images, edit.source_pngs, edit.instruction)
        return edit

    def judge_stage(self, edit: Edit) -> CaseOutcome:
        """Save the PNGs in the run folder and score the edit: always in the case's own test."""
        outcome, case, pngs = edit.outcome, edit.outcome.case, edit.source_pngs
        for number, png in enumerate(pngs, start=1):
            kind = "source" if number == 1 else f"source{number}"
            outcome.images[kind] = self._save(case, kind, png)
        if edit.edited_png is None:
            return outcome
        outcome.images["edited"] = self._save(case, "edited", edit.edited_png)
        self._judge(
            outcome,
            JudgeInput(
                case=case,
                source_png=pngs[0],
                edited_png=edit.edited_png,
                instruction=edit.instruction,
                description=edit.description,
                seed=outcome.seed,
                source_pngs=tuple(pngs),
            ),
        )
        return outcome

    def _refusal(self, case: Case) -> str:
        """Why the editor cannot take this case's inputs ('' when it can): never a silent first image."""
        limit = getattr(self.editor, "max_images", 1)
        count = len(case.sources)
        if limit is None or count <= limit:
            return ""
        what = self.editor_key.get("pipeline") or self.editor.name
        return (
            f"case {case.id} has {count} input images but the editor ({what}) takes {limit}; "
            "use one that takes several (editor.pipeline: QwenImageEditPlusPipeline) or leave "
            f'the case out (-k "not {case.test_id}")'
        )

    def _edit(
        self, outcome: CaseOutcome, images: list, pngs: list[bytes], instruction: str
    ) -> bytes | None:
        one = len(pngs) == 1  # one-input cases keep the key they always had
        inputs = {"source": sha256(pngs[0])} if one else {"sources": [sha256(p) for p in pngs]}
        key = cache_key(
            {
                "kind": "edit",
                "editor": self.editor_key,
                "seed": outcome.seed,
                **inputs,
                "instruction": instruction,
            }
        )
        cached = self.cache.get("edits", key) if self.config.run.cache else None
        if cached is not None:
            outcome.edit_cached = True
            return cached
        start = time.perf_counter()
        try:
            edited = self.editor.edit(
                EditRequest(
                    case=outcome.case,
                    image=images[0],
                    instruction=instruction,
                    seed=outcome.seed,
                    source_png=pngs[0],
                    images=tuple(images),
                    source_pngs=tuple(pngs),
                )
            )
        except CaseError as exc:
            outcome.fail(Status.EDIT_ERROR, str(exc))
            return None
        except Exception as exc:  # a pipeline error or CUDA OOM fails this case only
            status = Status.OOM if "out of memory" in str(exc).lower() else Status.EDIT_ERROR
            outcome.fail(status, f"{type(exc).__name__}: {exc}".strip())
            return None
        finally:
            outcome.edit_s = time.perf_counter() - start
        try:
            data = encode_png(edited)
        except (AttributeError, OSError, ValueError) as exc:
            outcome.fail(Status.EDIT_ERROR, f"the editor returned no usable image: {exc}")
            return None
        if self.config.run.cache:
            self.cache.put("edits", key, data)
        return data

    def _judge(self, outcome: CaseOutcome, item: JudgeInput) -> None:
        was_ready = getattr(self.judge, "ready", True)
        start = time.perf_counter()
        results = self.judge.score(item)
        outcome.judge_s = time.perf_counter() - start
        ready = getattr(self.judge, "ready", True)
        if not was_ready and ready:  # this case started the judge: its load is not per-case time
            load = ready.get("load_s") if isinstance(ready, dict) else None
            if isinstance(load, (int, float)) and load > 0:
                outcome.judge_load_s = min(float(load), outcome.judge_s)
                outcome.judge_s -= outcome.judge_load_s
        outcome.dimensions.update(results)
        for name, result in results.items():
            if result["status"] != Status.OK:
                outcome.fail(
                    result["status"], f"{name}: {result.get('reasoning') or result['status']}"
                )

    def _save(self, case: Case, kind: str, data: bytes) -> str:
        relative = Path("images") / case.category.key / f"{case.test_id}.{kind}.png"
        path = self.run_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return relative.as_posix()


def worker_info(editor_key: dict, judge: Judge, ahead: EditAhead | None = None) -> str:
    """What only a worker knows, for run.json: editor and judge descriptions, versions, devices,
    and whether it edited ahead (overlap)."""
    try:
        judge_description = judge.describe()
    except Exception as exc:  # a description must never fail a case
        judge_description = {"error": f"{type(exc).__name__}: {exc}"}
    data = {
        "editor": editor_key,
        "judge": judge_description,
        "versions": versions(),
        "devices": {
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "slot": os.environ.get("EDITBENCH_SLOT"),
        },
        "overlap": ahead is not None,
    }
    return json.dumps(data, ensure_ascii=False, default=str)
