"""Judges: turn (case, source, edited) into scores per dimension, or an explicit failure.

A dimension's result is either a score read from the judge (status `ok`) or a failure status
with its reason and the judge's raw text; there is no default score. This module holds the
shapes every judge shares; `modes` checks and opens the configured one:

- `gateway`: the worker's side of gateway mode (one execnet gateway per worker);
- `remote`: what runs inside the judge interpreter, and the messages it speaks;
- `client`: the worker's side of service mode (HTTP to one shared endpoint);
- `chat_api`: the chat-completions API both sides of service mode speak (endpoint, bodies,
  replies, POST);
- `launch`: the controller's side of service mode (start, health-check and stop a server);
- `resolve`: the judge settings both modes share; `scoring`, `answers`, `derive`, `results`,
  `parsing`: the transport-free core that turns a case into requests under the run's protocol
  (`editbench.protocols`) and answers into results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

if TYPE_CHECKING:
    from editbench.cases import Case


class DimensionResult(TypedDict):
    """One dimension of one case; `status` is a `vocabulary.Status` value, and only `ok` has a score."""

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
