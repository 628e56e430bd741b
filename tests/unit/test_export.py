"""export writes edits where each official scorer reads them; replay reads them back byte for byte.

Benchmark runs in this process (`support.run_in_process`: the Controller and the CaseRunner, the
identity editor, no judge), the real `editbench export` command, then a replay run in the
benchmark's layout: the edits must be byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchdata import write_gedit, write_imgedit, write_kris, write_rise

from editbench.cli import main as cli
from editbench.errors import EditbenchError
from editbench.settings import load_settings
from support import read_results, run_in_process, write_config

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def datasets_cache(tmp_path, monkeypatch):
    """GEdit-Bench copies are read through `datasets`: keep its cache inside the test's folder."""
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf"))


def suite_section(tmp_path: Path, layout: str) -> dict:
    if layout == "gedit":
        return {"path": str(write_gedit(tmp_path / "gedit")), "format": "gedit"}
    if layout == "imgedit":
        file, root = write_imgedit(tmp_path)
        return {"path": str(file), "images": str(root), "format": "imgedit"}
    if layout == "kris":
        return {"path": str(write_kris(tmp_path / "KRIS_Bench")), "format": "kris"}
    return {"path": str(write_rise(tmp_path / "data", release=360)), "format": "rise"}


# What the official scorer of each benchmark reads, for some of the cases of the test data.
OFFICIAL = {
    "gedit": [
        "fullset/text_change/en/t01.png",
        "fullset/text_change/en/t01_SRCIMG.png",
        "fullset/subject-add/en/a01.png",
        "fullset/ps_human/en/p01_SRCIMG.png",
    ],
    "imgedit": ["1082.png", "628.png", "17.png"],
    "kris": ["multi-element_composition/1.png", "temporal_prediction/1.png", "physics/2.png"],
    "rise": [
        "images/temporal_reasoning/temporal_reasoning_1.png",
        "images/logical_reasoning/logical_reasoning_2.png",
    ],
}
COUNTS = {"gedit": 5, "imgedit": 5, "kris": 6, "rise": 5}


def run(
    tmp_path: Path, name: str, suite: dict, editor: dict, code: int = 0
) -> tuple[Path, list[dict]]:
    folder = tmp_path / name
    folder.mkdir()
    config = write_config(folder, suite=suite, editor=editor)
    run_dir = folder / "run"
    assert run_in_process(config, run_dir=run_dir).returncode == code
    return run_dir, read_results(run_dir)


def edited_bytes(run_dir: Path, records: list[dict]) -> dict[str, bytes]:
    return {r["test_id"]: (run_dir / r["images"]["edited"]).read_bytes() for r in records}


@pytest.mark.parametrize("layout", ["gedit", "imgedit", "kris", "rise"])
def test_export_then_replay_gives_byte_identical_edits(tmp_path, layout, capsys):
    suite = suite_section(tmp_path, layout)
    first_dir, first = run(tmp_path, "identity", suite, {"backend": "identity"})
    out = tmp_path / "official"
    assert cli(["export", str(first_dir), "--layout", layout, str(out)]) == 0
    assert f"wrote {COUNTS[layout]} edits" in capsys.readouterr().out
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert set(OFFICIAL[layout]) <= set(written)
    assert len(written) == COUNTS[layout] * (2 if layout == "gedit" else 1)
    replay_dir, replayed = run(
        tmp_path,
        "replay",
        suite,
        {"backend": "replay", "replay_dir": str(out), "replay_layout": layout},
    )
    assert all(r["status"] == "ok" for r in replayed)
    assert edited_bytes(replay_dir, replayed) == edited_bytes(first_dir, first)
    assert len(first) == COUNTS[layout]


def test_gedit_source_copy_is_the_case_input(tmp_path):
    suite = suite_section(tmp_path, "gedit")
    run_dir, records = run(tmp_path, "identity", suite, {"backend": "identity"})
    assert cli(["export", str(run_dir), "--layout", "gedit", str(tmp_path / "out")]) == 0
    copy = tmp_path / "out" / "fullset" / "text_change" / "en" / "t02_SRCIMG.png"
    record = next(r for r in records if r["test_id"] == "text_change-t02")
    assert copy.read_bytes() == (run_dir / record["images"]["source"]).read_bytes()


def test_kris_jpeg_for_the_published_scripts_and_incomplete_runs(tmp_path, capsys):
    root = write_kris(tmp_path / "KRIS_Bench")
    (root / "physics" / "2.png").unlink()  # that case fails with case-error; the rest export
    run_dir, records = run(
        tmp_path, "identity", {"path": str(root), "format": "kris"}, {"backend": "identity"}, code=1
    )
    assert {r["test_id"]: r["status"] for r in records}["physics-2"] == "case-error"
    out = tmp_path / "out"
    assert cli(["export", str(run_dir), "--layout", "kris", "--jpeg", str(out)]) == 1
    printed = capsys.readouterr().out
    assert (
        "wrote 5 edits" in printed and "no edit for case physics-2 (status case-error)" in printed
    )
    assert (out / "physics" / "1.jpg").read_bytes()[:3] == b"\xff\xd8\xff"  # what metrics_*.py read
    assert not (out / "physics" / "2.jpg").exists()


def test_export_refuses_a_layout_of_another_benchmark(tmp_path, capsys):
    run_dir, _ = run(tmp_path, "identity", suite_section(tmp_path, "kris"), {"backend": "identity"})
    assert cli(["export", str(run_dir), "--layout", "gedit", str(tmp_path / "out")]) == 2
    assert (
        "the run's suite was read as kris; --layout gedit needs a run of a GEdit-Bench suite"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_jpeg_is_refused_outside_kris(tmp_path, capsys):
    run_dir, _ = run(tmp_path, "identity", suite_section(tmp_path, "rise"), {"backend": "identity"})
    assert cli(["export", str(run_dir), "--layout", "rise", "--jpeg", str(tmp_path / "out")]) == 2
    assert "only KRIS-Bench's scripts read JPEG edits" in capsys.readouterr().err


def test_replay_names_the_expected_path_of_a_missing_edit(tmp_path):
    suite = suite_section(tmp_path, "rise")
    (tmp_path / "outputs" / "images" / "causal_reasoning").mkdir(parents=True)
    folder = tmp_path / "replay"
    folder.mkdir()
    config = write_config(
        folder,
        suite=suite,
        editor={
            "backend": "replay",
            "replay_dir": str(tmp_path / "outputs"),
            "replay_layout": "rise",
        },
    )
    done = run_in_process(
        config, run_dir=folder / "run", select=lambda c: "causal_reasoning" in c.test_id
    )
    assert done.returncode == 1
    (record,) = read_results(folder / "run")
    expected = tmp_path / "outputs" / "images" / "causal_reasoning" / "causal_reasoning_1.png"
    assert record["status"] == "edit-error" and str(expected) in record["reason"]


def test_replay_layout_of_another_benchmark_is_a_startup_error(tmp_path):
    suite = suite_section(tmp_path, "kris")
    (tmp_path / "outputs").mkdir()
    config = write_config(
        tmp_path,
        suite={**suite, "format": "auto"},
        editor={
            "backend": "replay",
            "replay_dir": str(tmp_path / "outputs"),
            "replay_layout": "gedit",
        },
    )
    with pytest.raises(EditbenchError) as refused:  # the plugin's start-up check (exit 4)
        load_settings(str(config), [])
    assert "editor.replay_layout gedit: the suite is read as kris" in str(refused.value)
