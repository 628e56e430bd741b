"""Editor backends: identity, replay, and the diffusers backend's startup checks and identity."""

from __future__ import annotations

import shutil

import execnet
import pytest

from editbench import editors
from editbench.cases import load_suite
from editbench.config import build_config
from editbench.editors import EditRequest, diffusers_backend
from editbench.errors import CaseError, ConfigError
from editbench.images import encode_png
from support import SAMPLE_SUITE


@pytest.fixture(scope="module")
def suite():
    return load_suite(SAMPLE_SUITE)


def request_for(case, seed: int = 0) -> EditRequest:
    image, data = case.source.load()
    return EditRequest(
        case=case, image=image, instruction=case.text("en")[0], seed=seed, source_png=data
    )


def config(tmp_path, **editor):
    return build_config(
        {"editor": editor}, source=str(tmp_path / "run.yaml"), base_dir=str(tmp_path)
    )


def test_identity_returns_the_source(suite, tmp_path):
    case = suite.cases[0]
    editor = editors.create(config(tmp_path, backend="identity"), "cpu")
    request = request_for(case)
    assert encode_png(editor.edit(request)) == encode_png(request.image)
    assert execnet.loads(execnet.dumps(editor.describe())) == editor.describe()


def test_unknown_backend_names_the_closest(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'replay'"):
        editors.check(config(tmp_path, backend="replai"))


# -- replay --------------------------------------------------------------------------------------


def test_replay_reads_case_id_layout(suite, tmp_path):
    case = suite.cases[0]
    (tmp_path / "edits").mkdir()
    shutil.copyfile(
        SAMPLE_SUITE / "images" / "physical-002.png", tmp_path / "edits" / f"{case.id}.png"
    )
    editor = editors.create(config(tmp_path, backend="replay", replay_dir="edits"), "cpu")
    edited = editor.edit(request_for(case))
    assert encode_png(edited) == encode_png(suite.cases[1].source.load()[0])


def test_replay_reads_category_pair_layout(tmp_path):
    b64 = load_suite(SAMPLE_SUITE.parent / "sample_b64.json")
    case = b64.cases[0]
    folder = tmp_path / "edits" / case.category.display
    folder.mkdir(parents=True)
    shutil.copyfile(SAMPLE_SUITE / "images" / "physical-002.png", folder / f"{case.pair_id}.png")
    editor = editors.create(config(tmp_path, backend="replay", replay_dir="edits"), "cpu")
    assert not (tmp_path / "edits" / f"{case.id}.png").exists()
    expected = load_suite(SAMPLE_SUITE).cases[1].source.load()[0]
    assert encode_png(editor.edit(request_for(case))) == encode_png(expected)


def test_replay_pair_id_of_a_native_case_is_its_id_under_any_category_name(suite, tmp_path):
    case = suite.cases[2]  # 物理-003
    assert case.pair_id == case.id == "物理-003"
    folder = tmp_path / "edits" / case.category.key  # the key works as well as the display name
    folder.mkdir(parents=True)
    shutil.copyfile(SAMPLE_SUITE / "images" / "physical-001.png", folder / "物理-003.png")
    editor = editors.create(config(tmp_path, backend="replay", replay_dir="edits"), "cpu")
    expected = suite.cases[0].source.load()[0]
    assert encode_png(editor.edit(request_for(case))) == encode_png(expected)


def test_replay_missing_file_fails_that_case_with_its_path(suite, tmp_path):
    (tmp_path / "edits").mkdir()
    case = suite.cases[3]
    editor = editors.create(config(tmp_path, backend="replay", replay_dir="edits"), "cpu")
    with pytest.raises(CaseError) as info:
        editor.edit(request_for(case))
    message = str(info.value)
    assert case.id in message and str(tmp_path / "edits" / f"{case.id}.png") in message
    assert str(tmp_path / "edits" / case.category.display / f"{case.pair_id}.png") in message


def test_replay_changed_file_changes_the_description(suite, tmp_path):
    case = suite.cases[0]
    (tmp_path / "edits").mkdir()
    target = tmp_path / "edits" / f"{case.id}.png"
    shutil.copyfile(SAMPLE_SUITE / "images" / "physical-002.png", target)
    before = editors.create(
        config(tmp_path, backend="replay", replay_dir="edits"), "cpu"
    ).describe()
    shutil.copyfile(SAMPLE_SUITE / "images" / "physical-003.png", target)
    after = editors.create(config(tmp_path, backend="replay", replay_dir="edits"), "cpu").describe()
    assert before != after


@pytest.mark.parametrize("value", [None, "nowhere"])
def test_replay_dir_checked_at_startup(tmp_path, value):
    with pytest.raises(ConfigError, match="editor.replay_dir"):
        editors.check(config(tmp_path, backend="replay", replay_dir=value))


# -- diffusers: startup checks (no model loads) --------------------------------------------------


def test_unknown_pipeline_lists_close_matches(tmp_path):
    with pytest.raises(ConfigError) as info:
        editors.check(
            config(
                tmp_path, backend="diffusers", model="org/model", pipeline="QwenImageEditPipelin"
            )
        )
    message = str(info.value)
    assert "editor.pipeline" in message and "QwenImageEditPipeline" in message


def test_missing_model_folder(tmp_path):
    with pytest.raises(ConfigError) as info:
        editors.check(config(tmp_path, backend="diffusers", model="./models/missing"))
    assert "editor.model" in str(info.value) and str(tmp_path / "models" / "missing") in str(
        info.value
    )


def test_folder_without_model_index(tmp_path):
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(ConfigError, match="no model_index.json"):
        editors.check(config(tmp_path, backend="diffusers", model="ckpt"))


def test_model_required(tmp_path):
    with pytest.raises(ConfigError, match="editor.model"):
        editors.check(config(tmp_path, backend="diffusers"))


def test_unknown_tiny_name(tmp_path):
    with pytest.raises(ConfigError, match="did you mean tiny:qwen-image-edit"):
        editors.check(config(tmp_path, backend="diffusers", model="tiny:qwen-image-edi"))


def test_hub_id_offline_and_uncached(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ConfigError, match="not in the local Hugging Face cache"):
        editors.check(config(tmp_path, backend="diffusers", model="nobody/no-such-model"))


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("size", "big", "editor.size"),
        ("kwargs", {"num_inference_stepz": 3}, "did you mean 'num_inference_steps'"),
    ],
)
def test_bad_generation_settings(tmp_path, key, value, needle):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "model_index.json").write_text("{}")
    with pytest.raises(ConfigError, match=needle):
        editors.check(config(tmp_path, backend="diffusers", model="ckpt", **{key: value}))


# -- diffusers: the device, decided without torch, and checked by torch at the first load -------


@pytest.mark.parametrize(("visible", "chosen"), [("", "cpu"), ("0", "cuda"), ("2,3", "cuda")])
def test_auto_device_follows_the_visible_gpus(monkeypatch, visible, chosen):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert diffusers_backend._pick_device("auto") == chosen


def test_cuda_without_a_visible_gpu_is_refused(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(ConfigError, match="editor.device: cuda, but this worker sees no CUDA GPU"):
        diffusers_backend._pick_device("cuda")


def test_a_visible_gpu_that_torch_cannot_use_stops_the_first_load():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch sees a CUDA device here")
    with pytest.raises(ConfigError, match="set editor.device: cpu"):
        diffusers_backend._check_torch_device("cuda")
    diffusers_backend._check_torch_device("cpu")  # cpu needs nothing of torch


def test_unknown_editor_kwarg_is_named_with_its_pipeline(tmp_path):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "model_index.json").write_text("{}")
    with pytest.raises(ConfigError) as info:
        editors.check(
            config(tmp_path, backend="diffusers", model="ckpt", kwargs={"true_cfg_scal": 2.0})
        )
    assert str(info.value) == (
        "editor.kwargs.true_cfg_scal: QwenImageEditPipeline takes no argument 'true_cfg_scal'; "
        "did you mean 'true_cfg_scale'?"
    )
