"""What stops a run at start-up, checked where the plugin checks it: `settings.load_settings`.

The plugin's `pytest_configure` calls `load_settings` with the run config and the `--eb-set`
items and turns its EditbenchError into pytest's one-line usage error (exit 4) before any model
loads; that wiring is proven once per kind of run in tests/plugin (test_collection.py,
test_faults.py). Here each refusal's own line: the key or file it names, the fix, one line.
"""

from __future__ import annotations

import shutil

import pytest

from editbench.errors import EditbenchError
from editbench.settings import load_settings
from support import SAMPLE_SUITE, constant_judge, write_config


def refused(config, *overrides: str) -> str:
    with pytest.raises(EditbenchError) as info:
        load_settings(str(config), list(overrides))
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("editor.stepz=2", "unknown config key editor.stepz; did you mean editor.steps?"),
        ("editor.steps=many", "editor.steps: expected an int"),
        ("editor.backend=difusers", "unknown backend 'difusers'; did you mean 'diffusers'?"),
        ("suite.path=/nonexistent/suite", "suite /nonexistent/suite: does not exist"),
        ("judge.timeout_s=soon", "judge.timeout_s: expected a float, got str 'soon'"),
    ],
)
def test_startup_errors_are_one_line(tmp_path, setting, needle):
    assert needle in refused(write_config(tmp_path), setting)


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        (
            "editor.steps=four",
            "--eb-set=editor.steps=four: editor.steps: expected an int, got str 'four'; "
            "give an int after the =, as --eb-set=editor.steps=...",
        ),
        (
            "editor.stepz=2",
            "--eb-set=editor.stepz=2: unknown config key editor.stepz; did you mean editor.steps?",
        ),
        (
            "judge.scores={SC: 7, PQ: 8}",
            "--eb-set=judge.scores={SC: 7, PQ: 8}: judge.scores has no criterion; the constant "
            "backend needs a number in [0, 10] for each of judge.dimensions (SC, PQ, criterion): "
            "e.g. --eb-set='judge.scores={SC: 7, PQ: 8, criterion: 6}'",
        ),
    ],
)
def test_an_eb_set_error_blames_the_eb_set_item_not_the_config_file(
    tmp_path, judge_python, setting, needle
):
    config = write_config(tmp_path, judge=constant_judge(judge_python))
    message = refused(config, setting)
    assert needle in message
    assert str(config) not in message and "--eb-set " not in message


def test_unknown_scores_dimension_and_a_flow_map_without_spaces(tmp_path):
    config = write_config(tmp_path)
    unknown = refused(config, "judge.scores={SC: 7, XX: 1}")
    assert "judge.scores.XX" in unknown and "SC, PQ, criterion" in unknown
    squashed = refused(config, "judge.scores={SC:7}")
    assert "as the key 'SC:7' with no value" in squashed
    assert "--eb-set='judge.scores={SC: 7}'" in squashed and "got None" not in squashed


@pytest.fixture
def suite(tmp_path):
    target = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, target)
    return target


def change_case(suite, case_id: str, **changes) -> None:
    import json

    path = suite / "cases.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        item = json.loads(line)
        if item["id"] == case_id:
            lines[index] = json.dumps({**item, **changes}, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "fault",
    [
        "source traversal",
        "source absolute",
        "reference traversal",
        "symlink out",
        "templates absolute",
    ],
)
def test_manifest_paths_outside_the_suite_are_refused(tmp_path, suite, fault):
    outside = tmp_path / "secret.png"
    outside.write_bytes((suite / "images" / "physical-002.png").read_bytes())
    line = "cases.jsonl:2"
    if fault == "source traversal":
        change_case(suite, "物理-002", source="images/../../secret.png")
        needle = "path 'images/../../secret.png' leaves the suite folder"
    elif fault == "source absolute":
        change_case(suite, "物理-002", source=str(outside))
        needle = f"absolute path {str(outside)!r} refused"
    elif fault == "reference traversal":
        change_case(suite, "物理-002", reference="../secret.png")
        needle = "path '../secret.png' leaves the suite folder"
    elif fault == "symlink out":
        (suite / "images" / "link.png").symlink_to(outside)
        change_case(suite, "物理-002", source="images/link.png")
        needle = "path 'images/link.png' leaves the suite folder"
    else:
        manifest = suite / "suite.yaml"
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace("templates: templates", f"templates: {tmp_path}"), "utf-8")
        line, needle = "suite.yaml: templates", f"absolute path {str(tmp_path)!r} refused"
    message = refused(write_config(tmp_path, suite={"path": str(suite)}))
    assert needle in message and line in message


@pytest.mark.parametrize("where", ["run config", "suite.yaml"])
def test_yaml_python_tags_are_refused_and_never_run(tmp_path, suite, where):
    marker = tmp_path / "pwned"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]'
    config = write_config(tmp_path, suite={"path": str(suite)})
    if where == "run config":
        target = config
        target.write_text(target.read_text(encoding="utf-8") + f"\nextra: {payload}\n", "utf-8")
    else:
        target = suite / "suite.yaml"
        text = target.read_text(encoding="utf-8")
        target.write_text(text.replace("name: editbench-sample", f"name: {payload}"), "utf-8")
    message = refused(config)
    assert str(target) in message and "safe loading only" in message
    assert not marker.exists()


@pytest.mark.parametrize(
    ("fail_under", "shard", "message"),
    [
        (["Q=1"], None, "--eb-fail-under 'Q=1': expected DIM[@CATEGORY]=VALUE"),
        (["O@mars=1"], None, "unknown category 'mars'"),
        ([], "3/2", "--eb-shard '3/2': K must be between 1 and N"),
    ],
)
def test_bad_gate_and_shard_options_are_one_line(tmp_path, fail_under, shard, message):
    """What the plugin's pytest_configure builds from --eb-fail-under and --eb-shard."""
    from editbench.controller import Controller
    from editbench.shard import parse_shard

    settings = load_settings(str(write_config(tmp_path)), [])
    with pytest.raises(EditbenchError) as info:
        parse_shard(shard)
        Controller(settings, tmp_path / "run", fail_under=fail_under, shard=shard)
    assert message in str(info.value) and "\n" not in str(info.value)


DEFAULT_CONFIG = SAMPLE_SUITE.parents[1] / "benchmarks" / "default.yaml"


@pytest.fixture
def datasets_cache(tmp_path, monkeypatch):
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))


def test_a_published_suite_under_the_default_config_names_its_protocol(tmp_path, datasets_cache):
    """The checkout's default run config (what `pytest benchmarks` reads without --eb-config)."""
    from benchdata import write_gedit

    gedit = write_gedit(tmp_path / "gedit")
    given = (f"suite.path={gedit}", "suite.format=gedit")
    message = refused(DEFAULT_CONFIG, *given)
    assert "--eb-set=judge.protocol=gedit or --eb-config=benchmarks/gedit.yaml" in message
    fixed = load_settings(str(DEFAULT_CONFIG), [*given, "judge.protocol=gedit"])
    assert len(fixed.suite.cases) == 5


def test_a_base64_category_without_criterion_names_the_suite_file(tmp_path):
    import json

    items = json.loads((SAMPLE_SUITE.parent / "sample_b64.json").read_text(encoding="utf-8"))
    items[0]["subset"] = "光照"
    suite = tmp_path / "my_suite.json"
    suite.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    message = refused(DEFAULT_CONFIG, f"suite.path={suite}")
    assert f"suite {suite}: category 光照 (光照) has no criterion" in message


def test_an_imgedit_suite_with_a_wrong_image_folder_stops_naming_suite_images(tmp_path):
    """Without suite.images every image is looked for beside the JSON file: stop at start-up;
    with it, every case runs (in this process: `support.run_in_process`)."""
    from benchdata import write_imgedit

    from support import read_results, run_in_process

    file, root = write_imgedit(tmp_path / "imgedit")
    config = write_config(tmp_path, suite={"path": str(file)})
    message = refused(config)
    assert f"suite.images not set, so they are looked for beside {file}" in message
    assert "--eb-set=suite.images=DIR" in message
    done = run_in_process(config, f"suite.images={root}", run_dir=tmp_path / "ok")
    assert done.returncode == 0
    assert [r["status"] for r in read_results(tmp_path / "ok")] == ["ok"] * 5
