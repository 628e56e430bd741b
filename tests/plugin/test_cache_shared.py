"""Two shards on one node share one cache folder: concurrent runs write the same keys, nothing tears."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from support import FAULTS, REPO, constant_judge, read_results, run_in_process


def start_bench(config: Path, run_dir: Path, env: dict, *args: str) -> subprocess.Popen:
    """The real benchmark in a background pytest process (one shard's run), output to a log."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-p",
        "no:cacheprovider",
        "-p",
        "eb_faults",
        f"--eb-config={config}",
        f"--eb-run-dir={run_dir}",
        *args,
    ]
    log = open(run_dir.with_suffix(".log"), "w", encoding="utf-8")
    with log:
        return subprocess.Popen(
            command,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        )


def wait_until(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@pytest.mark.timeout(300)
def test_two_shards_on_one_node_write_the_same_keys_into_one_cache_at_once(
    fault_run, judge_python, monkeypatch
):
    """Both runs are held inside the same edit, then released together onto the same keys."""
    tmp_path = fault_run.tmp_path
    fault_run.change("物理-001", tag="[edit:wait]")
    config = fault_run.config(judge=constant_judge(judge_python))
    env = fault_run.env()
    faults = Path(env["EB_FAULT_DIR"])
    runs = [
        start_bench(config, tmp_path / f"shard{i}", env, "-p", "no:xdist", "-k", "物理")
        for i in (1, 2)
    ]
    wait_until(lambda: len(list(faults.glob("waiting.物理-001.*"))) == 2, "both runs in one edit")
    (faults / "release").touch()
    assert [run.wait(timeout=240) for run in runs] == [0, 0], (tmp_path / "shard1.log").read_text()
    cache = tmp_path / "cache"
    assert not list(cache.rglob(".tmp-*"))
    edits = [p for p in (cache / "edits").rglob("*") if p.is_file()]
    scores = [p for p in (cache / "scores").rglob("*") if p.is_file()]
    assert len(edits) == 5 and len(scores) == 15  # one entry per key, though both runs wrote each
    for path in edits:
        assert Image.open(io.BytesIO(path.read_bytes())).size  # a whole PNG
    assert {json.loads(p.read_bytes())["score"] for p in scores} == {6.0, 7.0, 8.0}
    edited = len((faults / "edits.log").read_text().splitlines())
    import_fault_editor(monkeypatch)  # the rerun in this process: only the cache is in question
    rerun = run_in_process(
        config,
        run_dir=tmp_path / "rerun",
        select=lambda c: c.category.key == "physical",
        env=env,
    )
    assert rerun.returncode == 0
    assert len((faults / "edits.log").read_text().splitlines()) == edited  # all from the cache
    assert all(r["edit_cached"] for r in read_results(tmp_path / "rerun"))


def import_fault_editor(monkeypatch) -> None:
    """Register the `fault` editor in this process, as `-p eb_faults` does in a benchmark run."""
    monkeypatch.syspath_prepend(str(FAULTS))
    import eb_faults  # noqa: F401 - registers the backend
