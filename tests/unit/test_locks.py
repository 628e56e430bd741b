"""The locks are the contract: each matches its requirement files, and each tox environment
matches its lock (scripts/lock_envs.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO

spec = importlib.util.spec_from_file_location("lock_envs", REPO / "scripts" / "lock_envs.py")
lock_envs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock_envs)

REQUIRED = os.environ.get("EDITBENCH_REQUIRE_LOCKED") == "1"  # set by tox's tests environment


def copy_inputs(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "envs", tmp_path / "envs")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_committed_lock_matches_its_requirement_files():
    assert lock_envs.stale("cpu") == []


def test_a_requirement_edited_without_relocking_fails_the_check(tmp_path):
    root = copy_inputs(tmp_path)
    with open(root / "envs" / "judge.txt", "a", encoding="utf-8") as handle:
        handle.write("qwen-vl-utils\n")
    problems = lock_envs.stale("cpu", root)
    assert len(problems) == 1
    assert problems[0].startswith("envs/lock/cpu/judge.txt: its inputs changed")
    assert "python -m tox -e lock" in problems[0]


def test_a_project_dependency_or_constraint_change_makes_the_locks_that_read_it_stale(tmp_path):
    root = copy_inputs(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('"numpy>=1.24",', '"numpy>=2",'),
        encoding="utf-8",
    )
    stale = {line.split(":")[0] for line in lock_envs.stale("cpu", root)}
    assert stale == {"envs/lock/cpu/tests.txt", "envs/lock/cpu/editor-legacy.txt"}
    (root / "envs" / "constraints-cpu.txt").write_text("torch==2.14.1\n", encoding="utf-8")
    assert len(lock_envs.stale("cpu", root)) == 3


def test_the_check_command_exits_1_on_a_stale_lock(tmp_path):
    root = copy_inputs(tmp_path)
    (root / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "lock_envs.py", root / "scripts" / "lock_envs.py")
    check = [sys.executable, str(root / "scripts" / "lock_envs.py"), "--check"]
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0
    (root / "envs" / "editor.txt").write_text("diffusers>=0.41\n", encoding="utf-8")
    out = subprocess.run(check, capture_output=True, text=True)
    assert out.returncode == 1
    assert "envs/lock/cpu/tests.txt" in out.stdout


def interpreters() -> dict[str, str]:
    found = {"tests": sys.executable}
    for name, variable in (
        ("judge", "EDITBENCH_JUDGE_PYTHON"),
        ("legacy", "EDITBENCH_LEGACY_PYTHON"),
    ):
        if os.environ.get(variable):
            found[name] = os.environ[variable]
    return found


INSTALLED = (
    "import importlib.metadata as m, json, sys; print(json.dumps({'prefix': sys.prefix, "
    "'installed': {d.metadata['Name']: d.version for d in m.distributions()}}))"
)


@pytest.mark.parametrize("side", ["tests", "judge", "legacy"])
def test_each_tox_environment_equals_the_lock_it_was_installed_from(side):
    python = interpreters().get(side)
    if python is None or not Path(python).exists():
        if REQUIRED:
            pytest.fail(f"the {side} interpreter is missing ({python}); tox builds it")
        pytest.skip(f"no {side} interpreter outside tox")
    probe = subprocess.run([python, "-c", INSTALLED], capture_output=True, text=True, check=True)
    found = json.loads(probe.stdout)
    stamp_path = Path(found["prefix"]) / lock_envs.STAMP_NAME
    if not stamp_path.is_file():
        if REQUIRED:
            pytest.fail(f"{stamp_path}: no lock stamp; tox writes it after installing the lock")
        pytest.skip(f"{found['prefix']} was not installed from a lock (no stamp)")
    stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
    lock = REPO / stamp["lock"]
    assert lock.is_file(), stamp
    assert stamp["sha256"] == lock_envs.hashlib.sha256(lock.read_bytes()).hexdigest(), (
        f"{found['prefix']} was installed from an older {stamp['lock']}; tox reinstalls it"
    )
    installed = {lock_envs.normalise(k): v for k, v in found["installed"].items()}
    pinned = lock_envs.pins(lock)
    assert len(pinned) > 20
    different = {k: (v, installed.get(k)) for k, v in pinned.items() if installed.get(k) != v}
    assert different == {}
