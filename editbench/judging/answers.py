"""A judge's answers read into sub-score results: the one logit reading (the expected score over
a scale's own scores), parsed samples into one result, and where an answer in each format ends
(the judge stops writing there: `judge.stop_at_answer`). Used by the `Scorer`.
"""

from __future__ import annotations

import json
import math

from editbench.judging import DimensionResult
from editbench.judging.parsing import JSON_KEYS, Parsed
from editbench.judging.remote import on_scale
from editbench.judging.results import JudgeFailure, Request, result, samples_result
from editbench.protocols import model as m
from editbench.vocabulary import Status


def failed_request(request: Request, failure: JudgeFailure, seconds: float) -> dict:
    return {
        s.id: result(None, failure.status, failure.raw, failure.reason, seconds)
        for s in request.subscores
    }


def all_ok(parsed: dict[str, Parsed]) -> bool:
    return all(p.ok for p in parsed.values())


def sample_result(parsed: list[Parsed], raw: str, seconds: float, suffix: str) -> DimensionResult:
    bad = [p for p in parsed if not p.ok]
    if bad:
        return result(None, bad[0].status, raw, bad[0].reason + suffix, seconds)
    return samples_result(parsed, raw, seconds)


def logit_value(request: Request, item: dict, seconds: float) -> DimensionResult:
    """One sub-score read by logit: the expected score over the scale's own scores.

    A score the judge's reply could not report (service mode: outside the returned top-k,
    `unseen`) is missing from the mass, never a score of probability 0; the mass on the scale's
    scores is kept, so the run's `judge.min_digit_mass` applies to it (`Scorer._mass_floor`).
    """
    scale = request.ask.scale
    score, mass, probs = item.get("score"), item.get("mass"), list(item.get("probs") or [])
    low, high = int(scale.low), int(scale.high)
    unseen = [v for v in item.get("unseen") or [] if low <= v <= high]
    raw = json.dumps({"probs": probs, "mass": mass, "unseen": unseen})
    try:
        if len(probs) == 11 and (scale.low, scale.high) != (0.0, 10.0):
            score, mass, probs = on_scale(probs, float(mass or 0.0), low, high)
            raw = json.dumps({"probs": probs, "mass": mass, "unseen": unseen})
    except ValueError as exc:
        return result(None, Status.LOW_DIGIT_MASS, raw, str(exc), seconds, mass=0.0)
    if score is None or not math.isfinite(score) or not scale.low <= score <= scale.high:
        reason = f"logit score {score!r} outside {scale}"
        return result(None, Status.OUT_OF_RANGE, raw, reason, seconds)
    reasoning = f"expected score over P({scale.low:g}..{scale.high:g}) at the answer position"
    if mass is not None:
        tokens = "score tokens" if (low, high) == (0, 10) else "the scale's score tokens"
        reasoning += f"; probability on {tokens} {mass:.3g}"
    if unseen:
        reasoning += (
            f"; scores {', '.join(map(str, unseen))} outside the returned top-k: their "
            "probability is unknown and counts as missing mass"
        )
    extra = {} if mass is None else {"mass": float(mass)}
    return result(float(score), Status.OK, raw, reasoning, seconds, **extra)


def answer_end(ask: m.Ask, subs) -> dict:
    """Where an answer in this ask's format is complete (`remote.AnswerEnd`): the judge stops there."""
    if ask.answer in ("score", "list"):
        return {"json": [list(JSON_KEYS)]}
    if ask.answer == "keys":
        return {"json": [[s.key] for s in subs]}
    if ask.answer == "lines":
        return {"lines": [[s.label, s.key] for s in subs]}
    return {"lines": [["Final Score"]]}
