"""Shards: parsing --eb-shard and the partition of a suite by a hash of the case id."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from editbench.cases import load_suite
from editbench.errors import ConfigError
from editbench.shard import in_shard, parse_shard, shard_of
from support import REPO, SAMPLE_SUITE


@pytest.mark.parametrize(
    "text, expected", [("1/2", (1, 2)), (" 3/3 ", (3, 3)), (None, None), ("", None)]
)
def test_parse(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "2", "1/2/3", "-1/2"])
def test_parse_rejects_with_the_fix(text):
    with pytest.raises(ConfigError, match=r"--eb-shard .*K/N|between 1 and N"):
        parse_shard(text)


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_partition_the_sample_suite(count):
    ids = [case.id for case in load_suite(SAMPLE_SUITE).cases]
    shards = [{i for i in ids if in_shard(i, (k, count))} for k in range(1, count + 1)]
    assert set().union(*shards) == set(ids)
    assert sum(len(s) for s in shards) == len(ids)


def test_every_process_puts_a_case_in_the_same_shard():
    """The controller and each xdist worker compute shards apart: with another hash seed too."""
    ids = [case.id for case in load_suite(SAMPLE_SUITE).cases] + [
        f"case-{i:04d}" for i in range(200)
    ]
    here = [shard_of(i, 4) for i in ids]
    code = (
        "import json, sys; from editbench.shard import shard_of; "
        "print(json.dumps([shard_of(i, 4) for i in json.load(sys.stdin)]))"
    )
    for seed in ("1", "4242"):
        other = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(ids),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
        )
        assert json.loads(other.stdout) == here


def test_large_suites_are_balanced():
    ids = [f"case-{i:04d}" for i in range(2000)]
    sizes = [sum(shard_of(i, 4) == k for i in ids) for k in range(1, 5)]
    assert min(sizes) > 400 and max(sizes) < 600
    assert in_shard("anything", None)
