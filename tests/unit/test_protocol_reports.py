"""A protocol's headline numbers in the run folder's files: recomputed from run.json by merge,
compared between runs by compare, rendered in report.md and report.html (escaped)."""

from __future__ import annotations

import json
import math
import statistics

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
