"""GEdit-Bench as a suite: save_to_disk and parquet copies, languages, the intersection tag, bad input."""

from __future__ import annotations

import pytest
from benchdata import (
    GEDIT_ROWS,
    gedit_columns,
    gedit_dataset,
    png,
    write_gedit,
    write_gedit_parquet,
)

from editbench.cases import load_suite
from editbench.errors import CaseError, SuiteError
from editbench.suites.gedit import TASK_TYPES
from support import run_bench, write_config


@pytest.fixture(autouse=True)
def datasets_cache(tmp_path, monkeypatch):
    """Parquet copies are converted into the datasets cache: keep it inside the test's folder."""
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))


@pytest.fixture(params=["save_to_disk", "parquet"])
def gedit(request, tmp_path):
    writer = write_gedit if request.param == "save_to_disk" else write_gedit_parquet
    return writer(tmp_path / "gedit")


def test_english_rows_become_cases_by_task_type(gedit):
    suite = load_suite(gedit)  # auto: recognised as GEdit-Bench
    assert (
        suite.format == "gedit"
        and suite.name == "GEdit-Bench"
        and suite.version.startswith("arrow-")
    )
    assert [c.test_id for c in suite.cases] == [
        "text_change-t01",
        "text_change-t02",
        "subject-add-a01",
        "background_change-b01",
        "ps_human-p01",
    ]
    assert [c.key for c in suite.categories] == [
        "background_change",
        "ps_human",
        "subject-add",
        "text_change",
    ]  # the benchmark's order
    assert suite.counts() == {
        "background_change": 1,
        "ps_human": 1,
        "subject-add": 1,
        "text_change": 2,
    }
    first = suite.cases[0]
    assert first.text("en") == ("do text_change on t01", "")
    assert first.extra == {
        "key": "t01",
        "task_type": "text_change",
        "language": "en",
        "intersection": True,
    }
    assert first.output_stem == "fullset/text_change/en/t01"
    assert [c.id for c in suite.cases if "intersection" in c.tags] == [
        "text_change-t01",
        "subject-add-a01",
        "background_change-b01",
    ]


def test_each_case_reads_its_own_row_image_when_it_runs(gedit):
    suite = load_suite(gedit, "gedit")
    for number, case in enumerate(suite.cases):
        image, data = case.source.load()
        assert data == png(number)  # input_image of that row, bytes as stored
        assert image.size == (32, 32)


def test_zh_selects_the_cn_rows(gedit):
    suite = load_suite(gedit, "gedit", "zh")
    assert [c.test_id for c in suite.cases] == [
        "text_change-t01",
        "subject-add-a01",
        "tone_transfer-o01",
    ]
    case = suite.cases[0]
    assert case.text("zh")[0] == "对t01做text_change" and case.extra["language"] == "cn"
    assert case.output_stem == "fullset/text_change/cn/t01"
    assert case.source.load()[1] == png(5)


def test_unknown_task_type_lists_the_known_ones(tmp_path):
    folder = write_gedit(
        tmp_path / "g", rows=[*GEDIT_ROWS[:2], ("colour_alter", "c01", "en", False)]
    )
    with pytest.raises(SuiteError) as info:
        load_suite(folder, "gedit")
    message = str(info.value)
    assert "row 2: unknown task type 'colour_alter'" in message and "\n" not in message
    assert all(task in message for task in TASK_TYPES)


def test_missing_column_is_named(tmp_path):
    columns = gedit_columns()
    columns.pop("Intersection_exist")
    import datasets

    datasets.Dataset.from_dict(columns).save_to_disk(str(tmp_path / "g"))
    with pytest.raises(SuiteError, match="no column 'Intersection_exist'"):
        load_suite(tmp_path / "g", "gedit")


def test_duplicate_key_in_one_language_is_refused(tmp_path):
    folder = write_gedit(
        tmp_path / "g", rows=[*GEDIT_ROWS[:2], ("text_change", "t01", "en", False)]
    )
    with pytest.raises(SuiteError, match="duplicate key 't01' in task type text_change"):
        load_suite(folder, "gedit")


def test_a_row_without_its_image_fails_that_case_only(tmp_path):
    """A cell naming its image by path (the struct an Image feature stores) whose file is gone."""
    import datasets

    columns = gedit_columns(GEDIT_ROWS[:3])
    columns["input_image"][1] = {"bytes": None, "path": str(tmp_path / "lost" / "t02.png")}
    cell = datasets.Features({"bytes": datasets.Value("binary"), "path": datasets.Value("string")})
    features = gedit_dataset(gedit_columns(GEDIT_ROWS[:1])).features.copy()
    features["input_image"] = features["input_image_raw"] = cell
    datasets.Dataset.from_dict(columns, features=features).save_to_disk(str(tmp_path / "g"))
    suite = load_suite(tmp_path / "g", "gedit")
    with pytest.raises(
        CaseError, match=r"case text_change-t02: image file .*lost/t02.png .*cannot be read"
    ):
        suite.cases[1].source.load()
    assert suite.cases[0].source.load()[1] == png(0)
    assert suite.cases[2].source.load()[1] == png(2)


@pytest.mark.timeout(120)
def test_hub_id_missing_from_the_offline_cache_is_a_one_line_startup_error(tmp_path):
    config = write_config(tmp_path, suite={"path": "hf://datasets/stepfun-ai/GEdit-Bench"})
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    result = run_bench(config, "--collect-only", "-q", env=env)
    assert result.returncode == 4
    lines = [line for line in result.stderr.splitlines() if "GEdit-Bench" in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "not in the local Hugging Face cache and HF_HUB_OFFLINE is set" in lines[0]
    assert "datasets.load_dataset('stepfun-ai/GEdit-Bench')" in lines[0]
