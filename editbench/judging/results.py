"""A dimension's result as it crosses execnet and lands in a record, one judge request, and a
failed one.

Shared by the `Scorer` (judging/scoring.py) and the derivation of dimensions (judging/derive.py).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from editbench.judging import DimensionResult
from editbench.protocols import model as m
from editbench.vocabulary import Status

Send = Callable[[list, str, dict], dict]  # (items, method, decoding) -> ScoreReply


class JudgeFailure(Exception):
    """The whole request failed: timeout, judge-error or judge-unavailable, with the judge's text."""

    def __init__(self, status: Status | str, reason: str, raw: str = "") -> None:
        super().__init__(reason)
        self.status, self.reason, self.raw = Status(status).value, reason, raw


def result(
    score: float | None,
    status: Status | str,
    raw: str = "",
    reasoning: str = "",
    seconds: float = 0.0,
    **extra,
) -> DimensionResult:
    """One dimension's result; the status is stored as its plain string (it crosses execnet)."""
    return {
        "score": score,
        "status": Status(status).value,
        "raw": raw,
        "reasoning": reasoning,
        "seconds": float(seconds),
        "cached": False,
        **extra,
    }


def samples_result(parsed: list, raw: str, seconds: float) -> DimensionResult:
    """An ok result from one or more parsed samples (all of them read): their mean, with the
    spread and the number of samples, and their reasonings joined."""
    scores = [p.score for p in parsed]
    reasoning = parsed[0].reasoning if len(parsed) == 1 else " | ".join(p.reasoning for p in parsed)
    return result(
        statistics.fmean(scores),
        Status.OK,
        raw,
        reasoning,
        seconds,
        spread=statistics.pstdev(scores) if len(scores) > 1 else 0.0,
        samples=len(scores),
    )


@dataclass(frozen=True)
class Request:
    """One judge request: the ask it belongs to and the sub-scores its answer gives."""

    id: str  # the wire item's "dimension": the ask id, or "<ask id>.<sub-score>" under logit
    ask: m.Ask
    subscores: tuple[m.Subscore, ...]
    item: dict[str, Any]
