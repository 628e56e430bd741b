"""scripts/gpu_check.sh says which python it used and what it lacks, before anything else.

Run with interpreters that cannot pass: a bare virtualenv (no torch) and, on a machine without a
GPU, this test environment's own python (CPU torch). The GPU run itself is the lent machine's job.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from support import REPO

SCRIPT = REPO / "scripts" / "gpu_check.sh"


def gpu_check(python: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHON": python, "HOME": str(REPO)},
    )


@pytest.mark.timeout(120)
def test_a_python_without_torch_is_named_with_what_it_lacks(tmp_path):
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    result = gpu_check(python)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"gpu_check: python {python} (")
    assert "cannot import torch, diffusers, transformers, pytest, xdist" in lines[1]
    assert "PYTHON=.tox/bench/bin/python" in lines[1]
    assert "Traceback" not in result.stdout + result.stderr
    assert "ModuleNotFoundError" not in result.stdout + result.stderr


@pytest.mark.timeout(120)
def test_cpu_torch_is_named_with_its_version(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: the check would go on to run the edits")
    result = gpu_check(sys.executable)
    assert result.returncode == 1
    assert f"gpu_check: python {sys.executable}" in result.stdout
    assert f"torch {torch.__version__} (CUDA build: None) sees no CUDA device" in result.stdout
