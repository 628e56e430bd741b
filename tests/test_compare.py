"""`editbench compare`: paired deltas on shared cases, significant regressions flagged."""

from __future__ import annotations

import copy
import json

from reportdata import sample_records, write_run

from editbench.cli import main as cli


def worse(records, category, dimension, by):
    out = copy.deepcopy(records)
    for rec in out:
        if rec["category"] == category and rec["statuses"].get(dimension) == "ok":
            rec["scores"][dimension] -= by
    return out


def test_regression_is_flagged_and_written_as_json(tmp_path, capsys):
    base = sample_records()
    write_run(tmp_path / "a", base)
    write_run(tmp_path / "b", worse(base, "causal", "SC", 2.0)[:-1])  # B lacks one case
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "shared cases: 10 (only in A: 1, only in B: 0)" in out
    result = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    causal_sc = next(
        r for r in result["rows"] if r["category"] == "causal" and r["dimension"] == "SC"
    )
    assert causal_sc["delta"] == -2.0 and causal_sc["n"] == 3  # shared, scored in both
    assert causal_sc["flag"] == "regression" and "causal/SC" in result["regressions"]
    physical_sc = next(
        r for r in result["rows"] if r["category"] == "physical" and r["dimension"] == "SC"
    )
    assert physical_sc["delta"] == 0.0 and physical_sc["flag"] == ""
    assert (
        cli(
            [
                "compare",
                str(tmp_path / "a"),
                str(tmp_path / "b"),
                "--fail-on-regression",
                "-o",
                str(tmp_path / "c.json"),
            ]
        )
        == 1
    )
    assert (tmp_path / "c.json").is_file()


def test_improvement_is_not_a_regression(tmp_path):
    base = sample_records()
    write_run(tmp_path / "a", base)
    write_run(tmp_path / "b", worse(base, "physical", "PQ", -1.0))
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on-regression"]) == 0
    result = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    assert result["regressions"] == []
    assert any(r["flag"] == "improvement" and r["dimension"] == "PQ" for r in result["rows"])


def test_a_folder_that_is_not_a_run_is_one_clear_error(tmp_path, capsys):
    assert cli(["compare", str(tmp_path), str(tmp_path)]) == 2
    assert "not an editbench run folder (no results.jsonl)" in capsys.readouterr().err
