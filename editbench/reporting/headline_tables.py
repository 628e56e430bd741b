"""The headline table of a protocol block: terminal lines, Markdown and an HTML table.

Plain renderers over summary.json's `protocol` block (see aggregate.protocol_block): a row per
group, a cell per number as `value [low, high] n=K`, the row's failed cases by status, and
beside them each number as the benchmark's own published arithmetic computes it from the same
answers (`<column> (official arithmetic)`, no interval), labelled.
"""

from __future__ import annotations

import html
from typing import Any

from editbench.reporting.tables import table

OFFICIAL_SUFFIX = " (failures as wrong)"  # a protocol file's column rule, without arithmetic
ARITHMETIC_SUFFIX = " (official arithmetic)"


def cell(number: dict[str, Any] | None, column: dict[str, Any]) -> str:
    if number is None:
        return "-"
    if number.get("value") is None:
        return f"- n=0 ({number['failed']} failed)"
    digits = 1 if column.get("percent") or column.get("transform") == "percent" else 2
    text = f"{number['value']:.{digits}f}"
    if number.get("ci_low") is not None:
        text += f" [{number['ci_low']:.{digits}f}, {number['ci_high']:.{digits}f}]"
    return f"{text} n={number['n']}"


def _official_cell(number: dict[str, Any] | None, column: dict[str, Any]) -> str:
    if number is None or not number.get("official"):
        return "-"
    official = number["official"]
    if official.get("label") != ARITHMETIC_SUFFIX.strip(" ()"):
        return cell(official, column)
    digits = 1 if column.get("percent") or column.get("transform") == "percent" else 2
    notes = [f"n={official['n']}"]
    notes += [f"{official[k]} {k.replace('_', ' ')}" for k in NOTES if official.get(k)]
    notes += ["(logit: not comparable)"] if official.get("note") else []
    return f"{official['value']:.{digits}f} " + " ".join(notes)


NOTES = (
    "filled",
    "off_scale",
    "partly_read",
    "left_out",
)  # what the published code did with failed cases


def grid(block: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, body) of the headline table: rows × columns, then n cases and failures."""
    columns = block["columns"]
    official = [c for c in columns if _has_official(block, c["name"])]
    suffix = ARITHMETIC_SUFFIX if block.get("official_arithmetic") else OFFICIAL_SUFFIX
    header = ["row", *(c["name"] for c in columns)]
    header += [c["name"] + suffix for c in official] + ["cases", "failed"]
    found = {(n["row"], n["column"]): n for n in block["numbers"]}
    body = []
    for row in block["rows"]:
        cells = [row["label"]]
        cells += [cell(found.get((row["row"], c["name"])), c) for c in columns]
        cells += [_official_cell(found.get((row["row"], c["name"])), c) for c in official]
        failures = ", ".join(f"{s} {k}" for s, k in sorted(row["failures"].items())) or "0"
        body.append([*cells, str(row["cases"]), failures])
    return header, body


def _has_official(block: dict[str, Any], column: str) -> bool:
    return any(n["column"] == column and n.get("official") for n in block["numbers"])


def statement(block: dict[str, Any]) -> str:
    """What a cell says: the interval's method (read from the block, older blocks too)."""
    interval = block["interval"]
    if "variance_floor" in interval:  # a block written with the floored Student t intervals
        return (
            f"value [{interval['confidence']:.0%} interval] n=cases; means: Student t, variance "
            f"at least {interval['variance_floor']} on each number's own scale; shares: Wilson "
            "score interval; failed cases are counted, never filled in"
        )
    if "coverage" not in interval:  # a block written before the Student t intervals
        return (
            f"value [{interval['confidence']:.0%} interval] n=cases; means: {interval['mean']}; "
            f"shares: {interval['share']}; failed cases are counted, never filled in"
        )
    text = (
        f"value [{interval['confidence']:.0%} interval] n=cases; every interval: betting "
        "interval for a bounded mean (Waudby-Smith & Ramdas) on each number's own scale, "
        f"coverage {interval['coverage']}; a case once, however many values it gives; no "
        f"interval below n = {interval['min_n']} (for a macro mean: in any category); failed "
        "cases are counted, never filled in"
    )
    arithmetic = block.get("official_arithmetic")
    if arithmetic:
        text += (
            f"; '{arithmetic['label']}': the number {arithmetic['source']} computes from the "
            "same answers (no interval; never a random fill)"
        )
    return text


def title(block: dict[str, Any]) -> str:
    languages = ", ".join(block.get("languages") or [])
    where = f", language {languages}" if languages else ""
    return f"{block['title']} headline numbers (protocol {block['name']}{where}):"


def terminal_lines(block: dict[str, Any]) -> list[str]:
    header, body = grid(block)
    official = block["official"]
    return [
        "",
        title(block),
        *table(header, body),
        statement(block),
        f"official failure rule: {official['summary']}",
    ]


def markdown_lines(block: dict[str, Any], escape) -> list[str]:
    header, body = grid(block)
    official = block["official"]
    lines = [
        "",
        f"## {escape(title(block).rstrip(':'))}",
        "",
        escape(statement(block)) + ".",
        "",
        "| " + " | ".join(escape(h) for h in header) + " |",
        "|---|" + "---:|" * (len(header) - 2) + "---|",
    ]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in body]
    lines += [
        "",
        f"Official failure rule: {escape(official['summary'])}. {escape(official['text'])}",
    ]
    return lines


def unit(block: dict[str, Any], name: str) -> str | None:
    """A column's unit for its header: `%` for a percentage, else its scale (`0–100`), or None."""
    base = name.removesuffix(OFFICIAL_SUFFIX).removesuffix(ARITHMETIC_SUFFIX)
    column = next((c for c in block["columns"] if c["name"] == base), None)
    if column is None:
        return None
    if column.get("percent"):
        return "%"
    scale = (block["interval"].get("scales") or {}).get(base)
    return f"{scale[0]:g}–{scale[1]:g}" if scale else None


def html_table(block: dict[str, Any]) -> str:
    header, body = grid(block)
    esc = _esc
    named = [f"{h} ({unit(block, h)})" if unit(block, h) else h for h in header]
    head = "".join(f"<th>{esc(h)}</th>" for h in named)
    rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in body)
    official = block["official"]
    return (
        f"<h2>{esc(title(block).rstrip(':'))}</h2>"
        f'<table id="protocol"><caption>{esc(statement(block))}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="official">Official failure rule: {esc(official["summary"])}. '
        f"{esc(official['text'])}</p>"
    )


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)
