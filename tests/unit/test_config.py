"""Run config: frozen dataclasses, unknown keys and wrong types rejected with the key named."""

from __future__ import annotations

import dataclasses

import pytest

from editbench.config import build_config, load_config
from editbench.errors import ConfigError


def test_defaults_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("editor:\n  backend: identity\n  steps: 8\n", encoding="utf-8")
    config = load_config(path, ["editor.steps=4", "judge.temperature=0.5", "judge.gpus=3"])
    assert config.editor.steps == 4
    assert config.judge.temperature == 0.5
    assert config.judge.gpus == ["3"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.editor.steps = 2


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("suite:\n  path: ../suite\n", encoding="utf-8")
    config = load_config(path)
    assert config.resolve(config.suite.path) == (tmp_path / "suite").resolve()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"editor": {"stepz": 3}}, "editor.stepz; did you mean editor.steps?"),
        ({"editr": {}}, "unknown config key editr; did you mean editor?"),
        ({"editor": {"steps": "four"}}, "editor.steps: expected an int, got str 'four'"),
        ({"editor": {"steps": True}}, "editor.steps: expected an int"),
        ({"judge": {"method": "vibes"}}, "judge.method: 'vibes' is not one of logit, generate"),
        ({"suite": {"language": "fr"}}, "suite.language"),
        ({"judge": {"images": "source"}}, "judge.images: expected a list"),
        ({"judge": {"scores": {"SC": 7, "XX": 1}}}, "unknown judge dimension judge.scores.XX"),
        ({"judge": {"scores": {"sc": 7}}}, "did you mean judge.scores.SC?"),
        ({"judge": {"scores": {"SC": "high"}}}, "judge.scores.SC: expected a number"),
    ],
)
def test_bad_values_name_the_key(data, needle):
    with pytest.raises(ConfigError) as info:
        build_config(data, source="run.yaml")
    assert needle in str(info.value)
    assert str(info.value).startswith("run.yaml")


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("editor: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="safe loading only"):
        load_config(path)


def test_missing_file_and_bad_override(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="expected SECTION.KEY=VALUE"):
        load_config(None, ["steps=4"])


def test_suite_language_takes_one_language_or_a_preference_list():
    assert build_config({"suite": {"language": "zh"}}).suite.language == "zh"
    assert build_config({"suite": {"language": ["zh", "en"]}}).suite.language == ["zh", "en"]
    with pytest.raises(ConfigError, match="suite.language: \\['en', 'fr'\\] is not one of en, zh"):
        build_config({"suite": {"language": ["en", "fr"]}})
    with pytest.raises(ConfigError, match="suite.language: 'fr' is not one of en, zh"):
        build_config({"suite": {"language": "fr"}})


def test_paths_given_with_eb_set_resolve_against_the_working_folder(tmp_path, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "run.yaml").write_text("suite:\n  path: in_config_folder\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    from_file = load_config(folder / "run.yaml")
    assert from_file.resolve(from_file.suite.path) == folder / "in_config_folder"
    given = load_config(
        folder / "run.yaml",
        [
            "suite.path=here/suite.json",
            "editor.replay_dir=reports/run-1",
            "judge.model=./ckpt",
            "judge.backend=faults.py:Faulty",
            "editor.model=Qwen/Qwen-Image-Edit",
        ],
    )
    assert given.resolve(given.suite.path) == tmp_path / "here" / "suite.json"
    assert given.resolve(given.editor.replay_dir) == tmp_path / "reports" / "run-1"
    assert given.judge.model == str(tmp_path / "ckpt")
    assert given.judge.backend == f"{tmp_path / 'faults.py'}:Faulty"
    assert given.editor.model == "Qwen/Qwen-Image-Edit"  # a hub id is no path


def test_a_flow_map_override_without_spaces_is_explained():
    with pytest.raises(ConfigError, match=r"reads \{SC:7\} as the key 'SC:7' with no value"):
        load_config(None, ["judge.scores={SC:7}"])
    assert load_config(None, ["judge.scores={SC: 7}"]).judge.scores == {"SC": 7}
