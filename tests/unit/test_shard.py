"""Shards: parsing --eb-shard, and balanced, stable shards of a suite chosen by case id."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from types import SimpleNamespace

import pytest

from editbench.cases import load_suite
from editbench.errors import ConfigError
from editbench.shard import assign_shards, parse_shard, shard_cases
from support import REPO, SAMPLE_SUITE

SUITE = load_suite(SAMPLE_SUITE)


def fake_cases(per_category: dict[str, int]) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(id=f"{key}-{i:04d}", category=SimpleNamespace(key=key))
        for key, count in per_category.items()
        for i in range(count)
    ]


@pytest.mark.parametrize(
    "text, expected", [("1/2", (1, 2)), (" 3/3 ", (3, 3)), (None, None), ("", None)]
)
def test_parse(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "2", "1/2/3", "-1/2"])
def test_parse_rejects_with_the_fix(text):
    with pytest.raises(ConfigError, match=r"--eb-shard .*K/N|between 1 and N"):
        parse_shard(text)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7])
def test_shards_partition_the_sample_suite_with_sizes_within_one(count):
    ids = [case.id for case in SUITE.cases]
    shards = [shard_cases(SUITE.cases, (k, count)) for k in range(1, count + 1)]
    assert set().union(*shards) == set(ids) and sum(len(s) for s in shards) == len(ids)
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1, sizes


def test_four_shards_of_the_25_sample_cases_are_7_6_6_6_not_lumpy():
    """The README's example: a hash modulo N gave 6, 11, 2 and 6 cases."""
    sizes = sorted(Counter(assign_shards(SUITE.cases, 4).values()).values())
    assert sizes == [6, 6, 6, 7]


@pytest.mark.parametrize("count", [2, 3, 4, 8])
def test_every_category_is_split_within_one_too(count):
    cases = fake_cases({"physical": 13, "social": 7, "causal": 2, "referential": 30})
    shards = assign_shards(cases, count)
    for key in ("physical", "social", "causal", "referential"):
        sizes = Counter(shards[c.id] for c in cases if c.category.key == key)
        counts = [sizes.get(k, 0) for k in range(1, count + 1)]
        assert max(counts) - min(counts) <= 1, (key, counts)
    totals = [list(shards.values()).count(k) for k in range(1, count + 1)]
    assert max(totals) - min(totals) <= 1


def test_a_case_keeps_its_shard_whatever_the_order_and_selection():
    cases = fake_cases({"physical": 40, "social": 25})
    first = assign_shards(cases, 4)
    shuffled = list(cases)
    random.Random(7).shuffle(shuffled)
    assert assign_shards(shuffled, 4) == first
    # the suite decides, not the selection: shard 2 of the suite is the same set each time
    assert shard_cases(shuffled, (2, 4)) == {i for i, k in first.items() if k == 2}
    assert shard_cases(cases, None) == {c.id for c in cases}


def test_every_process_puts_a_case_in_the_same_shard():
    """The controller and each xdist worker compute shards apart: with another hash seed too."""
    here = assign_shards(SUITE.cases, 4)
    code = (
        "import json, sys; from pathlib import Path; from editbench.cases import load_suite; "
        "from editbench.shard import assign_shards; "
        "print(json.dumps(assign_shards(load_suite(Path(sys.argv[1])).cases, 4)))"
    )
    for seed in ("1", "4242"):
        other = subprocess.run(
            [sys.executable, "-c", code, str(SAMPLE_SUITE)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
        )
        assert json.loads(other.stdout) == here
