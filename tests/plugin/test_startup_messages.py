"""`editbench validate` and `pytest benchmarks/` say the same about the same config.

- a refused config exits 4 in validate (run here, in-process) as under pytest (a real process);
- a config without its editor or judge section stops both in one line;
- `--eb-gpus 0,1` on a machine without a GPU warns in both;
- the default judge interpreter is found from the project, not the working folder;
- a mistyped option gets the closest one.

validate alone, and the start-up refusals' own lines: tests/unit/test_validate_command.py and
tests/unit/test_startup_refusals.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from support import REPO, SAMPLE_SUITE, command_in_process, run_bench, write_config


@pytest.fixture
def validate(capsys, monkeypatch):
    """`editbench validate ARGS` in this process, with `env` set; its exit status and output."""

    def run(*args: str, **env: str):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return command_in_process(capsys, "validate", *args)

    return run


@pytest.mark.parametrize(
    ("config_text", "needle"),
    [
        ("editor:\n  stepz: 3\n", "did you mean editor.steps?"),
        ("judge:\n  backend: constant\n  scores: {SC: 7, PQ: 8, criterion: 6, XX: 1}\n", "XX"),
    ],
)
def test_a_config_error_exits_4_in_validate_as_under_pytest(
    tmp_path, validate, config_text, needle
):
    config = tmp_path / "bad.yaml"
    config.write_text(
        f"suite:\n  path: {SAMPLE_SUITE}\nrun:\n  dir: {tmp_path / 'reports'}\n" + config_text,
        encoding="utf-8",
    )
    checked = validate(str(config))
    ran = run_bench(config, "--collect-only", timeout=120)
    assert checked.returncode == ran.returncode == 4, checked.stderr + ran.stderr
    assert needle in checked.stderr and needle in ran.stderr


@pytest.mark.timeout(120)
def test_gpus_asked_for_on_a_machine_without_one_warn(tmp_path, validate):
    config = write_config(tmp_path)
    no_gpu = {"CUDA_VISIBLE_DEVICES": ""}
    result = run_bench(config, "--eb-gpus=0,1", "--collect-only", "-q", env=no_gpu)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "--eb-gpus 0,1: no GPU is visible on this machine" in result.stdout + result.stderr
    checked = validate(str(config), "--gpus", "0,1", **no_gpu)
    assert checked.returncode == 0 and "warning: --eb-gpus 0,1: no GPU is visible" in checked.stdout


@pytest.mark.parametrize("missing", ["editor", "judge"])
def test_a_config_without_editor_or_judge_stops_in_one_line(tmp_path, validate, missing):
    """Never the no-edit editor and no judge in silence: the config must name both."""
    config = tmp_path / "my.yaml"
    kept = {"editor": "editor:\n  backend: identity\n", "judge": "judge:\n  backend: none\n"}
    kept.pop(missing)
    config.write_text(f"suite:\n  path: {SAMPLE_SUITE}\n" + "".join(kept.values()), "utf-8")
    checked = validate(str(config))
    ran = run_bench(config, "--collect-only", timeout=120)
    assert checked.returncode == ran.returncode == 4, checked.stdout + ran.stdout
    line = f"{config}: no {missing}: section; a run config names its editor and its judge"
    assert line in checked.stderr and line in ran.stderr
    assert f"--eb-set={missing}.backend=" in ran.stderr and "Traceback" not in ran.stderr


def test_the_default_judge_interpreter_is_found_from_the_project_not_the_working_folder(tmp_path):
    """`pytest -c PROJECT/pytest.ini --rootdir=PROJECT PROJECT/benchmarks` from another folder."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    for name in ("benchmarks", "fixtures"):
        shutil.copytree(REPO / name, project / name)
    for name in ("pytest.ini", "conftest.py"):
        shutil.copy2(REPO / name, project / name)
    python = project / ".tox" / "judge" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")  # only found, never started here
    python.chmod(0o755)
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "EDITBENCH_JUDGE_PYTHON"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"-c={project / 'pytest.ini'}", f"--rootdir={project}"]
        + [str(project / "benchmarks"), "--collect-only", "-q", "-p", "no:cacheprovider"]
        + [f"--eb-run-dir={tmp_path / 'run'}"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "25 tests collected" in done.stdout


def test_a_mistyped_option_gets_the_closest_one(tmp_path):
    result = run_bench(write_config(tmp_path), f"--eb-confg={tmp_path / 'x.yaml'}", timeout=120)
    assert result.returncode == 4, result.stdout[-2000:]
    assert "unknown option --eb-confg; did you mean --eb-config?" in result.stderr
