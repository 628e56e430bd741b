"""Isolation is real: a diffusers pipeline on transformers 4.57, the judge on 5.x, two virtualenvs.

The benchmark runs under the `editor-legacy` virtualenv (transformers 4.57 with diffusers 0.39:
`$EDITBENCH_LEGACY_PYTHON`, else <repo>/.tox/editor-legacy; `tox -e editor-legacy` creates it),
where a tiny random StableDiffusionInstructPix2PixPipeline (tests/e2e/tiny_pix2pix.py, built by
that interpreter) edits through editbench's diffusers backend; the tiny Qwen3-VL judge scores in
the judge virtualenv on transformers 5. Every case must be scored, the edits must be the
pipeline's (not the source), and run.json must show each side's own versions.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from support import REPO, read_results, write_config

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def legacy_python() -> str:
    python = os.environ.get("EDITBENCH_LEGACY_PYTHON") or str(
        REPO / ".tox" / "editor-legacy" / "bin" / "python"
    )
    if not Path(python).is_file():
        pytest.skip(
            f"no editor-legacy interpreter at {python}: create it with `tox -e editor-legacy` "
            "or set EDITBENCH_LEGACY_PYTHON (tox -e tests does both)"
        )
    return python


def version_of(python: Path | str, package: str) -> str:
    return subprocess.run(
        [str(python), "-c", f"import {package}; print({package}.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_diffusers_pipeline_on_transformers_4_is_judged_on_transformers_5(
    tmp_path, legacy_python, judge_python, tiny_judge
):
    assert version_of(legacy_python, "transformers").startswith("4.57.")
    assert version_of(legacy_python, "diffusers").startswith("0.39.")
    assert version_of(judge_python, "transformers").startswith("5.")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}  # this checkout
    pipeline = tmp_path / "pix2pix"
    subprocess.run(
        [legacy_python, str(HERE / "tiny_pix2pix.py"), str(pipeline)],
        check=True,
        timeout=600,
        env=env,
    )
    config = write_config(
        tmp_path,
        editor={
            "backend": "diffusers",
            "model": str(pipeline),
            "pipeline": "StableDiffusionInstructPix2PixPipeline",
            "dtype": "float32",
            "steps": 2,
        },
        judge={
            "backend": "qwen-vl",
            "model": str(tiny_judge),
            "python": judge_python,
            "max_pixels": 65536,
            "min_digit_mass": 0,  # random weights: little probability on score tokens
        },
    )
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [
            legacy_python,
            "-m",
            "pytest",
            str(REPO / "benchmarks"),
            "-p",
            "no:cacheprovider",
            f"--eb-config={config}",
            f"--eb-run-dir={run_dir}",
            "-k",
            "物理-001",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = read_results(run_dir)
    assert len(records) == 1
    for record in records:
        assert record["status"] == "ok", record
        assert set(record["statuses"].values()) == {"ok"} and len(record["statuses"]) == 4
        source, edited = (Image.open(run_dir / record["images"][k]) for k in ("source", "edited"))
        assert edited.size == source.size
        assert edited.tobytes() != source.convert(edited.mode).tobytes()  # the pipeline edited it
        assert record["edit_s"] > 0 and not record["edit_cached"]
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    worker, judge = meta["versions"]["worker"], meta["versions"]["judge"]
    assert str(worker["transformers"]).startswith("4.57."), worker
    assert str(worker["diffusers"]).startswith("0.39."), worker
    assert str(judge["transformers"]).startswith("5."), judge
    assert judge["executable"] == judge_python
    assert worker["tokenizers"] and judge["tokenizers"] and judge["diffusers"] is None
    if os.environ.get("EDITBENCH_REQUIRE_LOCKED") == "1":  # tox: each side from its own lock
        assert worker["lock"]["lock"] == "envs/lock/cpu/editor-legacy.txt"
        assert judge["lock"]["lock"] == "envs/lock/cpu/judge.txt"
        assert worker["lock"]["sha256"] != judge["lock"]["sha256"]
    described = meta["editor"]["describe"]
    assert (described["backend"], described["pipeline"]) == (
        "diffusers",
        "StableDiffusionInstructPix2PixPipeline",
    )
