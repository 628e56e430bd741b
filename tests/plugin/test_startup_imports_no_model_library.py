"""Start-up imports no model library, and its checks keep their value.

- `pytest --collect-only` and `pytest --markers` of the sample suite under the default config (the
  diffusers editor, the tiny Qwen3-VL judge) leave no torch, diffusers, transformers or scipy in
  the controller's `sys.modules`: the pipeline-class check reads diffusers' files unimported,
  and scipy waits for the summaries;
- an unknown pipeline class still stops a run (`-n 2`) before any case, with its one line and its
  close matches (the line the imported library gives), without importing diffusers to say so.

The libraries are seen by the `eb_imported` probe plugin (tests/probes), in the real processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from editbench.editors import diffusers_backend
from editbench.errors import ConfigError
from support import REPO, imported_libraries, probe_imports, run_bench

DEFAULT_CONFIG = REPO / "benchmarks" / "default.yaml"


@pytest.fixture(scope="module")
def tiny_editor() -> Path:
    """The default config's tiny editor, built before the runs (a first use builds it with torch)."""
    from editbench.tiny import ensure_tiny

    return Path(ensure_tiny("qwen-image-edit"))


def probed(tmp_path: Path, *args: str, judge_python: str) -> tuple[object, dict[str, list]]:
    """Run the benchmark with the probe; return the process and each process's libraries."""
    folder = tmp_path / "imported"
    env = {**probe_imports(folder), "EDITBENCH_JUDGE_PYTHON": judge_python}
    result = run_bench(
        DEFAULT_CONFIG, "-p", "eb_imported", *args, run_dir=tmp_path / "run", env=env, timeout=300
    )
    return result, imported_libraries(folder)


def imported_diffusers_says(name: str) -> str:
    """The check's line when it asks the imported library, as it did before it read the files."""
    with pytest.raises(ConfigError) as info:
        diffusers_backend._pipeline_class(name)
    return str(info.value)


@pytest.mark.parametrize(
    "args",
    [("--collect-only", "-q", "-k", "物理"), ("--markers",)],
    ids=["collect-only", "markers"],
)
def test_the_controller_imports_no_model_library_at_startup(
    tmp_path, tiny_editor, judge_python, args
):
    result, seen = probed(tmp_path, *args, judge_python=judge_python)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    if "--collect-only" in args:
        assert "5/25 tests collected" in result.stdout
    assert seen == {"controller": []}


def test_an_unknown_pipeline_class_stops_the_run_at_startup_with_its_one_line(
    tmp_path, tiny_editor, judge_python
):
    result, seen = probed(
        tmp_path,
        "--eb-set=editor.pipeline=QwenImageEditPipelin",
        "-n",
        "2",
        judge_python=judge_python,
    )
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if "editor.pipeline" in line]
    assert lines == [f"ERROR: {imported_diffusers_says('QwenImageEditPipelin')}"], result.stderr
    assert "close matches: QwenImageEditPipeline" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()  # stopped before the run folder, before any case
    assert seen == {"controller": []}  # no worker started; the check imported no library
