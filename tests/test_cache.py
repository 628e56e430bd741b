"""The content-addressed cache: keys change with any input, writes are atomic."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from editbench.cache import Cache, cache_key


def test_key_is_canonical_and_sensitive_to_every_part():
    parts = {
        "editor": {"model": "m", "call": {"steps": 2, "cfg": 4.0}},
        "seed": 1,
        "source": "abc",
        "instruction": "make it red",
    }
    same = {
        "instruction": "make it red",
        "source": "abc",
        "seed": 1,
        "editor": {"call": {"cfg": 4.0, "steps": 2}, "model": "m"},
    }
    assert cache_key(parts) == cache_key(same)
    changed = [
        {**parts, "seed": 2},
        {**parts, "source": "abd"},
        {**parts, "instruction": "make it blue"},
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
    procs = [
        multiprocessing.get_context("spawn").Process(target=_writer, args=(str(tmp_path), key, v))
        for v in values
    ]
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
