"""Statistics over results: per category and overall, failures counted beside the means."""

from __future__ import annotations

import statistics
from typing import Any

from editbench.reporting.records import DIMENSION_KEYS


def summarize(records: list[dict[str, Any]], categories: list[tuple[str, str]]) -> dict[str, Any]:
    """Per category (in suite order) and overall: n, failures by status, mean per dimension."""
    rows = {}
    for key, name in categories:
        subset = [r for r in records if r["category"] == key]
        if subset:
            rows[key] = _stats(subset) | {"name": name}
    return {"categories": rows, "overall": _stats(records) | {"name": "overall"}}


def _stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    failures: dict[str, int] = {}
    for record in records:
        if record.get("status") != "ok":
            failures[record.get("status", "error")] = failures.get(record.get("status", "error"), 0) + 1
    dims = {}
    for dim in DIMENSION_KEYS:
        values = [r["scores"][dim] for r in records
                  if r.get("statuses", {}).get(dim) == "ok" and isinstance(r["scores"].get(dim), (int, float))]
        if values:
            dims[dim] = {"n": len(values), "mean": statistics.fmean(values)}
    return {"n": len(records), "failures": failures, "dimensions": dims}


def table_lines(summary: dict[str, Any]) -> list[str]:
    dims = [d for d in DIMENSION_KEYS if any(d in row["dimensions"] for row in _rows(summary))]
    header = f"{'category':<16}{'n':>4}{'failed':>8}" + "".join(f"{d:>11}" for d in dims)
    lines = [header, "-" * len(header)]
    for row in _rows(summary):
        failed = sum(row["failures"].values())
        cells = "".join(f"{row['dimensions'][d]['mean']:>11.3f}" if d in row["dimensions"] else f"{'-':>11}"
                        for d in dims)
        lines.append(f"{row['name']:<16}{row['n']:>4}{failed:>8}{cells}")
    return lines


def _rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [*summary["categories"].values(), summary["overall"]]
