"""The words every part of editbench shares, each written once: statuses and dimension names.

A status describes a case (`CaseOutcome.status`, the record's `status`) or one judged dimension
of it (`statuses.SC`, ...). `ok` is the only status that carries a score; every other status
is a failure with its reason, and nothing ever fills in a number for it.

Statuses are `str` values, so records, JSON and the execnet wire hold plain strings: compare
with `Status.OK` freely, but store `Status.X.value` (execnet refuses `str` subclasses).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    """Every status a case or a dimension can end with (the README's list)."""

    OK = "ok"
    # the case as a whole: it never reached the judge, or its test failed around it
    CASE_ERROR = "case-error"  # an input could not be read (missing, corrupt, bad base64, too big)
    EDIT_ERROR = "edit-error"  # the editor raised or returned no usable image
    OOM = "oom"  # CUDA out of memory while editing: this case only, the worker goes on
    CRASHED = "crashed"  # the xdist worker running it died
    ERROR = "error"  # the test failed for another reason (its message is kept)
    SKIPPED = "skipped"  # pytest skipped the case
    # one judged dimension (and so the case)
    UNPARSEABLE = "unparseable"  # no score could be read from the answer, even after one retry
    OUT_OF_RANGE = "out-of-range"  # a score outside the dimension's scale
    TIMEOUT = "timeout"  # no answer within judge.timeout_s
    JUDGE_ERROR = "judge-error"  # an exception inside the judge, or an HTTP error from a service
    JUDGE_UNAVAILABLE = "judge-unavailable"  # the judge process or service is gone
    LOW_DIGIT_MASS = "low-digit-mass"  # logit: too little probability on score tokens
    # a dimension computed from others (O) when one of its inputs failed
    MISSING_INPUT = "missing-input"

    def __str__(self) -> str:
        return self.value


CASE_FAILURES = (
    Status.CASE_ERROR,
    Status.EDIT_ERROR,
    Status.OOM,
    Status.CRASHED,
    Status.ERROR,
    Status.SKIPPED,
)
JUDGE_FAILURES = (
    Status.UNPARSEABLE,
    Status.OUT_OF_RANGE,
    Status.TIMEOUT,
    Status.JUDGE_ERROR,
    Status.JUDGE_UNAVAILABLE,
    Status.LOW_DIGIT_MASS,
)
DERIVED_FAILURES = (Status.MISSING_INPUT,)

# The dimensions a judge is asked about (judge.dimensions), and O computed from SC and PQ.
JUDGED_DIMENSIONS = ("SC", "PQ", "criterion")
OVERALL = "O"
REPORTED_DIMENSIONS = ("SC", "PQ", OVERALL, "criterion")  # the order every report shows

# The images a judge can be shown (judge.images); PQ always sees the edited image alone.
IMAGES = ("source", "edited")


@dataclass(frozen=True)
class Scale:
    """The scores a dimension can take: [low, high], whole numbers only where `integer_only`.

    Every dimension carries one; the parser reads answers on it, the score check refuses values
    off it, and the intervals size their variance floor by its range.
    """

    low: float
    high: float
    integer_only: bool = False

    @property
    def range(self) -> float:
        return self.high - self.low

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high and (not self.integer_only or value == int(value))

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}]" + (" (whole numbers)" if self.integer_only else "")


SCORE_SCALE = Scale(0.0, 10.0)  # SC, PQ, O and the criterion


def scale_of(dimension: str) -> Scale:
    """The scale a dimension is scored on (0-10 for every dimension of the editbench protocol)."""
    return SCORE_SCALE
