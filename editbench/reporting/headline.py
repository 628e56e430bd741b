"""A protocol's headline numbers from a run's records: rows × columns, each with n, failures and an interval.

Rows are a benchmark's groups (its categories, a case fact such as KRIS's meta-category, the
whole run, a subset such as GEdit's intersection); columns are its numbers (a mean, a macro mean
over categories, a share of cases). A case enters a number only when every dimension the number
needs was read for it; otherwise it is counted under its failure status, beside the number,
never filled in. Beside it, each number carries the benchmark's own published arithmetic over
the same answers (`official`, reporting/official.py: ImgEdit's roundings, RISE's case-level
None, KRIS's pooling of every read value, ...), labelled, without an interval.

Intervals (stated in the block, `interval_statement`): every mean, macro mean and share uses the
betting interval of `reporting.stats`, valid for any distribution on the column's own scale
(0-10, 1-5, 0-100, or 0/1 for a share). A case that gives a number several values (KRIS's
pooled Score: three or four per case) enters once, as its sum and count (the pooled mean's
test of sum - m * count), so its values are never counted as independent cases. No interval,
and no flag in `compare`, below `stats.MIN_N` cases (for a macro mean: in any of its
categories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from editbench.protocols.model import Column, Protocol, Row
from editbench.reporting import official as published
from editbench.reporting import stats
from editbench.reporting.records import canonical_order
from editbench.vocabulary import CASE_FAILURES, Scale, Status

MIN_N = stats.MIN_N  # fewer cases (in any category of a macro mean): no interval, no flag
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
            return float(np.mean([self.part(g).value("mean") for g in self.group_names]))
        return float(self.sums.sum() / self.counts.sum())

    @property
    def group_names(self) -> list[str]:
        return list(dict.fromkeys(self.groups))

    def part(self, group: str) -> Units:
        return self.subset([c for c, g in zip(self.ids, self.groups, strict=True) if g == group])

    def subset(self, ids: list[str]) -> Units:
        position = {c: i for i, c in enumerate(self.ids)}
        chosen = [position[c] for c in ids]
        return Units(
            list(ids), self.sums[chosen], self.counts[chosen], [self.groups[i] for i in chosen]
        )

    @property
    def single(self) -> bool:
        """One value per case (a macro mean's interval needs it)."""
        return bool(np.all(self.counts == 1))


def column_scale(protocol: Protocol, column: Column) -> Scale:
    """The scale of the values a column averages (what sizes its interval's variance floor); a
    share's values are 0/1, shown as a percentage afterwards where the column says so."""
    if column.kind == "share":
        return Scale(0.0, 1.0, True)
    scales = [protocol.scale_of(d) for d in column.of]
    low, high = min(s.low for s in scales), max(s.high for s in scales)
    if column.transform == "percent":
        return Scale(_transform("percent", low), _transform("percent", high))
    return Scale(low, high)


def interval_statement(protocol: Protocol) -> dict[str, Any]:
    """What the block's intervals are: method, coverage, minimum n, and each column's scale."""
    block = {k: v for k, v in stats.interval_block().items() if k != "scale"}
    block |= {
        "mean": (
            f"{stats.METHOD} on the column's scale; a case with several values enters once (its "
            "sum and count: the pooled mean's test of sum - m * count); macro means: blocks "
            "across categories"
        ),
        "share": f"{stats.METHOD} on 0/1 values (a share is a bounded mean)",
        "note": f"none below min_n = {MIN_N} cases, or for a macro mean with a category below it",
        "official": "the benchmark's own arithmetic is given without an interval",
    }
    if protocol.has_headline:
        block["scales"] = {
            c.name: [column_scale(protocol, c).low, column_scale(protocol, c).high]
            for c in protocol.aggregate.columns
        }
    return block


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
            number = compute(protocol, column, members, ordered)
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
        "interval": interval_statement(protocol),
        "official_arithmetic": _arithmetic_statement(protocol),
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


def _arithmetic_statement(protocol: Protocol) -> dict[str, Any] | None:
    name = protocol.official.arithmetic
    if not name:
        return None
    return {
        "name": name,
        "label": published.LABEL,
        "source": published.SOURCES[name],
        "text": protocol.official.text,
        "kris_orders": list(published.KRIS_ORDERS) if name == "kris" else None,
    }


def compute(
    protocol: Protocol, column: Column, records: list[dict[str, Any]], run=None
) -> dict | None:
    """One number of one row: value, n, failures by status, interval, and the benchmark's own
    arithmetic over the same records (`official`); None when no case applies. `run`: the
    whole run's records (default `records`), for rules about the data set as a whole."""
    units, failures, _ = contributions(protocol, column, records)
    failed = sum(failures.values())
    if not len(units.ids) and not failed:
        return None
    factor = 100.0 if column.percent else 1.0
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
    scale = column_scale(protocol, column)
    if units.ids:
        number["value"] = units.value(column.kind) * factor
        low, high = interval(units, column.kind, scale, len(column.of))
        number["ci_low"] = None if low is None else low * factor
        number["ci_high"] = None if high is None else high * factor
    official = published.number(protocol, column, records, run)
    if official is None and column.official == "failures-as-wrong" and failed:
        official = _as_wrong(units, failed, factor)
    if official is not None:
        number["official"] = official
    return number


def _as_wrong(units: Units, failed: int, factor: float) -> dict[str, Any]:
    """The share with every failed case counted as 0 (a protocol file's column rule, where it
    names no official arithmetic)."""
    total = len(units.ids) + failed
    hits = np.concatenate([units.sums, np.zeros(failed)])
    low, high = stats.mean_interval(hits, Scale(0.0, 1.0)) if total >= MIN_N else (None, None)
    return {
        "label": "failures counted as wrong (the official scorer's rule)",
        "n": total,
        "value": float(hits.mean()) * factor,
        "ci_low": None if low is None else low * factor,
        "ci_high": None if high is None else high * factor,
    }


def interval(
    units: Units, kind: str, scale: Scale, most: int = 1
) -> tuple[float | None, float | None]:
    """The number's interval (see the module docstring), or (None, None) below MIN_N cases
    (and for a macro mean of cases with several values each, which has no block form)."""
    if kind == "macro":
        if not units.single:
            return None, None
        return stats.macro_interval([units.part(g).sums for g in units.group_names], scale)
    return stats.pooled_interval(units.sums, units.counts, scale, most)


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
