"""Each benchmark's headline numbers as its own published code computes them from the same
answers: the "official arithmetic" shown beside editbench's number.

editbench's own number enters a case only when every dimension it needs was read, never
rounds, and carries an interval. The published scripts differ, and a number meant to be set
beside a published one must follow them (issue 28):

- GEdit-Bench (`GEdit-Bench/calculate_statistics.py`, Step1X-Edit): the mean over task types of
  each type's mean. Its scorer fills an unreadable answer with a random 0-10 integer; editbench
  never fills one, so the number is computed over the scored cases and the cases that would
  have been filled are counted beside it (`filled`); a score off 0-10, which it would use as
  written, is not read by editbench either and is counted (`off_scale`).
- ImgEdit-Bench (`Benchmark/Basic/step1_get_avgscore.py`, `step2_typescore.py`): a case's score
  is the mean of the sub-scores its answer gives, rounded to 2 decimals (a partly readable
  answer is averaged over the sub-scores found; none found: left out); an edit type's score is
  the mean of its case scores, rounded to 2 decimals; Overall is the unweighted mean of the type
  scores (the paper; the repository has no script for it), not rounded.
- KRIS-Bench: the metric scripts keep a score per dimension or None; the only published
  aggregation (`eval/gen/kris/summarize.py` of ByteDance-Seed/Bagel; KRIS-Bench's own
  repository has none, and none was found in its paper) pools every normalised value that is
  not None, so a case with one failed dimension keeps its other values in Score. The other two
  orders are given as alternatives.
- RISEBench (`gpt_eval.py`): a case any of whose answers has no score is None in every
  dimension (left out of every mean, and not complete); complete needs consistency, reasoning
  and (outside logical_reasoning) plausibility all at 5, so a consistency_free case is never
  complete; when the data has a `consistency_free` column every non-logical case is weighted
  0.2 * plausibility + 0.8 * reasoning (its `if row['consistency_free']` is true for the
  column's missing values); reasoning 1 halves the score, not below 1. (A case without an
  edited image stops gpt_eval.py; here it is counted as not complete, like an unscored one.)

Each function gets the protocol, a column and the records of one row, and returns the value
with what entered it; none fills anything in.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from editbench.protocols.model import Column, Protocol
from editbench.vocabulary import Status

LABEL = "official arithmetic"
SOURCES = {
    "gedit": "Step1X-Edit GEdit-Bench/calculate_statistics.py",
    "imgedit": "ImgEdit Benchmark/Basic/step1_get_avgscore.py + step2_typescore.py; Overall: "
    "the paper's unweighted mean of type scores",
    "kris": "ByteDance-Seed/Bagel eval/gen/kris/summarize.py (the only published aggregation; "
    "KRIS-Bench's repository has none)",
    "rise": "RISEBench gpt_eval.py (calculate_score, calculate_completion, the case-level None)",
}
KRIS_ORDERS = ("pooled", "mean of per-case means", "mean of column means")


def number(
    protocol: Protocol, column: Column, records: list[dict[str, Any]], row_records=None
) -> dict[str, Any] | None:
    """The column's official number over `records`, or None where the protocol names no
    official arithmetic or no case gives it a value. `row_records` (default `records`) are
    the whole run's, for rules that look at the data set as a whole (RISE's column)."""
    rule = ARITHMETIC.get(protocol.official.arithmetic)
    if rule is None:
        return None
    found = rule(protocol, column, records, row_records or records)
    if found is None:
        return None
    factor = 100.0 if column.percent else 1.0
    found["value"] = found["value"] * factor
    return {"label": LABEL, "source": SOURCES[protocol.official.arithmetic], **found}


# -- values of one record ------------------------------------------------------------------------


def _ok(record: dict[str, Any], dimension: str) -> bool:
    return (record.get("statuses") or {}).get(dimension) == Status.OK


def _value(record: dict[str, Any], dimension: str, transform: str) -> float:
    value = float(record["scores"][dimension])
    return 25.0 * (value - 1.0) if transform == "percent" else value


def _applies(protocol: Protocol, record: dict[str, Any], dimension: str) -> bool:
    statuses = record.get("statuses") or {}
    facts = record.get("facts") or {}
    return dimension in statuses or protocol.applicable(dimension, record["category"], facts)


def _by_category(values: list[tuple[str, float]]) -> dict[str, list[float]]:
    groups: dict[str, list[float]] = {}
    for category, value in values:
        groups.setdefault(category, []).append(value)
    return groups


# -- GEdit-Bench ---------------------------------------------------------------------------------


def gedit(protocol: Protocol, column: Column, records, _run) -> dict | None:
    dimension = column.of[0]
    values, counts = [], {"filled": 0, "off_scale": 0}
    for record in records:
        if not _applies(protocol, record, dimension):
            continue
        if _ok(record, dimension):
            values.append((record["category"], _value(record, dimension, column.transform)))
            continue
        rule = protocol.official.rule(_failure(record, dimension))
        if rule in ("filled", "kept"):
            counts["filled" if rule == "filled" else "off_scale"] += 1
    if not values:
        return None
    groups = _by_category(values)
    value = statistics.fmean(statistics.fmean(v) for v in groups.values())
    return {"value": value, "n": len(values), **counts}


def _failure(record: dict[str, Any], dimension: str) -> str:
    status = str((record.get("statuses") or {}).get(dimension) or record.get("status"))
    if status == Status.MISSING_INPUT:  # a derived dimension: the first failure behind it
        statuses = record.get("statuses") or {}
        failed = [str(s) for s in statuses.values() if s not in (Status.OK, Status.MISSING_INPUT)]
        return failed[0] if failed else str(record.get("status") or Status.ERROR.value)
    return status


# -- ImgEdit-Bench -------------------------------------------------------------------------------


def imgedit_case(record: dict[str, Any], dimension: str) -> float | None:
    """step 1: the mean of the sub-scores the answer gives, rounded to 2 decimals."""
    scores, statuses = record.get("scores") or {}, record.get("statuses") or {}
    prefix = dimension + "."
    found = [float(scores[k]) for k in scores if k.startswith(prefix) and statuses.get(k) == "ok"]
    if not found and _ok(record, dimension):
        found = [float(scores[dimension])]
    return round(statistics.fmean(found), 2) if found else None


def imgedit(protocol: Protocol, column: Column, records, _run) -> dict | None:
    dimension = column.of[0]
    values, partial = [], 0
    for record in records:
        if not _applies(protocol, record, dimension):
            continue
        case = imgedit_case(record, dimension)
        if case is not None:
            values.append((record["category"], case))
            partial += not _ok(record, dimension)
    if not values:
        return None
    types = {k: round(statistics.fmean(v), 2) for k, v in _by_category(values).items()}
    value = statistics.fmean(types.values())  # one type: its rounded score; Overall: not rounded
    return {"value": value, "n": len(values), "partly_read": partial}


# -- KRIS-Bench ----------------------------------------------------------------------------------


def kris(protocol: Protocol, column: Column, records, _run) -> dict | None:
    per_case: list[list[float]] = []
    per_column: dict[str, list[float]] = {}
    for record in records:
        read = [
            (d, _value(record, d, column.transform))
            for d in column.of
            if _applies(protocol, record, d) and _ok(record, d)
        ]
        if read:
            per_case.append([v for _, v in read])
        for d, v in read:
            per_column.setdefault(d, []).append(v)
    if not per_case:
        return None
    pooled = [v for values in per_case for v in values]
    out: dict[str, Any] = {"value": statistics.fmean(pooled), "n": len(per_case)}
    if len(column.of) > 1:
        out["order"] = KRIS_ORDERS[0]
        out["alternatives"] = {
            KRIS_ORDERS[0]: out["value"],
            KRIS_ORDERS[1]: statistics.fmean(statistics.fmean(v) for v in per_case),
            KRIS_ORDERS[2]: statistics.fmean(statistics.fmean(v) for v in per_column.values()),
        }
    return out


# -- RISEBench -----------------------------------------------------------------------------------

RISE_DIMENSIONS = ("consistency", "reasoning", "plausibility")
LOGICAL = "logical_reasoning"


def rise_case(protocol: Protocol, record: dict[str, Any]) -> dict[str, float] | None:
    """gpt_eval.py's row of one case: its dimensions, or None when any answer lacks a score."""
    if str(record.get("status")) in {s.value for s in (Status.CASE_ERROR, Status.EDIT_ERROR)}:
        return None
    asked = [d for d in RISE_DIMENSIONS if _applies(protocol, record, d)]
    if not asked or not all(_ok(record, d) for d in asked):
        return None
    return {d: float(record["scores"][d]) for d in asked}


def rise_score(row: dict[str, float], category: str, column_exists: bool) -> float:
    """calculate_score: the weighting, the column quirk and the halving at reasoning 1."""
    if category == LOGICAL:
        score = 0.3 * row["consistency"] + 0.7 * row["reasoning"]
    elif column_exists or "consistency" not in row:
        score = 0.2 * row["plausibility"] + 0.8 * row["reasoning"]
    else:
        score = 0.3 * row["consistency"] + 0.5 * row["reasoning"] + 0.2 * row["plausibility"]
    return max(score * 0.5, 1.0) if row["reasoning"] == 1 else score


def rise_complete(row: dict[str, float] | None, category: str) -> float:
    """calculate_completion: consistency, reasoning and (not logical) plausibility at 5."""
    needed = ("consistency", "reasoning") if category == LOGICAL else RISE_DIMENSIONS
    return float(row is not None and all(row.get(d) == 5 for d in needed))


def rise(protocol: Protocol, column: Column, records, run) -> dict | None:
    column_exists = any((r.get("facts") or {}).get("consistency_free") for r in run)
    dimension = column.of[0]
    values, left_out = [], 0
    for record in records:
        if dimension in RISE_DIMENSIONS and not _applies(protocol, record, dimension):
            continue
        row = rise_case(protocol, record)
        if dimension == "complete":
            values.append(rise_complete(row, record["category"]))
        elif row is None:
            left_out += 1
        elif dimension == "score":
            values.append(rise_score(row, record["category"], column_exists))
        elif dimension in row:
            value = row[dimension]
            values.append(25.0 * (value - 1.0) if column.transform == "percent" else value)
    if not values:
        return None
    out = {"value": statistics.fmean(values), "n": len(values), "left_out": left_out}
    if dimension == "score":
        out["consistency_free_column"] = column_exists
    if not _whole(protocol, records):
        out["note"] = LOGIT_NOTE
    return out


LOGIT_NOTE = (
    "expected scores (logit): gpt_eval.py's rules compare written integers (== 5, == 1), "
    "so this is not comparable to a published number; judge by generate"
)


def _whole(protocol: Protocol, records) -> bool:
    """Every score a RISE rule compares is a whole number (answers written, not expected)."""
    for record in records:
        for d in RISE_DIMENSIONS:
            value = (record.get("scores") or {}).get(d)
            if _ok(record, d) and value is not None and float(value) != round(float(value)):
                return False
    return True


ARITHMETIC: dict[str, Callable[..., dict | None]] = {
    "gedit": gedit,
    "imgedit": imgedit,
    "kris": kris,
    "rise": rise,
}
