"""Shards and `editbench merge`: shards partition the suite; merged shards equal one full run."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from editbench.cases import load_suite
from editbench.cli import main as cli
from editbench.reporting.runmeta import suite_meta
from editbench.shard import shard_cases
from support import (
    CATEGORIES,
    SAMPLE_SUITE,
    constant_judge,
    read_results,
    run_bench,
    run_in_process,
    sample_records,
    write_config,
    write_run,
)

STATS_KEYS = ("categories", "overall", "dimensions", "interval")


def everything_ids() -> list[str]:
    return [case.id for case in load_suite(SAMPLE_SUITE).cases]


def summary_of(run_dir):
    data = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return {key: data[key] for key in STATS_KEYS}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", ["none", "constant"], ids=["no-judge", "constant-judge"])
def test_two_shards_partition_the_suite_and_merge_to_the_full_run(tmp_path, request, backend):
    """The runs in this process (`run_in_process`; the constant judge in its interpreter): which
    cases a shard's workers collect is proven by test_run_json_lists_the_cases_collection_chose."""
    judge = (
        constant_judge(request.getfixturevalue("judge_python"))
        if backend == "constant"
        else {"backend": "none"}
    )
    config = write_config(tmp_path, judge=judge)
    assert run_in_process(config, run_dir=tmp_path / "full").returncode == 0
    # the second shard names the same suite by a relative path: the same suite all the same
    (tmp_path / "other").mkdir()
    relative = write_config(
        tmp_path / "other",
        judge=judge,
        suite={"path": os.path.relpath(SAMPLE_SUITE, tmp_path / "other")},
    )
    parts = []
    for k, shard_config in ((1, config), (2, relative)):
        shard = run_in_process(shard_config, run_dir=tmp_path / f"shard{k}", shard=f"{k}/2")
        assert shard.returncode == 0
        parts.append({r["case_id"] for r in read_results(tmp_path / f"shard{k}")})
        assert parts[-1] == shard_cases(load_suite(SAMPLE_SUITE).cases, (k, 2))
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
        "suite": {"name": "synthetic", "version": "1", "language": "en"},
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
    assert "the editor differs (backend: 'identity' vs 'diffusers')" in capsys.readouterr().err
    write_run(tmp_path / "p4", records[6:])
    assert (
        cli(["merge", str(tmp_path / "p1"), str(tmp_path / "p4"), "-o", str(tmp_path / "p2")]) == 2
    )
    assert "already exists and is not empty" in capsys.readouterr().err


def synthetic_meta(run_id: str, expected: list[str]) -> dict:
    return {
        "run_id": run_id,
        "suite": {
            "name": "synthetic",
            "version": "1",
            "language": "en",
            "categories": [list(c) for c in CATEGORIES],
        },
        "config": {
            "suite": {},
            "editor": {"backend": "identity"},
            "judge": {"backend": "constant"},
        },
        "expected_cases": expected,
    }


def test_merge_refuses_missing_expected_cases_unless_allowed_partial(tmp_path, capsys):
    records = sample_records()
    first, second = records[::2], records[1::2]
    lost = second.pop()  # the second run expected it but has no record of it
    ids = [r["case_id"] for r in records]
    write_run(tmp_path / "p1", first, meta=synthetic_meta("p1", [r["case_id"] for r in first]))
    write_run(
        tmp_path / "p2",
        second,
        meta=synthetic_meta("p2", [r["case_id"] for r in second] + [lost["case_id"]]),
    )
    runs = [str(tmp_path / "p1"), str(tmp_path / "p2")]
    assert cli(["merge", *runs, "-o", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert (
        f"1 of the {len(ids)} expected cases have no result ({tmp_path / 'p2'}: {lost['case_id']})"
        in err
    )
    assert "--allow-partial" in err and not (tmp_path / "m").exists()
    assert cli(["merge", *runs, "-o", str(tmp_path / "m"), "--allow-partial"]) == 0
    assert f"PARTIAL: 1 expected cases have no result: {lost['case_id']}" in capsys.readouterr().out
    meta = json.loads((tmp_path / "m" / "run.json").read_text(encoding="utf-8"))
    assert (meta["status"], meta["missing_cases"]) == ("partial", [lost["case_id"]])
    assert sorted(meta["expected_cases"]) == sorted(ids)
    assert (
        "Partial: 1 of the" in meta["note"]
        and "Partial: 1 of the" in (tmp_path / "m" / "report.md").read_text()
    )
    assert len(read_results(tmp_path / "m")) == len(records) - 1


def test_merge_of_covering_runs_is_not_partial(tmp_path):
    records = sample_records()
    for name, part in (("p1", records[::2]), ("p2", records[1::2])):
        write_run(tmp_path / name, part, meta=synthetic_meta(name, [r["case_id"] for r in part]))
    assert (
        cli(["merge", str(tmp_path / "p1"), str(tmp_path / "p2"), "-o", str(tmp_path / "m")]) == 0
    )
    meta = json.loads((tmp_path / "m" / "run.json").read_text(encoding="utf-8"))
    assert (meta["status"], meta["missing_cases"], meta["expected_from"]) == ("merged", [], "merge")
    assert "Partial" not in (meta.get("note") or "")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("workers", [["-n", "2"], ["-p", "no:xdist"]], ids=["xdist", "no-xdist"])
def test_run_json_lists_the_cases_collection_chose(tmp_path, workers):
    """expected_cases: the shard's cases narrowed by -k, whether the controller collects or not."""
    config = write_config(tmp_path)
    done = run_bench(
        config, *workers, "-k", "物理 or 环境", "--eb-shard=1/2", run_dir=tmp_path / "run"
    )
    assert done.returncode == 0, done.stdout[-3000:]
    meta = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    suite = load_suite(SAMPLE_SUITE)
    first_half = shard_cases(suite.cases, (1, 2))
    chosen = [
        c.id
        for c in suite.cases
        if c.category.key in ("physical", "environmental") and c.id in first_half
    ]
    assert chosen and meta["expected_from"] == "collection"
    assert sorted(meta["expected_cases"]) == sorted(chosen)
    assert sorted(r["case_id"] for r in read_results(tmp_path / "run")) == sorted(chosen)
    assert meta["scheduler"] is None  # not inside a Slurm job


def run_meta(run_id: str, suite_dir, suite_path: str, **judge) -> dict:
    """A run.json as a run writes it: the real suite_meta of `suite_dir`, config text as given."""
    return {
        "run_id": run_id,
        "suite": suite_meta(load_suite(suite_dir), None),
        "config": {
            "suite": {"path": suite_path},
            "editor": {"backend": "identity"},
            "judge": {"backend": "qwen-vl", "model": judge.pop("model", "/m"), **judge},
        },
        "judge": {"model_fingerprint": judge.get("fingerprint", "f" * 64)},
    }


def test_merge_compares_what_the_suite_and_models_are_not_how_paths_were_written(tmp_path, capsys):
    records = sample_records()
    first = run_meta("p1", SAMPLE_SUITE, str(SAMPLE_SUITE), python="/a/bin/python")
    write_run(tmp_path / "p1", records[::2], meta=first)
    same = run_meta("p2", SAMPLE_SUITE, "../fixtures/sample_suite", python="/b/bin/python")
    same["config"]["judge"]["model"] = "./models/judge"  # another path to the same content
    write_run(tmp_path / "p2", records[1::2], meta=same)
    runs = [str(tmp_path / "p1"), str(tmp_path / "p2")]
    assert cli(["merge", *runs, "-o", str(tmp_path / "m")]) == 0, capsys.readouterr().err

    changed = tmp_path / "suite"  # the same suite name and version, one case changed
    shutil.copytree(SAMPLE_SUITE, changed)
    manifest = changed / "cases.jsonl"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("Show the glass", "Show a glass", 1), "utf-8"
    )
    write_run(tmp_path / "p3", records[1::2], meta=run_meta("p3", changed, str(changed)))
    assert cli(["merge", runs[0], str(tmp_path / "p3"), "-o", str(tmp_path / "m3")]) == 2
    err = capsys.readouterr().err
    assert "the suite differs (manifest_sha256: " in err and "merge only runs of the same" in err

    other = run_meta("p4", SAMPLE_SUITE, str(SAMPLE_SUITE))
    other["judge"]["model_fingerprint"] = "0" * 64  # the same path, other weights
    write_run(tmp_path / "p4", records[1::2], meta=other)
    assert cli(["merge", runs[0], str(tmp_path / "p4"), "-o", str(tmp_path / "m4")]) == 2
    assert f"the judge differs (model: 'folder {'f' * 64}' vs 'folder {'0' * 64}')" in (
        capsys.readouterr().err
    )


def test_a_lone_shard_does_not_merge_without_allow_partial(tmp_path, capsys):
    """Shard 1/2 alone expects only its own cases; the merge still knows shard 2/2 is missing."""
    config = write_config(tmp_path)
    assert run_in_process(config, run_dir=tmp_path / "shard-1", shard="1/2").returncode == 0
    out = tmp_path / "merged"
    assert cli(["merge", str(tmp_path / "shard-1"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "shard 2/2 of the split missing" in err and "--allow-partial" in err
    assert not out.exists()
    assert cli(["merge", str(tmp_path / "shard-1"), "-o", str(out), "--allow-partial"]) == 0
    assert "PARTIAL: shards missing: 2/2" in capsys.readouterr().out
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (meta["status"], meta["missing_shards"]) == ("partial", ["2/2"])
    assert "shard 2/2 of the split missing" in (out / "report.md").read_text(encoding="utf-8")
