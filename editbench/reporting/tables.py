"""Summary tables as text: the terminal table (CJK-aware column widths) and the CSV file."""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

from editbench.reporting.stats import MIN_N
from editbench.reporting.summary import failures_text, interval_text, rows


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: wide and full-width characters (物理) take two."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space


def score_cell(stat: dict[str, Any] | None) -> str:
    """`6.50 [6.10, 6.90]`; `6.50 (n<5)` where too few cases give no interval; `-` for none."""
    if not stat or stat.get("n", 0) == 0:
        return "-"
    if stat.get("ci_low") is None or stat.get("ci_high") is None:
        return f"{stat['mean']:.2f} (n<{MIN_N})"
    return f"{stat['mean']:.2f} [{stat['ci_low']:.2f}, {stat['ci_high']:.2f}]"


def table(header: list[str], body: list[list[str]], right_from: int = 1) -> list[str]:
    """Aligned text lines; columns from `right_from` on are right-aligned."""
    widths = [max(display_width(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(
            pad(cell, widths[i], right=i >= right_from) for i, cell in enumerate(row)
        ).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(row) for row in body)]


def table_lines(summary: dict[str, Any]) -> list[str]:
    """The per-category table of the terminal summary: n, failed, mean [interval] per dimension,
    and a last line saying what the interval is."""
    dims = summary["dimensions"]
    header = ["category", "n", "failed", *dims]
    body = [
        [
            row["name"],
            str(row["n"]),
            str(row["failed"]),
            *(score_cell(row["dimensions"].get(d)) for d in dims),
        ]
        for row in rows(summary)
    ]
    note = f"mean [{interval_text(summary)}]; failed cases are counted, never scored"
    return [*table(header, body), note] if summary["dimensions"] else table(header, body)


CSV_COLUMNS = (
    "level",
    "category",
    "name",
    "cases",
    "scored",
    "failed",
    "failures",
    "dimension",
    "n",
    "mean",
    "std",
    "median",
    "min",
    "max",
    "ci_low",
    "ci_high",
    "run_status",  # how the run ended (run.json's status): finished, interrupted, merged, partial
)
STAT_COLUMNS = CSV_COLUMNS[CSV_COLUMNS.index("n") : CSV_COLUMNS.index("ci_high") + 1]


def summary_csv(summary: dict[str, Any]) -> str:
    """Long format, one row per (category or overall, dimension): `pandas.read_csv` reads it as is."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    levels = [("category", row) for row in summary["categories"]]
    levels += [("micro", summary["overall"]["micro"]), ("macro", summary["overall"]["macro"])]
    for level, row in levels:
        base = {
            "level": level,
            "category": row["key"],
            "name": row["name"],
            "cases": row["n"],
            "scored": row["scored"],
            "failed": row["failed"],
            "failures": failures_text(row),
            "run_status": summary.get("run_status"),
        }
        if not row["dimensions"]:
            writer.writerow(base)
        for dim, stat in row["dimensions"].items():
            writer.writerow({**base, "dimension": dim, **{k: stat.get(k) for k in STAT_COLUMNS}})
    return buffer.getvalue()
