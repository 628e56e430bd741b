"""Isolation is real: the editor side on transformers 4.57.x, the judge on 5.x, in two virtualenvs.

The benchmark runs under the legacy editor virtualenv (transformers 4.57.6 with the diffusers
release pip picks for it), the judge in the judge virtualenv; run.json must show each side's own
versions. The legacy virtualenv is created when missing ($EDITBENCH_LEGACY_VENV, else
<repo>/.tox/editor-legacy; about two minutes from the package index).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO, read_results, write_config

LEGACY = [
    "transformers==4.57.6",
    "diffusers",
    "pillow",
    "pyyaml",
    "numpy",
    "execnet",
    "pytest",
    "pytest-xdist",
    "pytest-timeout",
]


def legacy_python() -> Path:
    venv = Path(os.environ.get("EDITBENCH_LEGACY_VENV") or REPO / ".tox" / "editor-legacy")
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "torch==2.13.0"], check=True, timeout=1200)
        subprocess.run([*pip, *LEGACY], check=True, timeout=1200)
        subprocess.run([*pip, "-e", str(REPO), "--no-deps"], check=True, timeout=600)
    return python


def version_of(python: Path | str, package: str) -> str:
    return subprocess.run(
        [str(python), "-c", f"import {package}; print({package}.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_editor_and_judge_run_on_different_transformers_majors(tmp_path, judge_python, tiny_judge):
    python = legacy_python()
    assert version_of(python, "transformers").startswith("4.57.")
    assert version_of(judge_python, "transformers").startswith("5.")
    config = write_config(
        tmp_path,
        judge={
            "backend": "qwen-vl",
            "model": str(tiny_judge),
            "python": judge_python,
            "max_pixels": 65536,
            "min_digit_mass": 0,  # random weights: little probability on score tokens
        },
    )
    run_dir = tmp_path / "run"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }  # this checkout's editbench
    result = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            str(REPO / "benchmarks"),
            "-p",
            "no:cacheprovider",
            "--eb-config",
            str(config),
            "--eb-run-dir",
            str(run_dir),
            "-k",
            "物理-001 or 物理-002",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    records = read_results(run_dir)
    assert len(records) == 2
    for record in records:
        assert all(record["statuses"][d] == "ok" for d in ("SC", "PQ", "criterion")), record
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    worker, judge = meta["versions"]["worker"], meta["versions"]["judge"]
    assert str(worker["transformers"]).startswith("4.57."), worker
    assert str(judge["transformers"]).startswith("5."), judge
    assert judge["executable"] == judge_python
