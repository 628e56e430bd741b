"""Shards and `editbench merge`: shards partition the suite; merged shards equal one full run."""

from __future__ import annotations

import json

import pytest
from reportdata import sample_records, write_run
from tiny_judge import judge_python

from conftest import read_results, run_bench, write_config
from editbench.cli import main as cli

STATS_KEYS = ("categories", "overall", "dimensions", "bootstrap")
JUDGE_PYTHON = judge_python()
CONSTANT = {
    "backend": "constant",
    "python": JUDGE_PYTHON,
    "scores": {"SC": 7, "PQ": 8, "criterion": 6},
}


def summary_of(run_dir):
    data = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return {key: data[key] for key in STATS_KEYS}


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "judge", [{"backend": "none"}, CONSTANT], ids=["no-judge", "constant-judge"]
)
def test_two_shards_partition_the_suite_and_merge_to_the_full_run(tmp_path, judge):
    config = write_config(tmp_path, judge=judge)
    full = run_bench(config, "-n", "2", run_dir=tmp_path / "full")
    assert full.returncode == 0, full.stdout[-3000:]
    parts = []
    for k in (1, 2):
        shard = run_bench(config, "-n", "2", "--eb-shard", f"{k}/2", run_dir=tmp_path / f"shard{k}")
        assert shard.returncode == 0, shard.stdout[-3000:]
        parts.append({r["case_id"] for r in read_results(tmp_path / f"shard{k}")})
        assert f" {len(parts[-1])} passed" in shard.stdout  # the workers ran only their shard
        meta = json.loads((tmp_path / f"shard{k}" / "run.json").read_text(encoding="utf-8"))
        assert meta["shard"] == f"{k}/2"
    everything = {r["case_id"] for r in read_results(tmp_path / "full")}
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    assert parts[0] | parts[1] == everything and len(everything) == 25
    merged = tmp_path / "merged"
    assert (
        cli(["merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"), "-o", str(merged)]) == 0
    )
    assert summary_of(merged) == summary_of(tmp_path / "full")
    if judge["backend"] == "constant":
        overall = summary_of(merged)["overall"]["micro"]["dimensions"]
        assert (overall["SC"]["n"], overall["SC"]["mean"], overall["PQ"]["mean"]) == (25, 7.0, 8.0)
    assert {r["case_id"] for r in read_results(merged)} == everything
    assert len(list((merged / "images").rglob("*.png"))) == 50
    meta = json.loads((merged / "run.json").read_text(encoding="utf-8"))
    assert [m["shard"] for m in meta["merged_from"]] == ["1/2", "2/2"]
    for name in ("report.html", "report.md", "summary.csv"):
        assert (merged / name).is_file()


def test_merge_of_synthetic_parts_equals_the_whole(tmp_path):
    records = sample_records()
    write_run(tmp_path / "whole", records)
    write_run(tmp_path / "p1", records[::2])
    write_run(tmp_path / "p2", records[1::2])
    assert (
        cli(["merge", str(tmp_path / "p2"), str(tmp_path / "p1"), "-o", str(tmp_path / "m")]) == 0
    )
    assert summary_of(tmp_path / "m") == summary_of(tmp_path / "whole")


def test_merge_refuses_overlaps_mismatches_and_a_used_output(tmp_path, capsys):
    records = sample_records()
    write_run(tmp_path / "p1", records[:6])
    write_run(tmp_path / "p2", records[4:])
    assert (
        cli(["merge", str(tmp_path / "p1"), str(tmp_path / "p2"), "-o", str(tmp_path / "m")]) == 2
    )
    assert "is in both" in capsys.readouterr().err
    other = {
        "run_id": "x",
        "suite": {"name": "synthetic", "version": "1"},
        "config": {
            "suite": {},
            "editor": {"backend": "diffusers"},
            "judge": {"backend": "constant"},
        },
    }
    write_run(tmp_path / "p3", records[6:], meta=other)
    assert (
        cli(["merge", str(tmp_path / "p1"), str(tmp_path / "p3"), "-o", str(tmp_path / "m")]) == 2
    )
    assert (
        "config section 'editor' differs (backend: 'identity' vs 'diffusers')"
        in capsys.readouterr().err
    )
    write_run(tmp_path / "p4", records[6:])
    assert (
        cli(["merge", str(tmp_path / "p1"), str(tmp_path / "p4"), "-o", str(tmp_path / "p2")]) == 2
    )
    assert "already exists and is not empty" in capsys.readouterr().err
