"""The native format's `sources: [...]` (several input images), beside the `source` it still accepts."""

from __future__ import annotations

import json
import shutil

import pytest

from editbench.cases import load_suite
from editbench.errors import SuiteError
from support import SAMPLE_SUITE


@pytest.fixture
def suite_copy(tmp_path):
    target = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, target)
    return target


def rewrite_first(suite, drop: tuple[str, ...] = (), **changes) -> None:
    lines = (suite / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    item = json.loads(lines[0])
    for key in drop:
        item.pop(key)
    item.update(changes)
    lines[0] = json.dumps(item, ensure_ascii=False)
    (suite / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_sources_list_gives_every_input_in_order(suite_copy):
    rewrite_first(
        suite_copy,
        drop=("source",),
        sources=["images/physical-002.png", "images/causal-001.png", "images/social-003.png"],
    )
    case = load_suite(suite_copy).cases[0]
    assert [ref.path.name for ref in case.sources] == [
        "physical-002.png",
        "causal-001.png",
        "social-003.png",
    ]
    assert case.source is case.sources[0]
    assert [ref.label for ref in case.sources] == [
        f"case {case.id}",
        f"case {case.id} input 2",
        f"case {case.id} input 3",
    ]
    assert case.output_stem is None  # no benchmark layout for a native suite


def test_source_still_accepted_as_one_input():
    assert all(len(case.sources) == 1 for case in load_suite(SAMPLE_SUITE).cases)


@pytest.mark.parametrize(
    ("changes", "drop", "expected"),
    [
        ({"sources": ["images/physical-002.png"]}, (), "give either source or sources, not both"),
        ({"sources": []}, ("source",), "'sources' (a non-empty list of image paths)"),
        ({}, ("source",), "missing required key 'source'"),
        ({"sources": ["images/../../x.png"]}, ("source",), "leaves the suite folder"),
    ],
)
def test_bad_sources_are_one_line_errors(suite_copy, changes, drop, expected):
    rewrite_first(suite_copy, drop=drop, **changes)
    with pytest.raises(SuiteError) as info:
        load_suite(suite_copy)
    assert expected in str(info.value) and "cases.jsonl:1" in str(info.value)
