"""Shared helpers for the harness's tests: paths, configs in tmp_path, benchmark runs in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SUITE = REPO / "fixtures" / "sample_suite"
SAMPLE_B64 = REPO / "fixtures" / "sample_b64.json"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def write_config(folder: Path, **sections) -> Path:
    """A run config in `folder`: the sample suite, run folder and cache inside `folder`, plus overrides."""
    data = {
        "suite": {"path": str(SAMPLE_SUITE)},
        "run": {"dir": str(folder / "reports"), "cache_dir": str(folder / "cache")},
        "editor": {"backend": "identity"},
        "judge": {"backend": "none"},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def run_bench(
    config: Path,
    *args: str,
    run_dir: Path | None = None,
    timeout: float = 600,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run the real benchmark (benchmarks/test_edit.py) in a fresh pytest process."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-p",
        "no:cacheprovider",
        "--eb-config",
        str(config),
        *args,
    ]
    if run_dir is not None:
        command += ["--eb-run-dir", str(run_dir)]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=full_env
    )


def read_results(run_dir: Path) -> list[dict]:
    path = run_dir / "results.jsonl"
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture
def repo() -> Path:
    return REPO
