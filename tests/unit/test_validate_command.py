"""`editbench validate`, in this process: exit 0 when all is well, 1 for a missing or unreadable
image (with or without `--images`), 4 for a refused or missing config; the command line's
typo hints and `--version`. That validate and pytest agree: tests/plugin/test_startup_messages.py.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from support import SAMPLE_SUITE, command_in_process, write_config


@pytest.fixture
def validate(capsys):
    def run(*args: str):
        return command_in_process(capsys, "validate", *args)

    return run


def test_validate_passes_a_good_config_with_exit_0(tmp_path, validate):
    result = validate(str(write_config(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "suite    editbench-sample" in result.stdout and "problem" not in result.stdout


@pytest.mark.parametrize("images", [[], ["--images"]], ids=["exists-check", "opened"])
def test_validate_reports_a_missing_image_with_or_without_images(tmp_path, validate, images):
    suite = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, suite)
    first = json.loads((suite / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    (suite / first["source"]).unlink()
    result = validate(str(write_config(tmp_path, suite={"path": str(suite)})), *images)
    assert result.returncode == 1, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if "problem:" in line]
    assert len(problems) == 1 and first["id"] in problems[0]
    assert str(suite / first["source"]) in problems[0] or first["source"] in problems[0]


def test_a_missing_config_names_the_validate_form_too(tmp_path, validate):
    result = validate(str(tmp_path / "nope.yaml"))
    assert result.returncode == 4
    assert "editbench validate CONFIG" in result.stderr and "--eb-config=PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_config_without_run_keeps_its_run_folder_beside_it(tmp_path, validate):
    """run.dir left out: reports/ beside the config, not under the config's parent's parent."""
    folder = tmp_path / "project" / "configs"
    folder.mkdir(parents=True)
    config = folder / "my.yaml"
    config.write_text(
        f"suite:\n  path: {SAMPLE_SUITE}\neditor:\n  backend: identity\njudge:\n  backend: none\n",
        "utf-8",
    )
    result = validate(str(config))
    assert result.returncode == 0, result.stderr
    run_dir = next(line for line in result.stdout.splitlines() if line.startswith("run dir"))
    assert run_dir.split()[-1].startswith(str(folder / "reports") + os.sep)


def test_an_unreadable_image_is_named_by_its_file_never_by_a_buffer(tmp_path, validate):
    suite = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, suite)
    first = json.loads((suite / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    (suite / first["source"]).write_bytes(b"not an image at all")
    result = validate(str(write_config(tmp_path, suite={"path": str(suite)})), "--images")
    assert result.returncode == 1, result.stdout + result.stderr
    problem = next(line for line in result.stdout.splitlines() if "problem:" in line)
    assert str(suite / first["source"]) in problem and "not a readable image" in problem
    assert "BytesIO" not in result.stdout


def test_a_mistyped_command_gets_the_closest_one_and_version_answers(capsys):
    typo = command_in_process(capsys, "compar", "a", "b")
    assert (
        typo.returncode == 2 and "unknown command 'compar'; did you mean 'compare'?" in typo.stderr
    )
    from editbench import __version__

    version = command_in_process(capsys, "--version")
    assert version.returncode == 0 and version.stdout.startswith(f"editbench {__version__} (")
