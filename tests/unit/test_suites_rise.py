"""RISEBench as a suite: the 64-case file and the 360-case release, reference fields, bad input."""

from __future__ import annotations

import json

import pytest
from benchdata import rise_items, write_rise

from editbench.cases import load_suite
from editbench.errors import SuiteError


def test_the_64_case_file_loads_without_subtasks(tmp_path):
    suite = load_suite(write_rise(tmp_path / "data"))  # auto: recognised as RISEBench
    assert suite.format == "rise" and suite.name == "RISEBench"
    assert [c.key for c in suite.categories] == [
        "temporal_reasoning",
        "causal_reasoning",
        "spatial_reasoning",
        "logical_reasoning",
    ]
    by_id = {c.test_id: c for c in suite.cases}
    assert list(by_id) == [
        "temporal_reasoning_1",
        "causal_reasoning_1",
        "spatial_reasoning_1",
        "logical_reasoning_1",
        "logical_reasoning_2",
    ]
    temporal = by_id["temporal_reasoning_1"]
    assert temporal.reference_text == "Rotten, blackened banana." and temporal.reference is None
    assert temporal.extra == {"key": "temporal_reasoning_1", "reference_key": "reference"}
    assert (
        temporal.tags == ()
        and temporal.output_stem == "images/temporal_reasoning/temporal_reasoning_1"
    )
    assert by_id["logical_reasoning_2"].reference_text == "Node 1 to node 2 to node 4."
    assert by_id["logical_reasoning_2"].extra["reference_key"] == "reference_txt"
    maze = by_id["logical_reasoning_1"]
    assert maze.reference.path.name == "1_ref.png" and maze.reference_text == ""
    assert maze.source.load()[0].size == (32, 32)


def test_the_360_case_release_adds_subtask_tags_and_protocol_fields(tmp_path):
    suite = load_suite(write_rise(tmp_path / "data", release=360), "rise")
    by_id = {c.test_id: c for c in suite.cases}
    assert by_id["temporal_reasoning_1"].tags == ("life_progression",)
    assert by_id["temporal_reasoning_1"].extra["subtask"] == "Life Progression"
    assert by_id["temporal_reasoning_1"].extra["reasoning_img"] == 1.0
    assert "consistency_free" not in by_id["temporal_reasoning_1"].extra  # null means absent
    assert by_id["causal_reasoning_1"].extra["consistency_free"] is True
    assert by_id["logical_reasoning_2"].tags == ("mathematical_derivation",)


def test_nan_written_by_pandas_means_absent(tmp_path):
    items = rise_items()
    items[0]["reference_img"] = float("nan")
    items[0]["subtask"] = float("nan")
    suite = load_suite(write_rise(tmp_path / "data", items=items), "rise")
    assert suite.cases[0].reference is None and "subtask" not in suite.cases[0].extra


def test_reference_img_pointing_nowhere_names_the_entry(tmp_path):
    items = rise_items()
    file = write_rise(tmp_path / "data", items=items)
    (file.parent / items[3]["reference_img"]).unlink()
    with pytest.raises(SuiteError) as info:
        load_suite(file, "rise")
    message = str(info.value)
    assert (
        f"{file}: entry 3 (index logical_reasoning_1): reference_img 'logical_reasoning_images/1_ref.png' "
        "points nowhere"
        in message
        and "\n" not in message
    )


def test_unknown_category_lists_the_four(tmp_path):
    items = rise_items()
    items[1]["category"] = "causal"
    with pytest.raises(
        SuiteError,
        match="entry 1 .*unknown category 'causal'; known: temporal_reasoning, "
        "causal_reasoning, spatial_reasoning, logical_reasoning",
    ):
        load_suite(write_rise(tmp_path / "data", items=items), "rise")


def test_an_image_leaving_the_data_folder_is_refused(tmp_path):
    file = write_rise(tmp_path / "data")
    items = json.loads(file.read_text())
    items[0]["image"] = "/etc/passwd"
    file.write_text(json.dumps(items))
    with pytest.raises(SuiteError, match="entry 0 .*absolute path '/etc/passwd' refused"):
        load_suite(file, "rise")
