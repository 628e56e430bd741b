"""The Controller without a pytest process: the run folder, the live results file, a continued
folder, expected cases and the gate, driven by calling its methods as the hooks would."""

from __future__ import annotations

import json

from editbench.config import build_config
from editbench.controller import Controller
from editbench.protocols import run_protocol
from editbench.reporting.records import WORKER_KEY
from editbench.settings import Settings
from editbench.suites import load_suite
from support import SAMPLE_SUITE, record


def settings(tmp_path) -> Settings:
    config = build_config({"suite": {"path": str(SAMPLE_SUITE)}}, base_dir=str(tmp_path))
    suite = load_suite(SAMPLE_SUITE)
    protocol = run_protocol(config, suite)
    return Settings(config=config, suite=suite, gpus=[], groups=[[]], protocol=protocol)


def controller(tmp_path, run_dir=None, **kw) -> Controller:
    return Controller(settings(tmp_path), run_dir or tmp_path / "run", argv=["pytest"], **kw)


def lines_of(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_start_writes_run_json_and_points_latest_before_any_case(tmp_path):
    ctl = controller(tmp_path, tmp_path / "reports" / "r1")
    ctl.start()
    meta = json.loads((tmp_path / "reports" / "r1" / "run.json").read_text(encoding="utf-8"))
    assert meta["suite"]["cases"] == 25 and meta["expected_from"] == "shard"
    assert (tmp_path / "reports" / "latest").resolve() == (tmp_path / "reports" / "r1").resolve()
    ctl.close()


def test_each_case_is_on_disk_as_soon_as_it_arrives(tmp_path):
    ctl = controller(tmp_path)
    ctl.start()
    ctl.add(record("物理-001", "physical", 6, 8))
    assert [r["case_id"] for r in lines_of(tmp_path / "run" / "results.jsonl")] == ["物理-001"]
    ctl.add(record("物理-002", "physical", 7, 9))
    assert len(lines_of(tmp_path / "run" / "results.jsonl")) == 2
    ctl.close()


def test_the_workers_description_is_lifted_out_of_the_record_into_run_json(tmp_path):
    ctl = controller(tmp_path)
    ctl.start()
    described = record("物理-001", "physical", 6, 8) | {"worker": "gw1"}
    described[WORKER_KEY] = {"versions": {"python": "3.11"}, "judge": {"backend": "x"}}
    ctl.add(described)
    assert ctl.finish(0) == 0
    meta = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert meta["workers"]["gw1"]["judge"] == {"backend": "x"}
    assert meta["judge"]["describe"] == {"backend": "x"}  # e.g. whether it started
    assert meta["versions"]["worker"] == {"python": "3.11"}
    assert WORKER_KEY not in lines_of(tmp_path / "run" / "results.jsonl")[0]


def test_a_continued_folder_keeps_earlier_cases_and_the_rerun_case_replaces_its_record(tmp_path):
    first = controller(tmp_path)
    first.start()
    first.expect(["物理-001", "物理-002"])
    first.add(record("物理-001", "physical", None, None, "timeout", "SC: timeout"))
    first.add(record("物理-002", "physical", 7, 9))
    first.finish(1)

    again = controller(tmp_path)
    again.start()
    again.expect(["物理-001", "物理-003"])
    again.add(record("物理-001", "physical", 6, 8))
    assert again.finish(0) == 0
    kept = lines_of(tmp_path / "run" / "results.jsonl")
    assert sorted(r["case_id"] for r in kept) == ["物理-001", "物理-002"]
    assert next(r for r in kept if r["case_id"] == "物理-001")["status"] == "ok"
    meta = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert meta["continued"][0]["cases"] == 2 and meta["continued"][0]["exit_status"] == 1
    assert meta["expected_cases"] == ["物理-001", "物理-002", "物理-003"]
    assert meta["expected_from"] == "collection"


def test_the_gate_fails_a_passing_session_and_says_so_last(tmp_path):
    ctl = controller(tmp_path, fail_under=["SC@物理=7"])
    ctl.start()
    for i, sc in enumerate((6, 7, 8, 5, 6), start=1):
        ctl.add(record(f"物理-00{i}", "physical", sc, 8))
    assert ctl.finish(0) == 1
    assert ctl.gate == ["SC@物理=7: SC mean in 物理 (physical) is 6.400 < 7"]
    assert "FAILED --eb-fail-under" in ctl.gate_line(1)
    assert "editbench: FAILED --eb-fail-under SC@物理=7: SC mean" in "\n".join(ctl.summary_lines())


def test_a_met_gate_leaves_the_exit_status_alone(tmp_path):
    ctl = controller(tmp_path, fail_under=["SC@物理=5"])
    ctl.start()
    ctl.add(record("物理-001", "physical", 6, 8))
    assert ctl.finish(0) == 0 and ctl.gate_line(0) is None
    assert "editbench: passed --eb-fail-under SC@物理=5" in ctl.summary_lines()


def test_gates_on_constant_scores_pass_and_fail_with_their_lines(tmp_path):
    """The constant judge's SC 7, PQ 8 on every physical case: two thresholds met, one not."""
    passed = controller(tmp_path, tmp_path / "ok", fail_under=["O=7", "SC@物理=7"])
    failed = controller(tmp_path, tmp_path / "bad", fail_under=["SC@物理=7.5"])
    for ctl in (passed, failed):
        ctl.start()
        for i in range(1, 6):
            ctl.add(record(f"物理-00{i}", "physical", 7, 8))
    assert passed.finish(0) == 0 and passed.gate == []
    assert "editbench: passed --eb-fail-under O=7 SC@物理=7" in passed.summary_lines()
    assert failed.finish(0) == 1
    assert failed.gate == ["SC@物理=7.5: SC mean in 物理 (physical) is 7.000 < 7.5"]
