"""Score cache keys hold everything that changes a score: resolved device and dtype, a file
backend's content, a hub id's cached snapshot; run.json records the snapshots it resolved."""

from __future__ import annotations

import pytest

from editbench.config import build_config
from editbench.hub import hub_snapshot
from editbench.judging.gateway import score_key
from editbench.judging.resolve import backend_target, resolved_device
from editbench.reporting.runmeta import model_meta


def fake_hub_cache(root, repo: str, commit: str, filename: str) -> None:
    """A Hugging Face cache holding `repo` at `commit` (refs/main points at it), as the hub writes it."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
    (folder / "snapshots" / commit / filename).write_text("{}", encoding="utf-8")
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(commit, encoding="utf-8")


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    root = tmp_path / "hub"
    root.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
    return root


def key(judge: dict, gpus: list[str] = (), base_dir: str = ".") -> dict:
    config = build_config({"judge": judge}, base_dir=base_dir)
    device, dtype = resolved_device(config, list(gpus))
    model = config.judge.model
    target = backend_target(config)
    return score_key(config, target, model, device, dtype)


def test_auto_device_and_dtype_are_resolved_by_the_gpus_the_judge_sees():
    judge = {"backend": "qwen-vl", "model": "org/judge"}
    cpu, gpu = key(judge), key(judge, gpus=["0"])
    assert (cpu["device"], cpu["dtype"]) == ("cpu", "float32")
    assert (gpu["device"], gpu["dtype"]) == ("cuda", "bfloat16")
    assert cpu != gpu  # CPU float32 scores are never reused on a GPU bfloat16 run
    pinned = key({**judge, "device": "cpu", "dtype": "bfloat16"}, gpus=["0"])
    assert (pinned["device"], pinned["dtype"]) == ("cpu", "bfloat16")
    constant = key({"backend": "constant", "scores": {"SC": 7}}, gpus=["0"])
    assert constant["device"] is None and constant == key(
        {"backend": "constant", "scores": {"SC": 7}}
    )


def test_a_file_backend_is_keyed_by_its_content(tmp_path):
    file = tmp_path / "judge.py"
    file.write_text("class J:\n    pass\n", encoding="utf-8")
    judge = {"backend": "judge.py:J"}
    before = key(judge, base_dir=str(tmp_path))
    file.write_text("class J:\n    scale = 2\n", encoding="utf-8")
    after = key(judge, base_dir=str(tmp_path))
    assert before["backend"] == after["backend"] and before != after


def test_a_hub_id_without_revision_is_keyed_by_its_cached_snapshot(hub_cache):
    judge = {"backend": "qwen-vl", "model": "org/judge"}
    fake_hub_cache(hub_cache, "org/judge", "a" * 40, "config.json")
    first = key(judge)
    assert first["snapshot"] == "a" * 40
    fake_hub_cache(hub_cache, "org/judge", "b" * 40, "config.json")  # the cache moved on
    assert key(judge)["snapshot"] == "b" * 40 and key(judge) != first
    assert hub_snapshot("org/other", None) is None


def test_run_json_records_the_snapshots_of_editor_and_judge(hub_cache):
    fake_hub_cache(hub_cache, "org/editor", "c" * 40, "model_index.json")
    fake_hub_cache(hub_cache, "org/judge", "d" * 40, "config.json")
    config = build_config(
        {
            "editor": {"backend": "diffusers", "model": "org/editor"},
            "judge": {"backend": "qwen-vl", "model": "org/judge"},
        }
    )
    assert model_meta(config, config.editor, "model_index.json")["snapshot"] == "c" * 40
    assert model_meta(config, config.judge, "config.json")["snapshot"] == "d" * 40
