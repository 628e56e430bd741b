"""Whole runs without a pytest process: `support.run_in_process` drives the Controller and a
CaseRunner as the plugin's hooks and benchmarks/test_edit.py do, with the identity editor and
no judge, so the run folder's rules are proven in a second or two each.

What a real pytest process adds (collection, -k and -m, xdist, Ctrl-C, crashes, the terminal,
JUnit) is proven in tests/plugin.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from PIL import Image

from editbench.cli import main as cli
from support import SAMPLE_B64, SAMPLE_SUITE, read_results, run_in_process, write_config

PHYSICAL = [f"物理-00{i}" for i in range(1, 6)]


def physical(case) -> bool:
    return case.category.key == "physical"


def by_id(run_dir) -> dict[str, dict]:
    records = read_results(run_dir)
    assert len({r["case_id"] for r in records}) == len(records), "a case was recorded twice"
    return {r["case_id"]: r for r in records}


def summary(run_dir) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def run_json(run_dir) -> dict:
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


@pytest.fixture
def suite(tmp_path):
    target = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, target)
    return target


def test_unreadable_images_fail_their_case_and_the_others_score(tmp_path, suite):
    (suite / "images" / "physical-001.png").write_bytes(b"\x89PNG\r\n\x1a\n but not really a PNG")
    (suite / "images" / "physical-002.png").unlink()
    config = write_config(tmp_path, suite={"path": str(suite)})
    done = run_in_process(config, run_dir=tmp_path / "native", select=physical)
    assert done.returncode == 1
    records = by_id(tmp_path / "native")
    assert sorted(records) == PHYSICAL
    first, second = records["物理-001"], records["物理-002"]
    assert first["status"] == "case-error" and "not a readable image" in first["reason"]
    assert first["reason"].startswith("case 物理-001")
    assert second["status"] == "case-error" and "does not exist" in second["reason"]
    assert "case 物理-002: image file" in second["reason"]
    assert [r["status"] for r in records.values()].count("ok") == 3
    assert all(r["scores"] == {} for r in (first, second)) and "images" not in first
    assert summary(tmp_path / "native")["overall"]["micro"]["failures"] == {"case-error": 2}

    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    items[2]["src_img_b64"] = "@@ not base64 @@"
    b64 = tmp_path / "b64.json"
    b64.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    done = run_in_process(write_config(tmp_path, suite={"path": str(b64)}), run_dir=tmp_path / "b")
    assert done.returncode == 1
    records = by_id(tmp_path / "b")
    assert len(records) == len(items)
    broken = records["社会-birthday"]
    assert broken["status"] == "case-error" and "case 社会-birthday (" in broken["reason"]
    assert "b64.json: item 2): invalid base64" in broken["reason"]
    assert summary(tmp_path / "b")["overall"]["micro"]["failures"] == {"case-error": 1}


def test_a_decompression_bomb_fails_its_case_and_pillow_keeps_its_limit(tmp_path, suite):
    import editbench.plugin  # noqa: F401 - whatever the benchmark process imports

    default_limit = Image.MAX_IMAGE_PIXELS
    bomb = io.BytesIO()  # a few dozen kilobytes on disk, 400 megapixels decoded
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")
    (suite / "images" / "physical-002.png").write_bytes(bomb.getvalue())
    config = write_config(tmp_path, suite={"path": str(suite)})
    assert run_in_process(config, run_dir=tmp_path / "run", select=physical).returncode == 1
    records = by_id(tmp_path / "run")
    refused = records["物理-002"]
    assert refused["status"] == "case-error" and "case 物理-002" in refused["reason"]
    assert "refused by the size limit" in refused["reason"]
    assert f"under {default_limit:,} pixels" in refused["reason"]
    assert [r["status"] for r in records.values()].count("ok") == 4
    assert Image.MAX_IMAGE_PIXELS == default_limit is not None


def test_a_rerun_into_the_same_run_dir_continues_it_and_merge_accepts_it(tmp_path):
    config, run_dir = write_config(tmp_path), tmp_path / "shard-1"
    assert run_in_process(config, run_dir=run_dir, select=physical).returncode == 0
    before = by_id(run_dir)
    again = run_in_process(
        config,
        run_dir=run_dir,
        select=lambda c: c.id == "物理-001" or c.category.key == "environmental",
    )
    assert again.returncode == 0
    rerun = by_id(run_dir)  # each case once: 5 物理 + 5 环境
    assert len(rerun) == 10
    assert before["物理-001"]["edit_cached"] is False
    assert rerun["物理-001"]["edit_cached"] is True  # the latest record won: its edit was cached
    assert all(rerun[c] == before[c] for c in PHYSICAL[1:])  # the others kept as they were
    meta = run_json(run_dir)
    assert meta["status"] == "finished" and len(meta["continued"]) == 1
    assert meta["continued"][0]["status"] == "finished" and meta["continued"][0]["cases"] == 5
    assert set(meta["expected_cases"]) == set(rerun)
    assert summary(run_dir)["overall"]["micro"]["n"] == 10
    assert cli(["merge", str(run_dir), "-o", str(tmp_path / "m")]) == 0
    assert len(read_results(tmp_path / "m")) == 10


def test_an_interrupted_run_marks_every_summary_file_and_a_rerun_into_it_finishes(tmp_path):
    """Ctrl-C ends a session with pytest's INTERRUPTED (2); the Controller's finish marks the
    reports (the signal itself: tests/plugin/test_faults.py::test_ctrl_c_keeps_what_finished...)."""
    from editbench.controller import Controller
    from editbench.settings import load_settings
    from support import record

    config, run_dir = write_config(tmp_path), tmp_path / "run"
    first = Controller(load_settings(str(config), []), run_dir, argv=["pytest"])
    first.start()
    first.add(record("物理-001", "physical", 6, 8))
    assert first.finish(2) == 2
    assert summary(run_dir)["run_status"] == "interrupted"
    assert "Interrupted" in summary(run_dir)["note"]
    with open(run_dir / "summary.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {row["run_status"] for row in rows} == {"interrupted"}

    assert run_in_process(config, run_dir=run_dir, select=physical).returncode == 0
    assert sorted(by_id(run_dir)) == PHYSICAL  # each case once
    assert summary(run_dir)["run_status"] == "finished" and "note" not in summary(run_dir)
    with open(run_dir / "summary.csv", encoding="utf-8", newline="") as handle:
        assert {row["run_status"] for row in csv.DictReader(handle)} == {"finished"}


def test_a_case_without_the_run_language_fails_alone_and_a_preference_list_runs_it(tmp_path):
    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    only_zh = items[0]
    only_zh.pop("edit_instruction_en")
    only_zh.pop("original_description_en", None)
    suite = tmp_path / "b64.json"
    suite.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    config = write_config(tmp_path, suite={"path": str(suite), "language": "en"})
    assert run_in_process(config, run_dir=tmp_path / "en").returncode == 1
    records = by_id(tmp_path / "en")
    assert len(records) == len(items)  # the others ran: only the whole suite stops startup
    failed = records.pop("物理-glass_edge")
    assert failed["status"] == "case-error"
    assert "case 物理-glass_edge has no en instruction (has zh)" in failed["reason"]
    assert {r["status"] for r in records.values()} == {"ok"}
    assert {r["language"] for r in records.values()} == {"en"}

    both = run_in_process(config, "suite.language=[en, zh]", run_dir=tmp_path / "both")
    assert both.returncode == 0
    record = by_id(tmp_path / "both")["物理-glass_edge"]
    assert record["language"] == "zh"
    page = (tmp_path / "both" / "report.html").read_text(encoding="utf-8")
    assert record["instruction"]["zh"] in page


def test_a_run_without_scores_says_so_clear_of_any_axis(tmp_path):
    """No judge: the chart is the message alone, not a label drawn over an empty axis."""
    run_dir = tmp_path / "run"
    assert run_in_process(write_config(tmp_path), run_dir=run_dir, select=physical).returncode == 0
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    chart = page[page.index('<svg id="chart"') : page.index("</svg>")]
    assert "no scores in this run" in chart
    assert 'class="grid"' not in chart and "<line" not in chart and "<rect" not in chart


def test_a_gate_on_a_category_without_scores_fails_the_run_with_a_clear_line(tmp_path):
    done = run_in_process(
        write_config(tmp_path),
        run_dir=tmp_path / "r",
        select=lambda c: c.category.key == "referential",
        fail_under=["O@referential=6.5"],
    )
    assert done.returncode == 1
    line = "editbench: FAILED --eb-fail-under O@referential=6.5: no scored O in 指代 (referential)"
    assert any(shown.startswith(line) for shown in done.summary_lines), done.summary_lines
    assert summary(tmp_path / "r")["gate_failures"]


@pytest.mark.parametrize(
    ("overrides", "maxfail", "expected"),
    [
        ((), 0, {"configured": True, "workers": "on"}),
        (("run.overlap=false",), 0, {"configured": False, "workers": "off"}),
        ((), 1, {"configured": True, "workers": "off"}),  # -x: a failure must stop all edits
    ],
    ids=["default", "off", "exitfirst"],
)
def test_run_json_records_overlap(tmp_path, overrides, maxfail, expected):
    done = run_in_process(
        write_config(tmp_path),
        *overrides,
        run_dir=tmp_path / "run",
        select=lambda c: c.id in ("物理-001", "物理-002"),
        maxfail=maxfail,
    )
    assert done.returncode == 0
    meta = run_json(tmp_path / "run")
    assert meta["overlap"] == expected
    assert meta["config"]["run"]["overlap"] is expected["configured"]
