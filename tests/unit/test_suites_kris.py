"""KRIS-Bench as a suite: category folders, several input images, dimensions and meta-categories."""

from __future__ import annotations

import json

import pytest
from benchdata import jpeg, png, write_kris

from editbench.cases import load_suite
from editbench.errors import CaseError, SuiteError
from editbench.suites.kris import CATEGORIES


def test_folders_become_categories_tagged_by_dimension_and_meta_category(tmp_path):
    suite = load_suite(write_kris(tmp_path / "KRIS_Bench"))  # auto: recognised as KRIS-Bench
    assert suite.format == "kris" and suite.name == "KRIS-Bench" and len(suite.version) == 12
    assert [c.key for c in suite.categories] == [
        "count_change",
        "viewpoint_change",
        "temporal_prediction",
        "physics",
        "multi-element_composition",
    ]
    by_id = {c.test_id: c for c in suite.cases}
    assert sorted(by_id) == [
        "count_change-1",
        "multi-element_composition-1",
        "physics-1",
        "physics-2",
        "temporal_prediction-1",
        "viewpoint_change-1",
    ]
    assert by_id["physics-1"].tags == ("natural_science", "conceptual_knowledge")
    assert by_id["count_change-1"].tags == ("attribute_perception", "factual_knowledge")
    assert by_id["multi-element_composition-1"].tags == (
        "instruction_decomposition",
        "procedural_knowledge",
    )
    assert by_id["physics-1"].extra == {
        "key": "1",
        "explanation": "Ice melts above 0 degrees Celsius.",
        "dimension": "natural_science",
        "meta_category": "conceptual_knowledge",
    }
    assert by_id["physics-2"].output_stem == "physics/2"


def test_several_input_images_in_order_and_a_ground_truth(tmp_path):
    suite = load_suite(write_kris(tmp_path / "KRIS_Bench"), "kris")
    by_id = {c.test_id: c for c in suite.cases}
    multi = by_id["multi-element_composition-1"]
    assert [ref.path.name for ref in multi.sources] == ["1-1.jpg", "1-2.jpg"]
    assert [ref.load()[1] for ref in multi.sources] == [jpeg(1), jpeg(2)]
    assert multi.source is multi.sources[0] and multi.reference is None
    frames = by_id["temporal_prediction-1"]
    assert [ref.path.name for ref in frames.sources] == ["1-2.jpg", "1-3.jpg", "1-4.jpg"]
    assert frames.reference.path.name == "1-1.jpg"
    view = by_id["viewpoint_change-1"]
    assert len(view.sources) == 1 and view.reference.load()[1] == jpeg(8)
    assert by_id["physics-2"].source.load()[1] == png(10)


def test_a_category_folder_without_annotation_is_named(tmp_path):
    root = write_kris(tmp_path / "KRIS_Bench")
    (root / "physics" / "annotation.json").unlink()
    with pytest.raises(SuiteError) as info:
        load_suite(root, "kris")
    assert f"{root / 'physics'}: no annotation.json" in str(info.value)


def test_an_unknown_category_folder_lists_the_known_ones(tmp_path):
    root = write_kris(tmp_path / "KRIS_Bench")
    (root / "results").mkdir()
    with pytest.raises(SuiteError) as info:
        load_suite(root, "kris")
    message = str(info.value)
    assert "unknown category folder 'results'" in message and len(CATEGORIES) == 20
    assert all(key in message for key in CATEGORIES)


def test_an_image_name_leaving_the_folder_is_refused(tmp_path):
    root = write_kris(tmp_path / "KRIS_Bench")
    annotation = json.loads((root / "physics" / "annotation.json").read_text())
    annotation["2"]["ori_img"] = "../../secret.png"
    (root / "physics" / "annotation.json").write_text(json.dumps(annotation))
    with pytest.raises(SuiteError, match=r"entry '2': ori_img: path '../../secret.png' leaves"):
        load_suite(root, "kris")


def test_a_missing_input_image_fails_that_case_only(tmp_path):
    root = write_kris(tmp_path / "KRIS_Bench")
    (root / "multi-element_composition" / "1-2.jpg").unlink()
    suite = load_suite(root, "kris")
    multi = next(c for c in suite.cases if c.id == "multi-element_composition-1")
    multi.sources[0].load()
    with pytest.raises(
        CaseError, match=r"case multi-element_composition-1 input 2: image file .*1-2.jpg"
    ):
        multi.sources[1].load()
