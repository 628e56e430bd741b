"""Summaries, tables, CSV, Markdown, the fail-under gate and records rebuilt from test reports."""

from __future__ import annotations

import csv
import io
import json
import random
import statistics

import pytest
from _pytest.reports import TestReport

from editbench.cases import load_suite
from editbench.errors import ConfigError
from editbench.protocols import DEFAULT, builtin
from editbench.reporting import markdown
from editbench.reporting.gate import parse_thresholds, violations
from editbench.reporting.records import record_from_report
from editbench.reporting.summary import summarize
from editbench.reporting.tables import display_width, summary_csv, table_lines
from support import CATEGORIES, SAMPLE_SUITE, record, sample_records, write_run

EDITBENCH = builtin(DEFAULT)


def by_key(summary):
    return {row["key"]: row for row in summary["categories"]}


def test_failed_cases_are_counted_beside_the_means_never_in_them():
    summary = summarize(sample_records(), CATEGORIES, EDITBENCH)
    physical = by_key(summary)["physical"]
    assert (physical["n"], physical["scored"], physical["failed"]) == (4, 3, 1)
    assert physical["failures"] == {"unparseable": 1}
    assert physical["dimensions"]["PQ"]["n"] == 3  # the PQ of the failed case is not used either
    assert physical["dimensions"]["SC"]["mean"] == pytest.approx(6.0)
    micro = summary["overall"]["micro"]
    assert micro["failures"] == {"edit-error": 1, "unparseable": 1}
    assert (micro["n"], micro["failed"]) == (11, 2)


def test_micro_weighs_cases_macro_weighs_categories():
    summary = summarize(sample_records(), CATEGORIES, EDITBENCH)
    sc_means = [
        by_key(summary)[k]["dimensions"]["SC"]["mean"] for k in ("physical", "social", "causal")
    ]
    macro = summary["overall"]["macro"]["dimensions"]["SC"]
    micro = summary["overall"]["micro"]["dimensions"]["SC"]
    assert macro["mean"] == pytest.approx(statistics.fmean(sc_means))
    assert micro["mean"] == pytest.approx(statistics.fmean([6, 7, 5, 2, 3, 9, 8, 7, 9]))
    assert macro["mean"] != pytest.approx(micro["mean"])
    assert macro["ci_low"] is None  # a category has fewer than 5 scored cases
    assert micro["ci_low"] <= micro["mean"] <= micro["ci_high"]  # 9 scored cases
    interval = summary["interval"]
    assert (interval["method"], interval["confidence"], interval["min_n"]) == (
        "betting confidence interval for a bounded mean (Waudby-Smith & Ramdas 2024)",
        0.95,
        5,
    )
    five = [record(f"x-{i}", c, 5 + i % 3, 6) for c in ("physical", "social") for i in range(5)]
    macro = summarize(five, CATEGORIES, EDITBENCH)["overall"]["macro"]["dimensions"]["SC"]
    assert macro["ci_low"] < macro["mean"] < macro["ci_high"]


def test_summary_does_not_depend_on_arrival_order():
    records = sample_records()
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    assert summarize(shuffled, CATEGORIES, EDITBENCH) == summarize(records, CATEGORIES, EDITBENCH)


def test_categories_follow_suite_order_and_unknown_ones_are_kept():
    records = [*sample_records(), record("x-1", "extra", 5, 5)]
    keys = [row["key"] for row in summarize(records, CATEGORIES, EDITBENCH)["categories"]]
    assert keys == ["physical", "social", "causal", "extra"]


def test_terminal_table_aligns_cjk_names_by_display_width():
    lines = table_lines(summarize(sample_records(), CATEGORIES, EDITBENCH))
    assert display_width("物理") == 4 and display_width("overall") == 7
    assert len({display_width(line.rstrip()) for line in lines[:2]}) == 1
    # every row's first score column starts at the same display column
    starts = {
        display_width(line[: line.index("  ", line.index(name) + len(name))])
        for line, name in zip(lines[2:5], ["物理", "社会", "因果"], strict=True)
    }
    assert len(starts) == 1
    assert any(line.startswith("物理") and "6.00 (n<5)" in line for line in lines)
    assert any(line.startswith("overall (micro)") and "[" in line for line in lines)
    assert lines[-1].startswith("mean [95% betting interval for a bounded mean")


def test_csv_is_long_format_and_pandas_readable(tmp_path):
    summary = summarize(sample_records(), CATEGORIES, EDITBENCH)
    text = summary_csv(summary)
    rows = list(csv.DictReader(io.StringIO(text)))
    sc_physical = [r for r in rows if r["category"] == "physical" and r["dimension"] == "SC"]
    assert float(sc_physical[0]["mean"]) == pytest.approx(6.0)
    assert {r["level"] for r in rows} == {"category", "micro", "macro"}
    pandas = pytest.importorskip("pandas")
    (tmp_path / "summary.csv").write_text(text, encoding="utf-8")
    frame = pandas.read_csv(tmp_path / "summary.csv")
    assert frame.query("level == 'micro' and dimension == 'O'")["n"].item() == 9


def test_markdown_escapes_table_cells_and_lists_failures():
    records = [*sample_records(), record("社会-003", "social", None, None, "timeout", "a | b\nc")]
    text = markdown.render(summarize(records, CATEGORIES, EDITBENCH), records, {"run_id": "r1"})
    assert "| 社会-003 | timeout | a \\| b c |" in text
    assert "| 物理 | 4 | 1 |" in text


def test_gate_parses_dimensions_and_categories():
    categories = [(key, (name, key)) for key, name in CATEGORIES]
    thresholds = parse_thresholds(["O=6.5", "SC@物理=5", "PQ@macro=1"], categories, EDITBENCH)
    assert [(t.dimension, t.category, t.value) for t in thresholds] == [
        ("O", None, 6.5),
        ("SC", "physical", 5.0),
        ("PQ", "macro", 1.0),
    ]
    for bad, hint in [
        ("X=1", "DIM one of"),
        ("O=high", "not a number"),
        ("O", "DIM"),
        ("SC@nowhere=1", "unknown category 'nowhere'"),
    ]:
        with pytest.raises(ConfigError, match=hint):
            parse_thresholds([bad], categories, EDITBENCH)


def test_gate_fails_below_the_threshold_and_without_scores():
    categories = [(key, (name, key)) for key, name in CATEGORIES]
    summary = summarize(sample_records(), CATEGORIES, EDITBENCH)
    micro_o = summary["overall"]["micro"]["dimensions"]["O"]["mean"]
    assert (
        violations(summary, parse_thresholds([f"O={micro_o - 0.01}"], categories, EDITBENCH)) == []
    )
    failed = violations(
        summary, parse_thresholds([f"O={micro_o + 0.01}", "SC@social=3"], categories, EDITBENCH)
    )
    assert len(failed) == 2 and "overall (micro)" in failed[0] and "社会 (social)" in failed[1]
    empty = summarize([record("物理-9", "physical", None, None, "timeout")], CATEGORIES, EDITBENCH)
    assert "no scored O" in violations(empty, parse_thresholds(["O=1"], categories, EDITBENCH))[0]


def make_report(nodeid, when, outcome, props, longrepr=None):
    return TestReport(
        nodeid,
        ("benchmarks/test_edit.py", 0, "test_edit"),
        {},
        outcome,
        longrepr,
        when,
        user_properties=props,
    )


def test_record_from_report_rebuilds_properties_and_worker_info():
    case = load_suite(SAMPLE_SUITE).cases[0]
    props = [
        ("eb.version", 1),
        ("case_id", case.id),
        ("status", "ok"),
        ("score.SC", 7.0),
        ("status.SC", "ok"),
        ("reasoning.SC", "fine"),
        ("image.edited", "images/x.png"),
        ("eb.worker", json.dumps({"editor": {"backend": "identity"}})),
    ]
    rec = record_from_report(
        make_report(f"t::test_edit[{case.test_id}]", "call", "passed", props), case
    )
    assert rec["scores"] == {"SC": 7.0} and rec["statuses"] == {"SC": "ok"}
    assert rec["reasoning"] == {"SC": "fine"} and rec["images"] == {"edited": "images/x.png"}
    assert rec["worker_info"] == {"editor": {"backend": "identity"}}
    assert rec["instruction"]["en"] == case.instruction["en"] and rec["category"] == "physical"


def test_a_crashed_worker_case_is_a_crashed_record_without_scores():
    case = load_suite(SAMPLE_SUITE).cases[0]
    report = make_report(
        f"t::test_edit[{case.test_id}]",
        "???",
        "failed",
        [],
        longrepr="worker 'gw0' crashed while running 't::test_edit'",
    )
    rec = record_from_report(report, case)
    assert rec["status"] == "crashed" and rec["scores"] == {} and "crashed" in rec["reason"]


def test_run_folder_reports_are_written(tmp_path):
    summary = write_run(tmp_path, sample_records())
    for name in ("summary.json", "summary.csv", "report.md", "report.html"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")) == json.loads(
        json.dumps(summary)
    )
