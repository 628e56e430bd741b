"""agree.json as the terminal shows it: the runs, the overlap with the ratings, and one table.

The table's columns depend on the question asked (`kind`: ratings, judges or preferences); an
interval is printed beside its coefficient, or why there is none.
"""

from __future__ import annotations

from typing import Any

from editbench.reporting.agreement import HUMAN
from editbench.reporting.coefficients import MIN_CASES
from editbench.reporting.tables import table


def lines(result: dict[str, Any]) -> list[str]:
    out = [
        *_run_lines(result),
        *_edits_lines(result.get("edits")),
        *_overlap_lines(result),
        f"intervals: {result['method']['intervals']}; under {MIN_CASES} cases the "
        "coefficient alone (n<10)",
    ]
    if result["kind"] != "preferences":
        out.append(
            f"human score of a case: {HUMAN}; ceiling (several raters): Krippendorff's α "
            "(interval) among them, and mean rater-vs-rest Spearman ρ"
        )
    header, body = {
        "ratings": _ratings_table,
        "judges": _judges_table,
        "preferences": _preferences_table,
    }[result["kind"]](result["rows"])
    out += table(header, body, right_from=2)
    out += _failure_lines(result["rows"])
    out += [f"warning: {w}" for w in result["warnings"]]
    return out


def _run_lines(result: dict[str, Any]) -> list[str]:
    names = {"ratings": ["judge"], "judges": ["J1", "J2"], "preferences": ["A", "B"]}[
        result["kind"]
    ]
    return [
        f"{name}: {run['path']} ({_judge_text(run['judge'])})"
        for name, run in zip(names, result["runs"], strict=True)
    ]


def _edits_lines(edits: dict[str, Any] | None) -> list[str]:
    if not edits:
        return []
    source = (
        " (J2 replays J1's edits)"
        if edits["j2_replays_j1"]
        else " (J1 replays J2's edits)"
        if edits["j1_replays_j2"]
        else ""
    )
    same = edits["images_compared"] - edits["images_differ"]
    return [
        f"edits{source}: edited images identical in {same} of {edits['images_compared']} "
        "cases compared"
    ]


def _judge_text(judge: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in judge.items()) or "judge unknown"


def _overlap_lines(result: dict[str, Any]) -> list[str]:
    ratings, overlap = result["ratings"], result["overlap"]
    where = "the run" if result["kind"] == "ratings" else "both runs"
    return [
        f"ratings: {ratings['path']} ({ratings['shape']}, {ratings['rows']} rows, "
        f"{ratings['raters']} raters); {overlap['cases_rated']} rated cases in {where}, "
        f"{overlap['rated_not_in_run']} rated cases not in {where}, "
        f"{overlap['run_not_rated']} cases in {where} not rated"
        + (
            ""
            if overlap["suite_checked"]
            else " (the suite in run.json could not be read: "
            "names outside the run were counted, not checked)"
        )
    ]


def _value(stat: dict[str, Any] | None) -> str:
    """`0.71 [0.42, 0.88]`, `0.71 (n<10)`, `0.71 (no CI)` or `undefined`."""
    if not stat or stat.get("value") is None:
        return "undefined"
    text = f"{stat['value']:+.2f}" if stat.get("signed") else f"{stat['value']:.2f}"
    if "ci_low" in stat:
        fmt = "{:+.2f}" if stat.get("signed") else "{:.2f}"
        return f"{text} [{fmt.format(stat['ci_low'])}, {fmt.format(stat['ci_high'])}]"
    return f"{text} (n<{MIN_CASES})" if "n too small" in stat.get("note", "") else f"{text} (no CI)"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ceiling_cells(row: dict[str, Any]) -> list[str]:
    """The raters of the rated cases (whether or not the judge scored them), and their ceiling
    over the cases the judge scored."""
    ceiling = row["ceiling"]
    rest = ceiling.get("rater_vs_rest") or {}
    return [str(row["raters"]), _number(ceiling.get("alpha")), _number(rest.get("value"))]


def _ratings_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = [
        "category",
        "dim",
        "n",
        "failed",
        "Spearman ρ [95% CI]",
        "Kendall τb [95% CI]",
        "Pearson r",
        "raters",
        "α humans",
        "rater-vs-rest ρ",
    ]
    body = [
        [
            r["name"],
            r["dimension"],
            str(r["n"]),
            str(r["failed"]),
            _value(r["spearman"]),
            _value(r["kendall"]),
            _number(r["pearson"]["value"]),
            *_ceiling_cells(r),
        ]
        for r in rows
    ]
    return header, body


def _judges_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = [
        "category",
        "dim",
        "n",
        "failed",
        "ρ J1",
        "ρ J2",
        "ρ J2-J1 [95% CI]",
        "τb J1",
        "τb J2",
        "τb J2-J1 [95% CI]",
        "raters",
        "α humans",
    ]
    body = []
    for r in rows:
        rho, tau = r["spearman"], r["kendall"]
        body.append(
            [
                r["name"],
                r["dimension"],
                str(r["n"]),
                str(r["failed"]),
                _number(rho["j1"]),
                _number(rho["j2"]),
                _value({**rho, "signed": True}),
                _number(tau["j1"]),
                _number(tau["j2"]),
                _value({**tau, "signed": True}),
                *_ceiling_cells(r)[:2],
            ]
        )
    return header, body


def _preferences_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = [
        "category",
        "dim",
        "n",
        "failed",
        "votes",
        "human ties",
        "judge ties",
        "accuracy w/o ties [95% CI]",
        "accuracy with ties [95% CI]",
    ]
    body = [
        [
            r["name"],
            r["dimension"],
            str(r["n"]),
            str(r["failed"]),
            str(r["votes"]),
            str(r["human_ties"]),
            str(r["judge_ties"]),
            _value(r["accuracy_without_ties"]),
            _value(r["accuracy_with_ties"]),
        ]
        for r in rows
    ]
    return header, body


def _failure_lines(rows: list[dict[str, Any]]) -> list[str]:
    failed = [
        f"{r['name']}/{r['dimension']}: " + ", ".join(f"{k} {v}" for k, v in r["failures"].items())
        for r in rows
        if r["failures"]
    ]
    return ["left out (failed in the run), by status: " + "; ".join(failed)] if failed else []
