"""Shards: a balanced, deterministic 1/N of a suite's cases, chosen by the case ids.

`--eb-shard K/N` (K in 1..N) lets N machines each run one shard and `editbench merge` combine
their run folders. Within each category (taken in the order of the category keys) the cases are
ranked by a hash of their id and dealt out to shards 1..N in turn, continuing where the previous
category stopped. So shard sizes differ by at most one, overall and in every category (a `-k 物理`
selection is split evenly too); a case's shard depends only on the suite's case ids and N, never
on order or selection, so the controller and every xdist worker agree, the N shards partition
the suite, and a case never moves between shards while the suite and N stay the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Protocol

from editbench.errors import ConfigError


class _Category(Protocol):
    key: str


class ShardCase(Protocol):
    """What sharding reads of a case: its id and its category's key."""

    id: str
    category: _Category


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`"2/4"` -> (2, 4); None -> None; anything else is a ConfigError naming the fix."""
    if text is None or not str(text).strip():
        return None
    index, sep, count = str(text).strip().partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ConfigError(
            f"--eb-shard {text!r}: expected K/N with whole numbers, e.g. --eb-shard=1/4"
        )
    k, n = int(index), int(count)
    if n < 1 or not 1 <= k <= n:
        raise ConfigError(
            f"--eb-shard {text!r}: K must be between 1 and N (shards are numbered "
            f"1..N), e.g. --eb-shard=1/{max(n, 1)}"
        )
    return k, n


def rank(case_id: str) -> int:
    """A case's place in the deal: a hash of its id (never its position in the manifest)."""
    return int.from_bytes(hashlib.sha256(case_id.encode("utf-8")).digest()[:8], "big")


def assign_shards(cases: Iterable[ShardCase], count: int) -> dict[str, int]:
    """Case id -> its shard (1..count): dealt in turn, category by category, in hash order."""
    ordered = sorted(cases, key=lambda case: (case.category.key, rank(case.id), case.id))
    return {case.id: index % count + 1 for index, case in enumerate(ordered)}


def shard_cases(cases: Iterable[ShardCase], shard: tuple[int, int] | None) -> set[str]:
    """The ids of the cases in `shard` (every case when there is no shard)."""
    cases = list(cases)
    if shard is None:
        return {case.id for case in cases}
    k, count = shard
    return {case_id for case_id, s in assign_shards(cases, count).items() if s == k}
