"""Fixtures of the harness's own tests: the judge interpreter, the tiny judge, fault runs.

Tiers: `unit/` (plain functions), `plugin/` (the benchmark run by pytest in subprocesses, with the
identity editor and the constant or faulty judge), `e2e/` (the real tiny models end to end).
Helpers every tier imports are in support.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import FAULTS, SAMPLE_SUITE, find_judge_python, read_results, run_bench, write_config

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
TIERS = ("unit", "plugin", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked with its tier (its folder), so `-m plugin` runs one tier."""
    for item in items:
        tier = next((part for part in item.path.parts if part in TIERS), None)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def judge_python() -> str:
    """The judge environment's python; without one, the tests that need it skip and say why."""
    python = find_judge_python()
    if python is None:
        pytest.skip(
            "no judge interpreter: create it with `tox -e judge` or set EDITBENCH_JUDGE_PYTHON"
        )
    return python


@pytest.fixture(scope="session")
def tiny_judge() -> Path:
    """The tiny random Qwen3-VL judge checkpoint, built once (editbench.tiny's cache)."""
    from editbench.tiny import ensure_tiny

    return Path(ensure_tiny("qwen3-vl"))


# -- fault runs: the sample suite copied, one case's fault chosen by a tag in its instruction ----


@dataclass
class FaultRun:
    """A copy of the sample suite plus the fault plugins (tests/faults) for one benchmark run."""

    tmp_path: Path
    judge_python: str

    def __post_init__(self) -> None:
        self.suite = self.tmp_path / "suite"
        shutil.copytree(SAMPLE_SUITE, self.suite)
        self.fault_dir = self.tmp_path / "faults"
        self.fault_dir.mkdir()

    @property
    def judge(self) -> dict:
        """The faulty judge backend, loaded by path in the real judge interpreter."""
        return {"backend": f"{FAULTS / 'judge_faults.py'}:FaultyJudge", "python": self.judge_python}

    def change(self, case_id: str, **changes) -> None:
        """Rewrite one line of cases.jsonl; `tag=` appends a fault tag to the instruction."""
        path = self.suite / "cases.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            item = json.loads(line)
            if item["id"] == case_id:
                tag = changes.pop("tag", None)
                if tag:
                    item["instruction"] = {k: f"{v} {tag}" for k, v in item["instruction"].items()}
                item.update(changes)
                lines[index] = json.dumps(item, ensure_ascii=False)
                break
        else:
            raise KeyError(case_id)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def image(self, case_id: str) -> Path:
        for line in (self.suite / "cases.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["id"] == case_id:
                return self.suite / item["source"]
        raise KeyError(case_id)

    def config(self, judge: dict | None = None, **sections) -> Path:
        """A run config over the copied suite with the `fault` editor and (by default) the faulty judge."""
        sections = {"suite": {"path": str(self.suite)}, "editor": {"backend": "fault"}, **sections}
        return write_config(self.tmp_path, judge=self.judge if judge is None else judge, **sections)

    def env(self, **extra: str) -> dict:
        path = os.pathsep.join(p for p in (str(FAULTS), os.environ.get("PYTHONPATH")) if p)
        return {"PYTHONPATH": path, "EB_FAULT_DIR": str(self.fault_dir), **extra}

    def run(
        self, config: Path, *args: str, name: str = "run", timeout: float = 240, **env: str
    ) -> tuple[subprocess.CompletedProcess, Path]:
        """Run the benchmark with the fault plugins; returns the process and its run folder."""
        run_dir = self.tmp_path / name
        result = run_bench(
            config, "-p", "eb_faults", *args, run_dir=run_dir, timeout=timeout, env=self.env(**env)
        )
        return result, run_dir

    def records(self, run_dir: Path) -> dict[str, dict]:
        """The run's records by case id; a case recorded twice is a failure of its own."""
        records = read_results(run_dir)
        ids = [r["case_id"] for r in records]
        assert len(ids) == len(set(ids)), f"a case was recorded twice: {ids}"
        return {r["case_id"]: r for r in records}


@pytest.fixture
def fault_run(tmp_path: Path, judge_python: str) -> FaultRun:
    return FaultRun(tmp_path, judge_python)
