"""The content-addressed cache: keys change with any input, writes are atomic."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from test_faults import change_case, copy_suite, fault_env
from tiny_judge import judge_python

from conftest import REPO, read_results, run_bench, write_config
from editbench.cache import Cache, cache_key


def test_key_is_canonical_and_sensitive_to_every_part():
    parts = {"editor": {"model": "m", "call": {"steps": 2, "cfg": 4.0}}, "seed": 1, "source": "abc",
             "instruction": "make it red"}
    same = {"instruction": "make it red", "source": "abc", "seed": 1,
            "editor": {"call": {"cfg": 4.0, "steps": 2}, "model": "m"}}
    assert cache_key(parts) == cache_key(same)
    changed = [
        {**parts, "seed": 2}, {**parts, "source": "abd"}, {**parts, "instruction": "make it blue"},
        {**parts, "editor": {"model": "m", "call": {"steps": 3, "cfg": 4.0}}},
        {**parts, "editor": {"model": "m2", "call": {"steps": 2, "cfg": 4.0}}},
    ]
    keys = {cache_key(p) for p in changed}
    assert len(keys) == len(changed) and cache_key(parts) not in keys


def test_put_get_roundtrip(tmp_path):
    cache = Cache(tmp_path)
    key = cache_key({"a": 1})
    assert cache.get("edits", key) is None
    cache.put("edits", key, b"\x89PNG...")
    assert cache.get("edits", key) == b"\x89PNG..."
    cache.put_json("scores", key, {"score": 7.5, "text": "好"})
    assert cache.get_json("scores", key) == {"score": 7.5, "text": "好"}
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_disabled_cache_stores_nothing(tmp_path):
    cache = Cache(None)
    cache.put("edits", "k" * 64, b"x")
    assert cache.get("edits", "k" * 64) is None
    assert list(tmp_path.iterdir()) == []


def _writer(root: str, key: str, value: bytes) -> None:
    cache = Cache(Path(root))
    for _ in range(200):
        cache.put("edits", key, value)


@pytest.mark.timeout(120)
def test_concurrent_writers_never_leave_a_torn_entry(tmp_path):
    key = cache_key({"same": "key"})
    values = [bytes([i]) * 200_000 for i in (1, 2)]
    procs = [multiprocessing.get_context("spawn").Process(target=_writer, args=(str(tmp_path), key, v))
             for v in values]
    for proc in procs:
        proc.start()
    cache = Cache(tmp_path)
    while any(p.is_alive() for p in procs):
        data = cache.get("edits", key)
        if data is not None:
            assert data in values
    for proc in procs:
        proc.join(timeout=60)
    assert cache.get("edits", key) in values
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def start_bench(config: Path, run_dir: Path, env: dict, *args: str) -> subprocess.Popen:
    """The real benchmark in a background pytest process (one shard's run), output to a log."""
    command = [sys.executable, "-m", "pytest", str(REPO / "benchmarks"), "-p", "no:cacheprovider",
               "-p", "eb_faults", f"--eb-config={config}", f"--eb-run-dir={run_dir}", *args]
    log = open(run_dir.with_suffix(".log"), "w", encoding="utf-8")
    with log:
        return subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "HF_HUB_OFFLINE": "1", **env})


def wait_until(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@pytest.mark.timeout(300)
def test_two_shards_on_one_node_write_the_same_keys_into_one_cache_at_once(tmp_path):
    """Both runs are held inside the same edit, then released together onto the same keys."""
    suite = copy_suite(tmp_path)
    change_case(suite, "物理-001", tag="[edit:wait]")
    config = write_config(tmp_path, suite={"path": str(suite)}, editor={"backend": "fault"},
                          judge={"backend": "constant", "python": judge_python(),
                                 "scores": {"SC": 7, "PQ": 8, "criterion": 6}})
    env = fault_env(tmp_path)
    faults = Path(env["EB_FAULT_DIR"])
    runs = [start_bench(config, tmp_path / f"shard{i}", env, "-p", "no:xdist", "-k", "物理")
            for i in (1, 2)]
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
    rerun = run_bench(config, "-p", "eb_faults", "-p", "no:xdist", "-k", "物理",
                      run_dir=tmp_path / "rerun", env=env)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert len((faults / "edits.log").read_text().splitlines()) == edited  # all from the cache
    assert all(r["edit_cached"] for r in read_results(tmp_path / "rerun"))
