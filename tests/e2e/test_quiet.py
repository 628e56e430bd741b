"""A benchmark run's own output carries no third-party noise, even when it builds the tiny
checkpoints on first use: no progress bars, no save warnings from diffusers or transformers."""

from __future__ import annotations

import pytest

from support import run_bench, write_config

pytest.importorskip("diffusers")

NOISE = ("Writing model shards", "cannot be saved", "it/s]", "%|")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_first_run_builds_the_tiny_models_quietly(tmp_path, judge_python):
    tiny = tmp_path / "tiny"  # fresh: this run builds the editor and the judge
    editor = {"backend": "diffusers", "model": "tiny:qwen-image-edit", "steps": 2}
    judge = {
        "backend": "qwen-vl",
        "model": "tiny:qwen3-vl",
        "python": judge_python,
        "min_digit_mass": 0,
    }
    config = write_config(tmp_path, editor=editor, judge=judge)
    result = run_bench(
        config, "-k", "物理-001", run_dir=tmp_path / "run", env={"EDITBENCH_TINY_DIR": str(tiny)}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert (tiny / "qwen-image-edit").is_dir() and (tiny / "qwen3-vl").is_dir()
    noisy = [line for line in output.splitlines() if any(n in line for n in NOISE)]
    assert noisy == []
