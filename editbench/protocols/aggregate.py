"""A protocol's headline numbers from a run's records: rows × columns, each with n, failures and an interval.

Rows are a benchmark's groups (its categories, a case fact such as KRIS's meta-category, the
whole run, a subset such as GEdit's intersection); columns are its numbers (a mean, a macro mean
over categories, a share of cases). A case enters a number only when every dimension the number
needs was read for it; otherwise it is counted under its failure status, beside the number,
never filled in. Where the benchmark's own scorer treats failures differently in a way that
changes a number (RISE counts them as wrong in its accuracy), the number is also given the
official way, labelled.

Intervals (stated in the block): means and macro means, a 95% percentile bootstrap over cases,
10,000 resamples, seed 12345, a case's values resampled together (a pooled mean over several
dimensions keeps a case's values as one unit), each category resampled within itself for a
macro mean; shares (accuracy), the Wilson score interval. None below two cases, and none for a
macro mean with a category of fewer than two. A percentile bootstrap of a handful of cases is
too narrow (it cannot see the tails it did not sample): read small-n intervals as a floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from editbench.protocols.model import Column, Protocol, Row
from editbench.reporting import stats
from editbench.reporting.records import canonical_order
from editbench.vocabulary import CASE_FAILURES, Status

MIN_N = 2  # fewer cases (in any category of a macro mean): no interval
Z95 = 1.959963984540054  # the standard normal's 97.5% quantile (Wilson interval)
_CHUNK_CELLS = 2_000_000
LABELS = {
    "filled": "filled {} with a made-up score",
    "dropped": "left {} out",
    "counted-wrong": "counted {} as wrong",
    "kept": "used {} as written",
}


@dataclass
class Units:
    """The cases behind one number: per case its sum and count of values, and its group."""

    ids: list[str]
    sums: np.ndarray
    counts: np.ndarray
    groups: list[str]

    def value(self, kind: str) -> float:
        if kind == "macro":
            return float(np.mean([self._pooled(g) for g in dict.fromkeys(self.groups)]))
        return float(self.sums.sum() / self.counts.sum())

    def _pooled(self, group: str) -> float:
        mask = np.array([g == group for g in self.groups])
        return float(self.sums[mask].sum() / self.counts[mask].sum())


def interval_statement() -> dict[str, Any]:
    return {
        "confidence": stats.CONFIDENCE,
        "mean": (
            f"percentile bootstrap over cases, {stats.RESAMPLES} resamples, seed {stats.SEED}; "
            "a case's values resampled together; macro means resample each category within itself"
        ),
        "share": "Wilson score interval",
        "min_n": MIN_N,
        "note": "none below min_n cases, or for a macro mean with a category below min_n",
    }


def protocol_block(
    records: list[dict[str, Any]], protocol: Protocol, categories: list[tuple[str, str]]
) -> dict[str, Any]:
    """The `protocol` block of summary.json: every headline number and the official-rule count."""
    ordered = canonical_order(records)
    numbers, rows = [], []
    for row_key, row_label, members in expand_rows(protocol, ordered, categories):
        failures: dict[str, int] = {}
        for record in members:
            if record.get("status") != Status.OK:
                status = str(record.get("status") or Status.ERROR.value)
                failures[status] = failures.get(status, 0) + 1
        rows.append(
            {"row": row_key, "label": row_label, "cases": len(members), "failures": failures}
        )
        for column in protocol.aggregate.columns:
            number = compute(protocol, column, members)
            if number is not None:
                numbers.append({"row": row_key, "row_label": row_label, **number})
    return {
        "name": protocol.name,
        "title": protocol.title,
        "source": protocol.source,
        "sha256": protocol.sha256,
        "columns": [
            {
                "name": c.name,
                "of": list(c.of),
                "kind": c.kind,
                "transform": c.transform,
                "percent": c.percent,
                "official": c.official,
            }
            for c in protocol.aggregate.columns
        ],
        "rows": rows,
        "headline_row": protocol.aggregate.headline_row,
        "languages": sorted({str(r.get("facts", {}).get("language")) for r in ordered} - {"None"}),
        "interval": interval_statement(),
        "numbers": numbers,
        "official": official_counts(protocol, ordered),
    }


# -- rows ----------------------------------------------------------------------------------------


def expand_rows(
    protocol: Protocol, records: list[dict[str, Any]], categories: list[tuple[str, str]]
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(row key, label, its records) for every row spec, in the protocol's order."""
    out: list[tuple[str, str, list[dict[str, Any]]]] = []
    for spec in protocol.aggregate.rows:
        for key, label, members in _rows_of(spec, records, categories):
            same = [row for row in out if row[0] == key]
            if same and [r["case_id"] for r in same[0][2]] == [r["case_id"] for r in members]:
                continue  # a group that is also a category (KRIS's temporal_prediction): once
            if same:  # another group of that name: named by the fact that makes it
                key = label = f"{spec.by}={key}"
            out.append((key, label, members))
    return out


def _rows_of(spec: Row, records: list[dict[str, Any]], categories) -> list:
    if spec.by == "category":
        names = dict(categories)
        keys = list(dict.fromkeys([k for k, _ in categories] + [r["category"] for r in records]))
        return [
            (key, names.get(key, key), [r for r in records if r["category"] == key])
            for key in keys
            if any(r["category"] == key for r in records)
        ]
    if spec.by is not None:
        values = [v for v in dict.fromkeys(_fact(r, spec.by) for r in records) if v is not None]
        return [(str(v), str(v), [r for r in records if _fact(r, spec.by) == v]) for v in values]
    chosen = [r for r in records if all(_fact(r, k) == v for k, v in spec.where.items())]
    return [(spec.label, spec.label, chosen)] if chosen else []


def _fact(record: dict[str, Any], name: str) -> Any:
    return (record.get("facts") or {}).get(name)


# -- one number ----------------------------------------------------------------------------------


def contributions(
    protocol: Protocol, column: Column, records: list[dict[str, Any]]
) -> tuple[Units, dict[str, int], dict[str, str]]:
    """(the cases that enter the number, failures by status, failed case id -> status)."""
    ids, sums, counts, groups = [], [], [], []
    failures: dict[str, int] = {}
    failed: dict[str, str] = {}
    for record in records:
        outcome = _case_values(protocol, column, record)
        if outcome is None:
            continue
        if isinstance(outcome, str):
            failures[outcome] = failures.get(outcome, 0) + 1
            failed[record["case_id"]] = outcome
            continue
        ids.append(record["case_id"])
        sums.append(sum(outcome))
        counts.append(len(outcome))
        groups.append(record["category"])
    units = Units(ids, np.asarray(sums, dtype=float), np.asarray(counts, dtype=float), groups)
    return units, dict(sorted(failures.items())), failed


def _case_values(protocol: Protocol, column: Column, record: dict[str, Any]):
    """The case's values for the column, its failure status, or None where it does not apply."""
    statuses = record.get("statuses") or {}
    facts = record.get("facts") or {}
    category = record["category"]
    dims = [d for d in column.of if d in statuses or protocol.applicable(d, category, facts)]
    if not dims:
        return None
    status = str(record.get("status") or Status.ERROR.value)
    if status in {s.value for s in CASE_FAILURES} or any(d not in statuses for d in dims):
        return status if status != Status.OK else Status.ERROR.value
    bad = [str(statuses[d]) for d in dims if statuses[d] != Status.OK]
    if bad:  # a derived dimension's missing-input is reported by the failure behind it
        root = status if status != Status.OK else bad[0]
        return root if bad[0] == Status.MISSING_INPUT else bad[0]
    scores = record.get("scores") or {}
    return [_transform(column.transform, float(scores[d])) for d in dims]


def _transform(name: str, value: float) -> float:
    return 25.0 * (value - 1.0) if name == "percent" else value


def compute(protocol: Protocol, column: Column, records: list[dict[str, Any]]) -> dict | None:
    """One number of one row: value, n, failures by status, interval; None when no case applies."""
    units, failures, _ = contributions(protocol, column, records)
    failed = sum(failures.values())
    if not len(units.ids) and not failed:
        return None
    scale = 100.0 if column.percent else 1.0
    number: dict[str, Any] = {
        "column": column.name,
        "kind": column.kind,
        "n": len(units.ids),
        "failed": failed,
        "failures": failures,
        "value": None,
        "ci_low": None,
        "ci_high": None,
    }
    if units.ids:
        number["value"] = units.value(column.kind) * scale
        low, high = _interval(units, column.kind)
        number["ci_low"] = None if low is None else low * scale
        number["ci_high"] = None if high is None else high * scale
    if column.official == "failures-as-wrong" and failed:
        number["official"] = _as_wrong(units, failed, scale)
    return number


def _as_wrong(units: Units, failed: int, scale: float) -> dict[str, Any]:
    """The share with every failed case counted as 0: what the official scorer reports."""
    total = len(units.ids) + failed
    hits = float(units.sums.sum())
    low, high = wilson(hits, total)
    return {
        "label": "failures counted as wrong (the official scorer's rule)",
        "n": total,
        "value": hits / total * scale,
        "ci_low": low * scale,
        "ci_high": high * scale,
    }


def _interval(units: Units, kind: str) -> tuple[float | None, float | None]:
    n = len(units.ids)
    if n < MIN_N or (kind == "macro" and min(units.groups.count(g) for g in units.groups) < MIN_N):
        return None, None
    if kind == "share":
        return wilson(float(units.sums.sum()), n)
    draws = bootstrap(units, kind, list(units.ids), np.random.default_rng(stats.SEED))
    return _percentiles(draws)


def wilson(successes: float, n: int) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95%)."""
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap(
    units: Units, kind: str, ids: list[str], rng: np.random.Generator, other: Units | None = None
) -> np.ndarray:
    """Resampled values of the number over `ids` (or of other - units, paired, when `other`)."""
    index = {case_id: i for i, case_id in enumerate(units.ids)}
    other_index = {case_id: i for i, case_id in enumerate(other.ids)} if other else {}
    groups = [units.groups[index[c]] for c in ids] if kind == "macro" else ["all"] * len(ids)
    totals = []
    for group in dict.fromkeys(groups):
        members = [c for c, g in zip(ids, groups, strict=True) if g == group]
        draws = _draws(len(members), rng)
        own = _pooled(units, [index[c] for c in members], draws)
        if other is not None:
            own = _pooled(other, [other_index[c] for c in members], draws) - own
        totals.append(own)
    return np.mean(np.stack(totals), axis=0)


def _draws(n: int, rng: np.random.Generator) -> np.ndarray:
    rows = max(1, _CHUNK_CELLS // max(n, 1))
    parts = [
        rng.integers(0, n, size=(min(rows, stats.RESAMPLES - start), n))
        for start in range(0, stats.RESAMPLES, rows)
    ]
    return np.concatenate(parts)


def _pooled(units: Units, positions: list[int], draws: np.ndarray) -> np.ndarray:
    sums = units.sums[positions][draws].sum(axis=1)
    counts = units.counts[positions][draws].sum(axis=1)
    return sums / counts


def _percentiles(draws: np.ndarray) -> tuple[float, float]:
    tail = (1.0 - stats.CONFIDENCE) / 2.0 * 100.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return float(low), float(high)


# -- the official rule ---------------------------------------------------------------------------


def official_counts(protocol: Protocol, records: list[dict[str, Any]]) -> dict[str, Any]:
    """How many failed cases the benchmark's own scorer would have filled, dropped or counted wrong."""
    counts: dict[str, int] = {}
    by_status: dict[str, dict[str, int]] = {}
    for record in records:
        status = str(record.get("status") or Status.ERROR.value)
        if status == Status.OK:
            continue
        rule = protocol.official.rule(status)
        counts[rule] = counts.get(rule, 0) + 1
        by_status.setdefault(rule, {})[status] = by_status.setdefault(rule, {}).get(status, 0) + 1
    failed = sum(counts.values())
    parts = [LABELS[rule].format(count) for rule, count in sorted(counts.items())]
    summary = (
        f"{failed} of {len(records)} cases failed; the official scorer would have "
        + "; ".join(parts)
        if failed
        else f"no case failed among {len(records)}"
    )
    return {
        "rules": dict(protocol.official.failures),
        "counts": dict(sorted(counts.items())),
        "by_status": by_status,
        "summary": summary,
        "text": protocol.official.text,
        "reference": protocol.official.reference,
    }


# -- comparing two runs --------------------------------------------------------------------------


def compare_numbers(
    records_a: list[dict[str, Any]],
    records_b: list[dict[str, Any]],
    protocol: Protocol,
    categories: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Per headline number: A and B on the cases that enter it in both runs, B - A with a
    paired bootstrap interval (cases resampled together; within categories for macro means)."""
    a_by_id = {r["case_id"]: r for r in records_a}
    shared_b = [r for r in canonical_order(records_b) if r["case_id"] in a_by_id]
    rows = []
    for row_key, label, members_b in expand_rows(protocol, shared_b, categories):
        members_a = [a_by_id[r["case_id"]] for r in members_b]
        for column in protocol.aggregate.columns:
            row = _compared(protocol, column, members_a, members_b)
            if row is not None:
                rows.append({"row": row_key, "row_label": label, **row})
    return rows


def _compared(protocol: Protocol, column: Column, members_a, members_b) -> dict | None:
    units_a, _, failed_a = contributions(protocol, column, members_a)
    units_b, _, failed_b = contributions(protocol, column, members_b)
    both = [c for c in units_b.ids if c in set(units_a.ids)]
    if not both:
        return None
    a, b = _subset(units_a, both), _subset(units_b, both)
    scale = 100.0 if column.percent else 1.0
    kind = "mean" if column.kind == "share" else column.kind
    value_a, value_b = a.value(kind) * scale, b.value(kind) * scale
    low = high = None
    if len(both) >= 2:
        draws = bootstrap(a, kind, both, np.random.default_rng(stats.SEED), other=b)
        low, high = (x * scale for x in _percentiles(draws))
    flag = "" if low is None else "regression" if high < 0 else "improvement" if low > 0 else ""
    return {
        "column": column.name,
        "n": len(both),
        "a": value_a,
        "b": value_b,
        "delta": value_b - value_a,
        "ci_low": low,
        "ci_high": high,
        "flag": flag,
        "failed_a": len(failed_a),
        "failed_b": len(failed_b),
    }


def _subset(units: Units, ids: list[str]) -> Units:
    position = {c: i for i, c in enumerate(units.ids)}
    chosen = [position[c] for c in ids]
    return Units(
        list(ids), units.sums[chosen], units.counts[chosen], [units.groups[i] for i in chosen]
    )
