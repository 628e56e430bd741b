"""The tiny Qwen-Image-Edit checkpoint: offline build, same bytes, concurrent first use, speed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from editbench import editors
from editbench.cases import load_suite
from editbench.config import build_config
from editbench.editors import EditRequest
from editbench.images import encode_png
from editbench.tiny import COMPLETE, ensure_tiny
from support import REPO, SAMPLE_SUITE

pytest.importorskip("diffusers")


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    ensure_tiny("qwen-image-edit", root)
    return root


@pytest.fixture(scope="module")
def editor(tiny_root, monkeypatch_module):
    monkeypatch_module.setenv("EDITBENCH_TINY_DIR", str(tiny_root))
    config = build_config(
        {"editor": {"backend": "diffusers", "model": "tiny:qwen-image-edit", "steps": 2}}
    )
    editors.check(config)
    return editors.create(config, "cpu")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def request_():
    case = load_suite(SAMPLE_SUITE).cases[0]
    image, data = case.source.load()
    return EditRequest(
        case=case, image=image, instruction=case.text("en")[0], seed=1234, source_png=data
    )


@pytest.mark.timeout(600)
def test_make_tiny_writes_both_and_the_same_bytes(tmp_path, tiny_root):
    command = [sys.executable, "-m", "editbench.cli", "make-tiny", str(tmp_path / "out")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    editor_dir, judge_dir = tmp_path / "out" / "qwen-image-edit", tmp_path / "out" / "qwen3-vl"
    assert (editor_dir / "model_index.json").is_file() and (judge_dir / "config.json").is_file()
    for part in ("transformer", "vae", "text_encoder", "tokenizer", "processor", "scheduler"):
        assert (editor_dir / part).is_dir(), part
    assert (editor_dir / "processor" / "preprocessor_config.json").is_file()
    assert not list((tmp_path / "out").glob(".*tmp*"))
    # the same command writes the same bytes (compared with the module's own build)
    assert tree_digest(editor_dir) == tree_digest(tiny_root / "qwen-image-edit")


@pytest.mark.timeout(600)
def test_concurrent_first_use_builds_one_complete_folder(tmp_path):
    code = (
        "import sys; from pathlib import Path; from editbench.tiny import ensure_tiny; "
        "print(ensure_tiny('qwen-image-edit', Path(sys.argv[1])))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-1500:] for _, err in outputs]
    assert {out.strip() for out, _ in outputs} == {str(tmp_path / "qwen-image-edit")}
    assert (tmp_path / "qwen-image-edit" / COMPLETE).is_file()
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == [
        "qwen-image-edit"
    ]


def test_processor_loads_image_only(editor):
    pipe = editor.pipeline()
    assert not hasattr(pipe.processor, "video_processor")
    assert pipe.processor.image_processor.size["longest_edge"] == 65536
    assert type(pipe.processor).__mro__[1].__name__ == "Qwen2VLProcessor"


def test_describe_is_builtin_and_names_every_parameter(editor):
    import execnet

    described = editor.describe()
    assert execnet.loads(execnet.dumps(described)) == described
    assert described["model"] == "tiny:qwen-image-edit" and len(described["revision"]) == 16
    assert described["call"] == {
        "num_inference_steps": 2,
        "true_cfg_scale": 4.0,
        "negative_prompt": " ",
    }


def test_parameter_change_changes_the_description(tiny_root, monkeypatch):
    monkeypatch.setenv("EDITBENCH_TINY_DIR", str(tiny_root))
    base = {"backend": "diffusers", "model": "tiny:qwen-image-edit", "steps": 2}
    identities = [
        editors.create(build_config({"editor": {**base, **change}}), "cpu").describe()
        for change in (
            {},
            {"steps": 3},
            {"true_cfg_scale": 2.0},
            {"negative_prompt": "x"},
            {"size": "source"},
            {"kwargs": {"max_sequence_length": 256}},
        )
    ]
    assert len({repr(sorted(i.items())) for i in identities}) == len(identities)


def test_same_seed_same_bytes_other_seed_other_bytes(editor, request_):
    first = encode_png(editor.edit(request_))
    again = encode_png(editor.edit(request_))
    other = encode_png(editor.edit(EditRequest(**{**request_.__dict__, "seed": 99})))
    assert first == again
    assert first != other


def test_size_policy_source(tiny_root, monkeypatch, request_):
    monkeypatch.setenv("EDITBENCH_TINY_DIR", str(tiny_root))
    config = build_config(
        {
            "editor": {
                "backend": "diffusers",
                "model": "tiny:qwen-image-edit",
                "steps": 2,
                "size": "source",
            }
        }
    )
    edited = editors.create(config, "cpu").edit(request_)
    assert edited.size == request_.image.size


def test_pipeline_error_is_raised_from_edit(tiny_root, monkeypatch, request_):
    """The runner fails only this case on it; the editor must raise, not return a blank image."""
    monkeypatch.setenv("EDITBENCH_TINY_DIR", str(tiny_root))
    config = build_config(
        {
            "editor": {
                "backend": "diffusers",
                "model": "tiny:qwen-image-edit",
                "steps": 2,
                "kwargs": {"max_sequence_length": 5000},
            }
        }
    )
    with pytest.raises(ValueError, match="max_sequence_length"):
        editors.create(config, "cpu").edit(request_)
