"""ImgEdit-Bench as a suite: basic_edit.json with its image root apart, the UGE file, bad input."""

from __future__ import annotations

import json

import pytest
from benchdata import IMGEDIT_ENTRIES, jpeg, write_imgedit

from editbench.cases import load_suite
from editbench.errors import CaseError, SuiteError
from editbench.suites.imgedit import EDIT_TYPES


def test_entries_become_cases_by_edit_type(tmp_path):
    file, root = write_imgedit(tmp_path)
    suite = load_suite(file, images=root)  # auto: recognised as ImgEdit-Bench
    assert suite.format == "imgedit" and suite.name == "ImgEdit-Bench" and len(suite.version) == 12
    assert [c.test_id for c in suite.cases] == [
        "adjust-1082",
        "style-673",
        "replace-628",
        "remove-510",
        "add-17",
    ]
    assert [c.key for c in suite.categories] == ["add", "adjust", "replace", "remove", "style"]
    case = suite.cases[2]
    assert case.text("en")[0] == "replace the thing in 628"
    assert case.extra == {
        "key": "628",
        "task_type": "replace",
        "image_id": "daily object/000276684.jpg",
    }
    assert case.output_stem == "628"
    assert case.source.load()[1] == jpeg(12)  # a folder name with a space resolves


def test_uge_file_without_edit_types_is_one_category(tmp_path):
    file, root = write_imgedit(tmp_path)
    entries = {
        str(n): {"id": v["id"], "prompt": v["prompt"]}
        for n, v in enumerate(json.loads(file.read_text()).values(), start=1)
    }
    (tmp_path / "UGE_edit.json").write_text(json.dumps(entries), encoding="utf-8")
    suite = load_suite(tmp_path / "UGE_edit.json", "imgedit", images=root)
    assert suite.name == "ImgEdit-Bench UGE" and [c.key for c in suite.categories] == ["uge"]
    assert [c.test_id for c in suite.cases][:2] == ["uge-1", "uge-2"]


def test_unknown_edit_type_lists_the_known_ones(tmp_path):
    file, root = write_imgedit(tmp_path, {**IMGEDIT_ENTRIES, "9": ("animal/9.jpg", "recolour")})
    with pytest.raises(SuiteError) as info:
        load_suite(file, "imgedit", images=root)
    message = str(info.value)
    assert "entry '9': unknown edit type 'recolour'" in message and str(file) in message
    assert all(edit_type in message for edit_type in EDIT_TYPES)


def test_an_id_leaving_the_image_root_is_refused(tmp_path):
    file, root = write_imgedit(tmp_path, {**IMGEDIT_ENTRIES, "9": ("../../outside.jpg", "add")})
    with pytest.raises(
        SuiteError, match=r"entry '9': path '../../outside.jpg' leaves the suite folder"
    ):
        load_suite(file, "imgedit", images=root)


def test_a_missing_image_fails_that_case_only(tmp_path):
    file, root = write_imgedit(tmp_path)
    (root / "style" / "000278574.jpg").unlink()
    suite = load_suite(file, "imgedit", images=root)
    with pytest.raises(
        CaseError, match=r"case style-673: image file .*000278574.jpg does not exist"
    ):
        suite.cases[1].source.load()
    suite.cases[0].source.load()


def test_chinese_is_refused_with_the_fix(tmp_path):
    file, root = write_imgedit(tmp_path)
    with pytest.raises(
        SuiteError, match="ImgEdit-Bench has English instructions only; set suite.language: en"
    ):
        load_suite(file, "imgedit", "zh", images=root)
