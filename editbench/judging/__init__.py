"""Judges: turn (case, source, edited) into scores per dimension, or an explicit failure.

A dimension's result is either a score read from the judge (status "ok") or a failure status
with its reason and the judge's raw text; there is no default score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from editbench.errors import ConfigError

if TYPE_CHECKING:
    from editbench.cases import Case, Suite
    from editbench.config import Config

# Statuses of one dimension. Anything but "ok" carries no score.
OK = "ok"
FAILURE_STATUSES = ("unparseable", "out-of-range", "timeout", "judge-error", "judge-unavailable")


class DimensionResult(TypedDict):
    score: float | None
    status: str
    raw: str
    reasoning: str
    seconds: float
    cached: bool


@dataclass(frozen=True)
class JudgeInput:
    case: Case
    source_png: bytes
    edited_png: bytes
    instruction: str
    description: str
    seed: int
    source_pngs: tuple[bytes, ...] = ()  # every input image when a case has several (else empty)


@dataclass(frozen=True)
class WorkerInfo:
    """Where the judge runs: the worker's index and id, and the GPUs the worker sees."""

    index: int
    id: str
    gpus: list[str]


class Judge(Protocol):
    method: str

    def describe(self) -> dict[str, Any]:
        """Model id, revision, method, decoding parameters, versions on the judge side."""

    def score(self, item: JudgeInput) -> dict[str, DimensionResult]:
        """Scores per dimension (SC, PQ, criterion); never raises for one bad answer."""

    def close(self) -> None: ...


class NoJudge:
    """`judge.backend: none`: edits only, no scores (a dry run of the editor)."""

    method = "none"

    def describe(self) -> dict[str, Any]:
        return {"backend": "none"}

    def score(self, item: JudgeInput) -> dict[str, DimensionResult]:
        return {}

    def close(self) -> None:
        pass


def check(config: Config, suite: Suite) -> None:
    """Validate the judge section at startup (backend, interpreter, templates) without loading a model."""
    if config.judge.backend == "none":
        return
    try:
        from editbench.judging import gateway
    except ImportError as exc:  # pragma: no cover - the gateway module ships with the package
        raise ConfigError(
            f"judge.backend {config.judge.backend!r}: judging is unavailable ({exc})"
        ) from None
    if config.judge.mode == "service":
        from editbench.judging import service

        service.check(config, suite)
        return
    gateway.check(config, suite)


def open_judge(config: Config, suite: Suite, worker: WorkerInfo) -> Judge:
    """Open the judge for one worker: a gateway into the judge interpreter, or the run's judge service."""
    if config.judge.backend == "none":
        return NoJudge()
    if config.judge.mode == "service":
        from editbench.judging import service

        return service.open_judge(config, suite, worker)
    from editbench.judging import gateway

    return gateway.open_judge(config, suite, worker)
