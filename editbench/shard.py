"""Shards: a deterministic 1/N of a suite's cases, chosen by a hash of the case id.

`--eb-shard K/N` (K in 1..N) lets N machines each run one shard and `editbench merge` combine
their run folders. The hash depends on the case id only, never on order or selection, so the
controller and every xdist worker agree, and the N shards partition the suite.
"""

from __future__ import annotations

import hashlib

from editbench.errors import ConfigError


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`"2/4"` -> (2, 4); None -> None; anything else is a ConfigError naming the fix."""
    if text is None or not str(text).strip():
        return None
    index, sep, count = str(text).strip().partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ConfigError(
            f"--eb-shard {text!r}: expected K/N with whole numbers, e.g. --eb-shard 1/4"
        )
    k, n = int(index), int(count)
    if n < 1 or not 1 <= k <= n:
        raise ConfigError(
            f"--eb-shard {text!r}: K must be between 1 and N (shards are numbered "
            f"1..N), e.g. --eb-shard 1/{max(n, 1)}"
        )
    return k, n


def shard_of(case_id: str, count: int) -> int:
    """The shard (1..count) a case belongs to."""
    digest = hashlib.sha256(case_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(case_id: str, shard: tuple[int, int] | None) -> bool:
    return shard is None or shard_of(case_id, shard[1]) == shard[0]
