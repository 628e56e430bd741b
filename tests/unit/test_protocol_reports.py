"""A protocol's headline numbers in the run folder's files: recomputed from run.json by merge,
compared between runs by compare, rendered in report.md and report.html (escaped)."""

from __future__ import annotations

import json
import math
import statistics

import pytest

from editbench import protocols
from editbench.cli import main as cli
from editbench.protocols.loader import BUILTIN_DIR, read_protocol
from support import write_run

GEDIT = read_protocol(BUILTIN_DIR / "gedit.yaml", "builtin:gedit")
TYPES = [("text_change", "text_change"), ("ps_human", "ps_human")]


def gedit_record(case_id: str, task: str, sc: float | None, pq: float, intersection=False) -> dict:
    statuses = {"SC": "ok" if sc is not None else "unparseable", "PQ": "ok"}
    scores = {"SC": sc, "PQ": pq}
    if sc is not None:
        statuses["O"], scores["O"] = "ok", math.sqrt(sc * pq)
    else:
        statuses["O"], scores["O"] = "missing-input", None
    facts = {"language": "en", **({"intersection": True} if intersection else {})}
    return {
        "case_id": case_id,
        "test_id": case_id,
        "category": task,
        "category_name": task,
        "status": "ok" if sc is not None else "unparseable",
        "reason": "" if sc is not None else "SC: no score <script>",
        "instruction": {"en": "do it"},
        "scores": scores,
        "statuses": statuses,
        "facts": facts,
        "images": {},
    }


def meta(run_id: str) -> dict:
    return {
        "run_id": run_id,
        "suite": {"name": "GEdit-Bench", "version": "1", "categories": [list(t) for t in TYPES]},
        "config": {"suite": {}, "editor": {"backend": "replay"}, "judge": {"protocol": "gedit"}},
        "protocol": protocols.describe(GEDIT),
    }


RUN_A = [
    gedit_record("text_change-1", "text_change", 6, 7, intersection=True),
    gedit_record("text_change-2", "text_change", 4, 5),
    gedit_record("ps_human-1", "ps_human", 8, 8, intersection=True),
    gedit_record("ps_human-2", "ps_human", None, 6),
]


def folder(path):
    path.mkdir(parents=True)
    return path


def headline(summary: dict, column: str, row: str) -> dict:
    return next(
        n for n in summary["protocol"]["numbers"] if n["column"] == column and n["row"] == row
    )


def test_merge_recomputes_the_headline_numbers_from_run_json(tmp_path, capsys):
    whole = write_run(folder(tmp_path / "whole"), RUN_A, meta("whole"))
    write_run(folder(tmp_path / "a"), RUN_A[:2], meta("a"))
    write_run(folder(tmp_path / "b"), RUN_A[2:], meta("b"))
    out = tmp_path / "merged"
    assert cli(["merge", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out)]) == 0
    assert "GEdit-Bench (VIEScore) headline numbers" in capsys.readouterr().out
    merged = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert merged["protocol"]["numbers"] == whole["protocol"]["numbers"]
    g_sc = headline(merged, "G_SC", "full")
    assert g_sc["value"] == statistics.fmean([statistics.fmean([6, 4]), 8])
    assert (g_sc["n"], g_sc["failures"]) == (3, {"unparseable": 1})
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## GEdit-Bench (VIEScore) headline numbers (protocol gedit, language en)" in markdown
    assert "| full | 6.50 n=3 |" in markdown  # no interval: ps_human has one scored case
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<table id="protocol">' in page and "<script>" not in page.split("<h2>Cases")[0]


def test_compare_adds_the_headline_numbers_on_shared_cases(tmp_path, capsys):
    run_b = [dict(r) for r in RUN_A]
    run_b[0] = gedit_record("text_change-1", "text_change", 9, 7, intersection=True)
    run_b[3] = gedit_record("ps_human-2", "ps_human", 2, 6)  # scored in B, failed in A
    write_run(folder(tmp_path / "a"), RUN_A, meta("a"))
    write_run(folder(tmp_path / "b"), run_b, meta("b"))
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    result = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    row = next(r for r in result["protocol"]["rows"] if (r["column"], r["row"]) == ("G_SC", "full"))
    # cases both runs scored: ps_human-2 failed in A, so it is left out of both sides
    a = statistics.fmean([statistics.fmean([6, 4]), 8])
    b = statistics.fmean([statistics.fmean([9, 4]), 8])
    assert (row["a"], row["b"], row["n"]) == (a, b, 3)
    assert row["delta"] == b - a and row["failed_a"] == 1 and row["failed_b"] == 0
    assert "protocol gedit headline numbers" in capsys.readouterr().out


def test_merge_knows_a_protocol_by_its_content_not_its_path():
    from editbench.reporting.merge import must_agree

    here, there = meta("a"), meta("b")
    here["config"]["judge"]["protocol"] = "/machine-a/mine.yaml"
    there["config"]["judge"]["protocol"] = "/machine-b/mine.yaml"
    assert must_agree(here)["judge"] == must_agree(there)["judge"]
    edited = meta("c")
    edited["protocol"] = {**edited["protocol"], "sha256": "0" * 64}  # a template changed
    assert must_agree(edited)["judge"]["protocol"] != must_agree(here)["judge"]["protocol"]


def test_compare_tests_headline_numbers_by_the_comparison_rules(tmp_path):
    """B - A of each headline number with the betting interval and p-value, failures counted
    and newly failing cases named, no flag below 5 cases in a category, and the same Holm
    correction. 60 cases per type: 6 equal drops of 2 on 0-10 prove nothing for an interval
    valid for any distribution of B - A."""

    def run(sc: float) -> list[dict]:
        return [
            gedit_record(f"{task}-{i}", task, sc, 7, intersection=i < 3)
            for task, _ in TYPES
            for i in range(60)
        ]

    run_b = run(6)
    run_b[0] = gedit_record("text_change-0", "text_change", None, 7, intersection=True)
    write_run(folder(tmp_path / "a"), run(8), meta("a"))
    write_run(folder(tmp_path / "b"), run_b, meta("b"))
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on-regression"]) == 1
    result = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    rows = {(r["column"], r["row"]): r for r in result["protocol"]["rows"]}

    full = rows[("G_SC", "full")]
    assert (full["n"], full["failed_a"], full["failed_b"]) == (119, 0, 1)
    assert full["newly_failing_cases"] == ["text_change-0"] and full["p_failures"] == 1.0
    assert full["delta"] == pytest.approx(-2.0) and full["ci_high"] < 0
    assert full["flag"] == "regression" and full["p"] <= full["p_holm"] < 0.05
    assert rows[("G_PQ", "full")]["flag"] == "" and rows[("G_PQ", "full")]["delta"] == 0
    small = rows[("G_SC", "intersection")]  # 2 and 3 cases per task type
    assert small["flag"] == "n too small" and small["ci_low"] is None
    assert "G_SC@full" in result["regressions"]
    tests = [r[f] for r in [*result["rows"], *rows.values()] for f in ("p", "p_failures")]
    assert result["tests"] == sum(p is not None for p in tests)  # one Holm family


def test_a_pooled_mean_has_the_betting_interval_of_its_cases_on_its_own_scale():
    """KRIS's Score pools three or four values per case: each case enters the interval once, as
    its sum and count (at most 4 values), on 0-100."""
    from editbench.reporting import stats
    from editbench.reporting.headline import compute
    from editbench.vocabulary import Scale

    kris = read_protocol(BUILTIN_DIR / "kris.yaml", "builtin:kris")
    values = {  # per case VC, VQ, IF (and KP on a knowledge category), 1-5
        "physics-1": (5, 4, 4, 5),
        "physics-2": (2, 2, 3, 1),
        "physics-3": (4, 4, 4, 4),
        "count_change-1": (3, 5, 4),
        "count_change-2": (1, 2, 2),
        "count_change-3": (5, 5, 4),
    }
    records = []
    for case_id, scores in values.items():
        dims = dict(zip(("VC", "VQ", "IF", "KP"), scores, strict=False))
        records.append(
            {
                "case_id": case_id,
                "category": case_id.split("-")[0],
                "status": "ok",
                "scores": dims,
                "statuses": {d: "ok" for d in dims},
            }
        )
    number = compute(kris, next(c for c in kris.aggregate.columns if c.name == "Score"), records)

    percents = {k: [25 * (s - 1) for s in v] for k, v in values.items()}
    sums = [sum(v) for v in percents.values()]
    counts = [len(v) for v in percents.values()]
    pooled = sum(sums) / sum(counts)
    low, high = stats.estimate_pooled(sums, counts, Scale(0, 100), most=4).interval()
    assert number["value"] == pytest.approx(pooled) and number["n"] == 6
    assert (number["ci_low"], number["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert low < pooled < high
    assert compute(kris, kris.aggregate.columns[0], records[:4])["ci_low"] is None  # n = 4 < 5
