"""What moved a score is visible: both interpreters' versions and locks in run.json, and
compare and merge say when two runs' environments differ."""

from __future__ import annotations

import json
import sys

from editbench.cli import main as cli
from editbench.judging import remote
from editbench.reporting import runmeta
from editbench.reporting.environments import environment_differences
from support import CATEGORIES, record, write_run

STAMP = {"lock": "envs/lock/cpu/judge.txt", "sha256": "ab" * 32, "packages": 160}


def side(transformers: str, lock: dict | None = STAMP) -> dict:
    return {
        "python": "3.11.7",
        "executable": sys.executable,
        "torch": "2.13.0+cpu",
        "transformers": transformers,
        "tokenizers": "0.23.3",
        "diffusers": None,
        "accelerate": "1.16.0",
        "pillow": "12.0.0",
        "numpy": "2.3.5",
        "lock": lock,
    }


def meta(run_id: str, judge_transformers: str, worker_transformers: str = "5.25.0") -> dict:
    return {
        "run_id": run_id,
        "suite": {"name": "synthetic", "version": "1", "categories": [list(c) for c in CATEGORIES]},
        "config": {"suite": {}, "editor": {"backend": "identity"}, "judge": {"backend": "x"}},
        "expected_cases": [],
        "versions": {
            "controller": side(worker_transformers),
            "worker": side(worker_transformers),
            "judge": side(judge_transformers),
        },
    }


def records(prefix: str = "") -> list[dict]:
    return [record(f"{prefix}physical-{i:03d}", "physical", 6.0 + i % 3, 8.0) for i in range(6)]


def test_both_interpreters_report_every_score_moving_package_and_their_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    remote._VERSIONS.clear()
    (tmp_path / runmeta.LOCK_STAMP).write_text(json.dumps(STAMP), encoding="utf-8")
    for found in (runmeta.versions(), remote.versions()):
        assert set(runmeta.SCORE_PACKAGES) <= set(found)
        assert found["transformers"] and found["torch"] and found["tokenizers"]
        assert found["lock"] == STAMP
    remote._VERSIONS.clear()
    (tmp_path / runmeta.LOCK_STAMP).unlink()
    assert runmeta.versions()["lock"] is None and remote.versions()["lock"] is None
    remote._VERSIONS.clear()


def test_the_two_sides_name_the_same_packages():
    assert remote.SCORE_PACKAGES == runmeta.SCORE_PACKAGES
    assert remote.LOCK_STAMP == runmeta.LOCK_STAMP


def test_a_judge_on_another_transformers_is_a_warning_in_compare(tmp_path, capsys):
    write_run(tmp_path / "a", records(), meta("a", "5.25.0"))
    write_run(tmp_path / "b", records(), meta("b", "5.17.0"))
    assert cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "warning: the judge environments differ: transformers 5.25.0 (A) vs 5.17.0 (B)" in out
    assert "editor environments differ" not in out
    result = json.loads((tmp_path / "b" / "compare.json").read_text(encoding="utf-8"))
    assert result["environment_differences"] == [
        {"side": "judge", "package": "transformers", "a": "5.25.0", "b": "5.17.0"}
    ]


def test_runs_of_one_environment_compare_without_a_warning(tmp_path, capsys):
    write_run(tmp_path / "a", records(), meta("a", "5.25.0"))
    write_run(tmp_path / "b", records(), meta("b", "5.25.0"))
    cli(["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert "warning" not in capsys.readouterr().out


def test_another_lock_is_a_difference_even_at_equal_versions():
    a, b = meta("a", "5.25.0"), meta("b", "5.25.0")
    b["versions"]["worker"]["lock"] = {**STAMP, "sha256": "cd" * 32}
    assert environment_differences(a, b) == [
        {
            "side": "editor",
            "package": "lock",
            "a": "envs/lock/cpu/judge.txt@abababababab",
            "b": "envs/lock/cpu/judge.txt@cdcdcdcdcdcd",
        }
    ]


def test_an_older_run_without_versions_is_not_compared():
    old = {"run_id": "old"}
    assert environment_differences(old, meta("b", "5.25.0")) == []


def test_merge_warns_and_records_shards_whose_judges_differ(tmp_path, capsys):
    write_run(tmp_path / "s1", records("a"), meta("s1", "5.25.0", "5.25.0"))
    write_run(tmp_path / "s2", records("b"), meta("s2", "5.17.0", "5.25.0"))
    out_dir = tmp_path / "merged"
    assert cli(["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), f"-o={out_dir}"]) == 0
    out = capsys.readouterr().out
    assert "warning: the judge environments differ: transformers 5.25.0 (s1) vs 5.17.0 (s2)" in out
    merged = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    assert merged["environment_differences"] == [
        {
            "side": "judge",
            "package": "transformers",
            "a": "5.25.0",
            "b": "5.17.0",
            "run_a": "s1",
            "run_b": "s2",
        }
    ]
