"""The rootdir trap: an option's value after a space that names an existing folder outside the
checkout makes pytest lose pytest.ini; the benchmark then must stop with one line, never run
something else (the harness's own tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO

pytestmark = pytest.mark.timeout(300)


def pytest_from(folder: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`pytest ARGS` typed in `folder`, as a user would (no -c, no --rootdir)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_dir_after_a_space_stops_with_the_cause_and_the_fix(tmp_path):
    existing = tmp_path / "existing-run"
    existing.mkdir()
    result = pytest_from(REPO, "-n", "2", "--eb-run-dir", str(existing), "-k", "物理")
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr
    assert f"did not read {REPO / 'pytest.ini'}" in errors[0]
    assert f"--eb-run-dir={existing}" in errors[0] and "-c pytest.ini" in errors[0]
    assert "tests/" not in result.stdout and "passed" not in result.stdout
    assert list(existing.iterdir()) == []  # nothing was run into it


def test_run_dir_with_equals_runs_the_benchmark(tmp_path):
    existing = tmp_path / "existing-run"
    existing.mkdir()
    result = pytest_from(REPO, f"--eb-run-dir={existing}", "-k", "物理", "--collect-only", "-q")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    ids = [line for line in result.stdout.splitlines() if "::test_edit[" in line]
    assert len(ids) == 5 and all(line.startswith("benchmarks/") for line in ids)


def test_editbench_options_without_a_run_config_stop(tmp_path):
    """The same trap from benchmarks/ (no pytest.ini there): no run config resolves, and a --eb-*
    option without one is refused rather than ignored."""
    existing = tmp_path / "existing-run"
    existing.mkdir()
    result = pytest_from(REPO / "benchmarks", "--eb-run-dir", str(existing))
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert "--eb-run-dir given, but pytest found no run config" in result.stderr
    assert "--eb-config=PATH" in result.stderr


def test_the_harness_tests_are_never_collected_from_the_checkout_root(tmp_path):
    """Even without the plugin's check, the checkout's conftest keeps tests/ out of a run that
    did not start from tests/pytest.ini."""
    ini = tmp_path / "elsewhere.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    result = pytest_from(REPO, "-p", "no:editbench.plugin", "-c", str(ini), "--collect-only", "-q")
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert collected and all(line.startswith("benchmarks/") for line in collected), result.stdout
