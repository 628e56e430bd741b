"""Statistics over results: per category and overall, failures counted beside the means.

The summary is plain JSON data (summary.json); the terminal table, CSV, Markdown and HTML are
renderers over it. Failed cases never enter a mean: they are counted by status beside it.
Overall statistics come twice: micro (every scored case weighs the same) and macro (every
category weighs the same: the mean of the category means, with a stratified bootstrap CI).
"""

from __future__ import annotations

import statistics
from typing import Any

from editbench.reporting import stats
from editbench.reporting.records import canonical_order, is_scored, score
from editbench.vocabulary import REPORTED_DIMENSIONS

SCHEMA = 1


def summarize(
    records: list[dict[str, Any]], categories: list[tuple[str, str]], protocol=None
) -> dict[str, Any]:
    """Per category (suite order, then any unknown ones), micro and macro overall; with a
    benchmark protocol (editbench.protocols), its headline numbers in a `protocol` block."""
    ordered = canonical_order(records)
    dims = reported_dimensions(ordered)
    known = dict(categories)
    for record in ordered:
        known.setdefault(record["category"], record.get("category_name") or record["category"])
    rows = []
    for key, name in known.items():
        subset = [r for r in ordered if r["category"] == key]
        if subset:
            rows.append({"key": key, "name": name, **_group(subset, dims)})
    summary = {
        "schema": SCHEMA,
        "bootstrap": {
            "method": "percentile",
            "resamples": stats.RESAMPLES,
            "seed": stats.SEED,
            "confidence": stats.CONFIDENCE,
        },
        "dimensions": [d for d in dims if any(d in row["dimensions"] for row in rows)],
        "categories": rows,
        "overall": {
            "micro": {"key": "overall", "name": "overall (micro)", **_group(ordered, dims)},
            "macro": {"key": "macro", "name": "overall (macro)", **_macro(rows, ordered, dims)},
        },
    }
    if protocol is not None:
        from editbench.protocols.aggregate import protocol_block

        summary["protocol"] = protocol_block(ordered, protocol, categories)
    return summary


def reported_dimensions(records: list[dict[str, Any]]) -> list[str]:
    """SC, PQ, O, criterion, then any other dimension a protocol scored (not its sub-scores)."""
    seen = [d for r in records for d in r.get("scores") or {} if "." not in d]
    return [*REPORTED_DIMENSIONS, *(d for d in dict.fromkeys(seen) if d not in REPORTED_DIMENSIONS)]


def _group(
    records: list[dict[str, Any]], dimensions: list[str] = REPORTED_DIMENSIONS
) -> dict[str, Any]:
    failures: dict[str, int] = {}
    for record in records:
        if not is_scored(record):
            status = str(record.get("status") or "error")
            failures[status] = failures.get(status, 0) + 1
    dims = {}
    for dim in dimensions:
        values = [v for v in (score(r, dim) for r in records) if v is not None]
        if values:
            dims[dim] = stats.describe(values)
    return {
        "n": len(records),
        "scored": len(records) - sum(failures.values()),
        "failed": sum(failures.values()),
        "failures": dict(sorted(failures.items())),
        "dimensions": dims,
    }


def _macro(
    rows: list[dict[str, Any]],
    records: list[dict[str, Any]],
    dimensions: list[str] = REPORTED_DIMENSIONS,
) -> dict[str, Any]:
    group = _group(records, dimensions)
    dims = {}
    for dim in dimensions:
        means = [row["dimensions"][dim]["mean"] for row in rows if dim in row["dimensions"]]
        if not means:
            continue
        per_category = [
            [
                v
                for v in (score(r, dim) for r in records if r["category"] == row["key"])
                if v is not None
            ]
            for row in rows
        ]
        low, high = stats.stratified_bootstrap_ci(per_category)
        dims[dim] = {
            "n": len(means),
            "mean": statistics.fmean(means),
            "std": statistics.stdev(means) if len(means) > 1 else 0.0,
            "median": statistics.median(means),
            "min": min(means),
            "max": max(means),
            "ci_low": low,
            "ci_high": high,
            "unit": "category",
        }
    return {**group, "dimensions": dims}


def rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Category rows, then overall micro and macro: the rows every renderer shows."""
    return [*summary["categories"], summary["overall"]["micro"], summary["overall"]["macro"]]


def failures_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{status} {count}" for status, count in row["failures"].items())
