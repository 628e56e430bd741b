"""Statistics over results: per category and overall, failures counted beside the means.

The summary is plain JSON data (summary.json); the terminal table, CSV, Markdown and HTML are
renderers over it. Failed cases never enter a mean: they are counted by status beside it.
Overall statistics come twice: micro (every scored case weighs the same) and macro (every
category weighs the same: the mean of the category means). Every mean carries the interval of
`stats` (method and coverage stated in the `interval` block); below `stats.MIN_N` scored cases
its `ci_low`/`ci_high` are null and the renderers say "n<5".
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from editbench.protocols.model import Protocol
from editbench.reporting import stats
from editbench.reporting.records import canonical_order, is_scored, score
from editbench.schema import SUMMARY_VERSION
from editbench.vocabulary import REPORTED_DIMENSIONS, Scale, scale_of


def summarize(
    records: list[dict[str, Any]], categories: list[tuple[str, str]], protocol: Protocol
) -> dict[str, Any]:
    """Per category (suite order, then any unknown ones), micro and macro overall; for a protocol
    with headline numbers of its own (a benchmark's), those in a `protocol` block."""
    ordered = canonical_order(records)
    dims = reported_dimensions(ordered)
    scale = scales(protocol)
    known = dict(categories)
    for record in ordered:
        known.setdefault(record["category"], record.get("category_name") or record["category"])
    rows = []
    for key, name in known.items():
        subset = [r for r in ordered if r["category"] == key]
        if subset:
            rows.append({"key": key, "name": name, **_group(subset, dims, scale)})
    summary = {
        "schema": SUMMARY_VERSION,
        "interval": stats.interval_block(),
        "dimensions": [d for d in dims if any(d in row["dimensions"] for row in rows)],
        "categories": rows,
        "overall": {
            "micro": {"key": "overall", "name": "overall (micro)", **_group(ordered, dims, scale)},
            "macro": {
                "key": "macro",
                "name": "overall (macro)",
                **_macro(rows, ordered, dims, scale),
            },
        },
    }
    if protocol.has_headline:
        own = {d: [scale(d).low, scale(d).high] for d in summary["dimensions"]}
        summary["interval"]["scales"] = own  # each dimension's interval is on its own scale
        from editbench.reporting.headline import protocol_block

        summary["protocol"] = protocol_block(ordered, protocol, categories)
    return summary


def reported_dimensions(records: list[dict[str, Any]]) -> list[str]:
    """SC, PQ, O, criterion, then any other dimension a protocol scored (not its sub-scores)."""
    seen = [d for r in records for d in r.get("scores") or {} if "." not in d]
    return [*REPORTED_DIMENSIONS, *(d for d in dict.fromkeys(seen) if d not in REPORTED_DIMENSIONS)]


def scales(protocol: Protocol) -> Callable[[str], Scale]:
    """Each dimension's scale: the protocol's own (0-10, 1-5, 0/1, ...), else 0-10."""
    own = set(protocol.dimensions)
    return lambda dim: protocol.scale_of(dim) if dim in own else scale_of(dim)


def _group(
    records: list[dict[str, Any]],
    dimensions: list[str] = REPORTED_DIMENSIONS,
    scale: Callable[[str], Scale] = scale_of,
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
            dims[dim] = stats.describe(values, scale(dim))
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
    scale: Callable[[str], Scale] = scale_of,
) -> dict[str, Any]:
    group = _group(records, dimensions, scale)
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
        low, high = stats.macro_interval(per_category, scale(dim))
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


def interval_text(summary: dict[str, Any]) -> str:
    """What a report's bracketed interval is, read from the summary (older summaries too)."""
    return stats.statement(summary.get("interval") or summary.get("bootstrap"))
