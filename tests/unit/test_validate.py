"""`python -m editbench.commands.validate` is `editbench validate`: it reads its arguments."""

from __future__ import annotations

import subprocess
import sys

from support import REPO, write_config


def validate(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "editbench.commands.validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_module_takes_the_config_and_overrides(tmp_path):
    config = write_config(tmp_path)
    result = validate(str(config), "--set", "editor.steps=7")
    assert result.returncode == 0, result.stderr
    assert f"config   {config}" in result.stdout
    editor = next(line for line in result.stdout.splitlines() if line.startswith("editor"))
    assert editor.split() == ["editor", "identity", "steps=7"]


def test_module_reports_a_bad_config_in_one_line(tmp_path):
    result = validate(str(write_config(tmp_path)), "--set", "editor.stepz=2")
    assert result.returncode == 4  # a refused config: the status pytest exits with for it
    assert "did you mean editor.steps?" in result.stderr and "Traceback" not in result.stderr
