"""`editbench compare`: paired deltas, failures that never vanish, flags corrected for their number."""

from __future__ import annotations

import copy
import json

from comparedata import rise_meta, rise_record
from editbench.cli import main as cli
from editbench.protocols import DEFAULT, builtin
from editbench.reporting.compare import compare, lines
from support import CATEGORIES, record, sample_records, write_run


def scored(category: str, values: list[float], prefix: str = "") -> list[dict]:
    """One scored record per value (SC = value, PQ = 8), ids `<prefix><category>-NNN`."""
    return [
        record(f"{prefix}{category}-{i:03d}", category, v, 8.0) for i, v in enumerate(values, 1)
    ]


def shift(records, category, dimension, by):
    out = copy.deepcopy(records)
    for rec in out:
        if rec["category"] == category and rec["statuses"].get(dimension) == "ok":
            rec["scores"][dimension] += by
    return out


def fail(rec: dict, status: str = "edit-error") -> dict:
    out = copy.deepcopy(rec)
    out.update(status=status, reason="RuntimeError: boom", scores={}, statuses={})
    return out


def row_of(result, category, dimension="SC"):
    return next(
        r for r in result["rows"] if r["category"] == category and r["dimension"] == dimension
    )


def run_compare(tmp_path, records_a, records_b, *extra):
    write_run(tmp_path / "a", records_a)
    write_run(tmp_path / "b", records_b)
    code = cli(["compare", str(tmp_path / "a"), str(tmp_path / "b"), *extra])
    result = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    return code, result


def test_cases_that_fail_in_b_are_counted_and_fail_the_gate(tmp_path, capsys):
    """The issue's run: B fails the three low cases and adds 0.5 to the rest."""
    a = scored("physical", [2, 2, 3, 8, 8, 8, 9, 9])
    b = [fail(r) for r in a[:3]] + shift(a[3:], "physical", "SC", 0.5)
    code, result = run_compare(tmp_path, a, b, "--fail-on-regression")
    assert code == 1
    sc = row_of(result, "physical")
    assert (sc["n"], sc["failed_a"], sc["failed_b"], sc["newly_failing"]) == (5, 0, 3, 3)
    assert sc["newly_failing_cases"] == ["physical-001", "physical-002", "physical-003"]
    assert sc["delta"] == 0.5 and sc["flag"] != "improvement"  # five survivors prove nothing
    assert [c["case_id"] for c in result["newly_failing"]] == sc["newly_failing_cases"]
    assert result["newly_failing"][0]["status_b"] == "edit-error"
    out = capsys.readouterr().out
    assert "newly failing in B: 3 cases: physical-001 (edit-error)" in out
    assert "failed B" in out and "McNemar exact" in out and "betting interval" in out


def test_a_large_failure_increase_is_a_flagged_regression(tmp_path):
    a = scored("physical", [6, 7, 8, 7, 6, 7, 8, 7, 6, 7])
    b = [fail(r, "timeout") for r in a[:9]] + a[9:]
    code, result = run_compare(tmp_path, a, b)
    assert code == 0  # without --fail-on-regression the exit status stays 0
    sc = row_of(result, "physical")
    assert sc["p_failures"] < 0.01 and sc["failures_flag"] == "regression"
    assert sc["score_flag"] == "n too small" and sc["flag"] == "regression"
    assert "physical/SC failures" in result["regressions"]


def test_a_clear_score_drop_is_flagged_after_correction(tmp_path, capsys):
    """30 cases per category: the betting interval, valid for any distribution of B - A on
    [-10, 10], cannot exclude 0 from ten equal drops of 3 (a rare +10 could offset them)."""
    a = scored("physical", [6, 7, 8, 7, 6, 7, 8, 7, 6, 7] * 3) + scored("causal", [5] * 30)
    b = shift(a, "causal", "SC", -3.0)
    code, result = run_compare(tmp_path, a, b, "--fail-on-regression")
    assert code == 1
    causal = row_of(result, "causal")
    assert causal["delta"] == -3.0 and causal["flag"] == "regression"
    assert causal["p"] <= causal["p_holm"] < 0.05 and causal["ci_high"] < 0
    assert row_of(result, "physical")["flag"] == ""
    assert "causal/SC" in result["regressions"] and "overall/SC" in result["regressions"]
    assert result["newly_failing"] == []
    assert "REGRESSION" in capsys.readouterr().out


def test_an_improvement_is_not_a_regression(tmp_path):
    a = scored("physical", [6, 7, 8, 7, 6, 7, 5, 7, 6, 7] * 6)  # a Holm family of 8 tests
    b = shift(a, "physical", "SC", 2.5)
    code, result = run_compare(tmp_path, a, b, "--fail-on-regression")
    assert code == 0 and result["regressions"] == []
    assert row_of(result, "physical")["flag"] == "improvement"


def test_few_cases_are_never_flagged(tmp_path, capsys):
    """One shared case and a 0.1 drop: no interval, no REGRESSION, the row says why."""
    a = scored("physical", [7.0])
    code, result = run_compare(
        tmp_path, a, shift(a, "physical", "SC", -0.1), "--fail-on-regression"
    )
    assert code == 0
    sc = row_of(result, "physical")
    assert sc["flag"] == "n too small" and sc["ci_low"] is None and sc["p"] is None
    out = capsys.readouterr().out
    assert "-0.10 (n<5)" in out and "n too small" in out and "REGRESSION" not in out


def test_rows_without_any_pair_still_show_their_failures():
    a = scored("physical", [6, 7, 8, 7, 6])
    result = compare(a, [fail(r) for r in a], CATEGORIES, builtin(DEFAULT))
    sc = row_of(result, "physical")
    assert (sc["n"], sc["mean_a"], sc["delta"], sc["failed_b"], sc["newly_failing"]) == (
        0,
        None,
        None,
        5,
        5,
    )
    text = "\n".join(lines(result))
    assert "newly failing in B: 5 cases" in text


def test_unpaired_cases_are_counted_apart(tmp_path):
    base = sample_records()
    code, result = run_compare(tmp_path, base, base[:-1])
    assert code == 0
    assert (result["shared_cases"], result["only_a"], result["only_b"]) == (10, 1, 0)
    assert result["regressions"] == [] and result["newly_failing"] == []


def test_a_folder_that_is_not_a_run_is_one_clear_error(tmp_path, capsys):
    assert cli(["compare", str(tmp_path), str(tmp_path)]) == 2
    assert "not an editbench run folder (no results.jsonl)" in capsys.readouterr().err


def test_a_dimension_that_does_not_apply_to_a_case_is_never_a_failure(tmp_path, capsys):
    """The issue's RISE compare: consistency-free causal cases have no consistency, logical cases
    no plausibility; both runs are all `ok`, so no row counts a failure. A consistency-free case
    that fails whole in B newly fails what it was asked (reasoning), never consistency."""
    free, logical = {"consistency_free": True}, {"reference_text": "4"}
    a = [
        *(rise_record(f"causal-{i}", "causal_reasoning", {}) for i in range(3)),
        *(rise_record(f"free-{i}", "causal_reasoning", free) for i in range(3)),
        *(rise_record(f"logic-{i}", "logical_reasoning", logical) for i in range(3)),
    ]
    b = [*a[:5], rise_record("free-2", "causal_reasoning", free, "edit-error"), *a[6:]]
    for path, records in (("a", a), ("b", a), ("c", b)):
        (tmp_path / path).mkdir()
        write_run(tmp_path / path, records, rise_meta(path))
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    same = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    assert [
        (r["category"], r["dimension"], r["failed_a"], r["failed_b"])
        for r in same["rows"]
        if r["failed_a"] or r["failed_b"]
    ] == []
    assert (
        row_of(same, "causal_reasoning", "consistency")["n"],
        row_of(same, "overall", "plausibility")["n"],
    ) == (3, 6)
    assert not any(
        r["category"] == "logical_reasoning" and r["dimension"] == "plausibility"
        for r in same["rows"]
    )  # no case of the category has it: no row at all
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "c")]) == 0
    failed = json.loads((tmp_path / "c" / "compare.json").read_text(encoding="utf-8"))
    assert row_of(failed, "causal_reasoning", "reasoning")["newly_failing_cases"] == ["free-2"]
    consistency = row_of(failed, "causal_reasoning", "consistency")
    assert (consistency["failed_b"], consistency["newly_failing"], consistency["n"]) == (0, 0, 3)
