"""Suite loading: both formats, stable ids, and one clear error per kind of bad input."""

from __future__ import annotations

import base64
import json
import shutil

import pytest

from editbench.cases import case_seed, load_suite
from editbench.errors import CaseError, SuiteError
from support import SAMPLE_B64, SAMPLE_SUITE


@pytest.fixture
def suite_copy(tmp_path):
    target = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, target)
    return target


def rewrite_line(suite, index, **changes):
    lines = (suite / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    item = json.loads(lines[index])
    item.update(changes)
    lines[index] = json.dumps(item, ensure_ascii=False)
    (suite / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_sample_suite_has_five_categories_of_five_bilingual_cases():
    suite = load_suite(SAMPLE_SUITE)
    assert len(suite.cases) >= 25
    assert [c.display for c in suite.categories] == ["物理", "环境", "社会", "因果", "指代"]
    assert all(n >= 5 for n in suite.counts().values())
    for case in suite.cases:
        assert case.instruction["en"] and case.instruction["zh"] and case.description["en"]
        assert case.test_id.startswith(case.category.display)
        image, data = case.source.load()
        assert image.size == (256, 256) and data[:4] == b"\x89PNG"


def test_b64_suite_ids_are_stable_and_language_selectable():
    en = load_suite(SAMPLE_B64, language="en")
    zh = load_suite(SAMPLE_B64, language="zh")
    assert len(en.cases) >= 5
    assert [c.id for c in en.cases] == [c.id for c in zh.cases]
    assert en.cases[0].id == "物理-glass_edge" and en.cases[0].pair_id == "glass_edge"
    assert en.cases[0].text("en")[0].startswith("Show") and zh.cases[0].text("zh")[0].startswith(
        "展示"
    )
    assert en.cases[0].category.key == "physical"
    assert en.cases[0].source.load()[0].size == (256, 256)


def test_b64_ids_fall_back_to_category_and_index(tmp_path):
    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    for item in items:
        item.pop("original_image_path")
        item["subset"] = "物理"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    assert [c.id for c in load_suite(path).cases] == [
        f"物理-{i:03d}" for i in range(1, len(items) + 1)
    ]


def test_seed_depends_on_case_id_not_position():
    suite = load_suite(SAMPLE_SUITE)
    first, second = suite.cases[0], suite.cases[1]
    assert case_seed(0, first) == case_seed(0, first)
    assert case_seed(0, first) != case_seed(0, second)
    assert case_seed(0, first) != case_seed(1, first)


def test_missing_image_fails_that_case_only(suite_copy):
    (suite_copy / "images" / "physical-002.png").unlink()
    suite = load_suite(suite_copy)
    with pytest.raises(
        CaseError, match=r"case 物理-002: image file .*physical-002.png does not exist"
    ):
        suite.cases[1].source.load()
    suite.cases[0].source.load()


def test_corrupt_png_names_the_case(suite_copy):
    (suite_copy / "images" / "physical-001.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(CaseError, match="case 物理-001: .*not a readable image"):
        load_suite(suite_copy).cases[0].source.load()


def test_corrupt_base64_names_the_case(tmp_path):
    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    items[2]["src_img_b64"] = "@@not base64@@"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    suite = load_suite(path)
    with pytest.raises(
        CaseError, match=r"case 社会-birthday \(.*b\.json: item 2\): invalid base64"
    ):
        suite.cases[2].source.load()


def test_decompression_bomb_is_refused(tmp_path):
    from PIL import Image

    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    import io

    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    items[0]["src_img_b64"] = base64.b64encode(buffer.getvalue()).decode()
    path = tmp_path / "b.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CaseError, match="size limit"):
        load_suite(path).cases[0].source.load()
    assert Image.MAX_IMAGE_PIXELS is not None


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            {"category": "cooking"},
            "unknown category 'cooking'; known categories: causal, environmental",
        ),
        ({"id": "物理-001"}, "duplicate case id '物理-001' (first on line 1)"),
        ({"source": "../../etc/passwd"}, "leaves the suite folder"),
        ({"source": "/etc/passwd"}, "absolute path '/etc/passwd' refused"),
        ({"colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_structural_errors_name_the_line(suite_copy, change, needle):
    rewrite_line(suite_copy, 1, **change)
    with pytest.raises(SuiteError) as info:
        load_suite(suite_copy)
    assert needle in str(info.value)
    assert "cases.jsonl:2" in str(info.value)


def test_malformed_json_line(suite_copy):
    with open(suite_copy / "cases.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"id": "x", \n')
    with pytest.raises(SuiteError, match=r"cases.jsonl:26: malformed JSON"):
        load_suite(suite_copy)


def test_suite_yaml_with_python_tags_is_refused(suite_copy):
    (suite_copy / "suite.yaml").write_text("name: !!python/name:os.system\n", encoding="utf-8")
    with pytest.raises(SuiteError, match="safe loading only"):
        load_suite(suite_copy)


def test_a_case_without_the_run_language_fails_alone_and_a_preference_list_falls_back(suite_copy):
    rewrite_line(suite_copy, 1, instruction={"en": "only english"})
    suite = load_suite(suite_copy, language="zh")  # one case lacks zh: not a startup error
    case = suite.cases[1]
    with pytest.raises(CaseError, match=r"case 物理-002 has no zh instruction \(has en\)"):
        case.language_for(suite.preferences)
    both = load_suite(suite_copy, language=["zh", "en"])
    assert both.preferences == ("zh", "en") and both.language == "zh"
    assert both.cases[1].language_for(both.preferences) == "en"
    assert both.cases[0].language_for(both.preferences) == "zh"


def test_a_suite_with_no_case_in_the_run_language_is_one_startup_error(tmp_path):
    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    for item in items:
        item.pop("edit_instruction_en", None)
    path = tmp_path / "zh.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(
        SuiteError, match="no case has a en instruction .*has zh.*set suite.language"
    ):
        load_suite(path, language="en")
    with pytest.raises(SuiteError, match="suite.language .*preference list"):
        load_suite(path, language=["zh", "fr"])


def test_base64_categories_come_from_the_run_config(tmp_path):
    from editbench.config import build_config
    from editbench.protocols import run_protocol

    def load_templates(suite, dimensions):
        run_protocol(
            build_config({"judge": {"backend": "constant", "dimensions": dimensions}}), suite
        )

    items = json.loads(SAMPLE_B64.read_text(encoding="utf-8"))
    items[0]["subset"] = "光照"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    bare = load_suite(path)
    lighting = next(c for c in bare.categories if c.display == "光照")
    assert lighting.key == "光照" and not lighting.criterion
    with pytest.raises(
        Exception, match=r"has no criterion; give it one in the run config's suite.categories"
    ):
        load_templates(bare, ["SC", "criterion"])
    given = [
        {"key": "lighting", "names": ["光照", "lighting"], "criterion": "light that could be real"}
    ]
    suite = load_suite(path, categories=given)
    category = suite.cases[0].category
    assert (category.key, category.display, category.criterion) == (
        "lighting",
        "光照",
        "light that could be real",
    )
    load_templates(suite, ["SC", "criterion"])  # every category has a criterion now
    with pytest.raises(SuiteError, match=r"suite.categories\[0\]: unknown key 'colour'"):
        load_suite(path, categories=[{"key": "x", "colour": "red"}])
    with pytest.raises(
        SuiteError, match="suite.categories: defines the categories of a base64 suite only"
    ):
        load_suite(SAMPLE_SUITE, categories=given)
