"""Two runs' headline numbers compared: paired over the cases both scored, each difference with
its betting interval and flag, the failures beside it (compare's protocol rows)."""

from __future__ import annotations

from typing import Any

import numpy as np

from editbench.protocols.model import Column, Protocol
from editbench.reporting import stats
from editbench.reporting.headline import Units, column_scale, contributions, expand_rows
from editbench.reporting.records import canonical_order
from editbench.vocabulary import Scale

MIN_N = stats.MIN_N  # fewer cases (in any category of a macro mean): no interval, no flag


def compare_numbers(
    records_a: list[dict[str, Any]],
    records_b: list[dict[str, Any]],
    protocol: Protocol,
    categories: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Per headline number, over the cases both runs have (the rules of `reporting.compare`):
    A and B on the cases that enter it in both, B - A with its paired interval and t test (a
    macro mean: per category, combined as in a single run), and the failures: how many of the
    cases fail it in A and in B, which newly fail (entered in A, failed in B), and McNemar's exact
    test on the cases that fail in one run only. The caller flags every row after Holm's
    correction, together with its other tests."""
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
    if not (units_a.ids or units_b.ids or failed_a or failed_b):
        return None  # the number does not apply to these cases
    entered_b = set(units_b.ids)
    both = [c for c in units_a.ids if c in entered_b]
    newly_failing = [c for c in units_a.ids if c in failed_b]
    newly_scored = sum(1 for c in units_b.ids if c in failed_a)
    factor = 100.0 if column.percent else 1.0
    a, b = units_a.subset(both), units_b.subset(both)
    difference = _paired(a, b, column, column_scale(protocol, column)) if both else {}
    return {
        "column": column.name,
        "kind": column.kind,
        "n": len(both),
        "a": a.value(column.kind) * factor if both else None,
        "b": b.value(column.kind) * factor if both else None,
        "delta": None if not both else difference["delta"] * factor,
        "ci_low": None if difference.get("ci_low") is None else difference["ci_low"] * factor,
        "ci_high": None if difference.get("ci_high") is None else difference["ci_high"] * factor,
        "p": difference.get("p"),
        **stats.failure_change(len(failed_a), len(failed_b), newly_failing, newly_scored),
    }


def _paired(a: Units, b: Units, column: Column, scale: Scale) -> dict[str, float | None]:
    """B - A over the same cases (in the same order), with its interval and p-value: the
    betting interval on [-range, range] of the per-case differences (pooled: of sum B - sum A
    over the shared counts; a macro mean: by blocks across categories)."""
    out: dict[str, float | None] = {
        "delta": b.value(column.kind) - a.value(column.kind),
        "ci_low": None,
        "ci_high": None,
        "p": None,
    }
    if len(a.ids) < MIN_N or not np.array_equal(a.counts, b.counts):
        return out  # too few cases, or A and B read different numbers of values per case
    difference = stats.difference_scale(scale)
    if column.kind != "macro":
        most = len(column.of)
        estimate = stats.estimate_pooled(b.sums - a.sums, a.counts, difference, most)
        return out | stats.interval_and_p(estimate)
    groups = [b.part(g).sums - a.part(g).sums for g in a.group_names]
    if a.single and all(len(g) >= MIN_N for g in groups):
        out |= stats.interval_and_p(stats.estimate_macro(groups, difference))
    return out
