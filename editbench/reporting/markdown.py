"""report.md: the run at a glance, for a pull request or a lab notebook."""

from __future__ import annotations

from typing import Any

from editbench.reporting.gallery import image_kinds
from editbench.reporting.headline_tables import markdown_lines as protocol_markdown
from editbench.reporting.summary import failures_text, interval_text, rows
from editbench.reporting.tables import score_cell


def cell(text: Any) -> str:
    """A Markdown table cell: pipes escaped, newlines flattened."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def render(summary: dict[str, Any], records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    dims = summary["dimensions"]
    lines = [f"# editbench run {cell(meta.get('run_id', ''))}", ""]
    lines += [
        f"- {label}: {cell(value)}" for label, value in _facts(meta) if value not in (None, "")
    ]
    lines += [
        "",
        "## Scores",
        "",
        f"Mean [{interval_text(summary)}]; failed cases are excluded from the means and "
        "counted beside them.",
        "",
        "| category | n | failed | " + " | ".join(dims) + " | failures |",
        "|---|---:|---:|" + "---:|" * len(dims) + "---|",
    ]
    for row in rows(summary):
        cells = [
            cell(row["name"]),
            str(row["n"]),
            str(row["failed"]),
            *(score_cell(row["dimensions"].get(d)) for d in dims),
            cell(failures_text(row)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if "protocol" in summary:
        lines += protocol_markdown(summary["protocol"], cell)
    failed = [r for r in records if r.get("status") != "ok"]
    if failed:
        lines += ["", "## Failed cases", "", "| case | status | reason |", "|---|---|---|"]
        lines += [
            f"| {cell(r.get('test_id', r.get('case_id')))} | {cell(r.get('status'))} | "
            f"{cell(r.get('reason', ''))[:300]} |"
            for r in failed
        ]
    lines += _several_inputs(records)
    if not dims:
        lines += ["", "No scores: the judge was off (judge.backend: none) or every case failed."]
    return "\n".join(lines) + "\n"


def _several_inputs(records: list[dict[str, Any]]) -> list[str]:
    """Cases with several input images: links to every input and to the edit."""
    rows = []
    for record in records:
        images = record.get("images") or {}
        kinds = image_kinds(images)
        if len(kinds) < 2:
            continue
        inputs = ", ".join(f"[{n}]({images[k]})" for n, k in enumerate(kinds, start=1))
        edited = f"[edited]({images['edited']})" if images.get("edited") else "none"
        rows.append(
            f"| {cell(record.get('test_id', record.get('case_id')))} | "
            f"{cell(record.get('status'))} | {inputs} | {edited} |"
        )
    if not rows:
        return []
    return [
        "",
        "## Cases with several input images",
        "",
        "| case | status | inputs | edit |",
        "|---|---|---|---|",
        *rows,
    ]


def _facts(meta: dict[str, Any]) -> list[tuple[str, Any]]:
    suite, editor, judge = meta.get("suite", {}), meta.get("editor", {}), meta.get("judge", {})
    return [
        ("suite", f"{suite.get('name', '')} {suite.get('version', '')}".strip()),
        ("editor", " ".join(str(v) for v in (editor.get("backend"), editor.get("model")) if v)),
        (
            "judge",
            " ".join(
                str(v) for v in (judge.get("backend"), judge.get("model"), judge.get("method")) if v
            ),
        ),
        ("shard", meta.get("shard")),
        ("started", meta.get("started")),
        ("finished", meta.get("finished")),
        ("git", meta.get("git", {}).get("revision")),
        ("note", meta.get("note")),
    ]
