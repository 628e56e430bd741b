"""The shapes editbench writes, each written down once: a results.jsonl record and its versions.

A worker describes a finished case as flat, builtin-typed properties (`to_properties`: pytest's
`user_properties`, JUnit `<property>` elements); the controller reads them back into one record
(`from_properties`, then `reporting.records` adds what the controller knows) and appends it to
results.jsonl. Both sides use the names below, so a key exists in one place: `Record` says what
each key holds, `DimensionEntry` what a record holds for one judged dimension.

A bottom layer: no pytest, nothing of `editbench.judging` or `editbench.reporting`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

# A case's `eb.version` property: the shape of its properties and so of its record. (The record
# itself carries no version key: it is read from properties that declare theirs.)
RESULTS_VERSION = 1
# summary.json's `schema`. 2: an `interval` block (its `method` says which) replaced 1's `bootstrap`
SUMMARY_VERSION = 2

VERSION_PROPERTY = "eb.version"  # every case a worker ran carries it; a crashed one has none
WORKER_PROPERTY = "eb.worker"  # JSON text on a worker's first case: its editor, judge, versions
WORKER_KEY = "worker_info"  # where `from_properties` puts it, for the controller to lift out


class _Scored(TypedDict):
    score: float | None  # on the dimension's scale; None unless `status` is "ok"
    status: str  # a `vocabulary.Status` value: "ok" or the failure that left no score


class DimensionEntry(_Scored, total=False):
    """One judged dimension of one case (SC, PQ, O, criterion, a protocol's own, `X.sub`).

    A record holds it spread over one key per field (`scores`, `statuses`, then each extra, under
    the same name): `record["scores"]["SC"]`, `record["raw"]["SC"]`. An extra is there only when
    the judge gave it a value (not None, not "").
    """

    reasoning: str  # the judge's reason, or why no score was read
    raw: str  # the judge's answer as written (generate) or its digit probabilities (logit)
    cached: bool  # the score came from the score cache
    spread: float  # generate with several samples: their population standard deviation
    samples: int  # generate: how many sampled answers the score is the mean of
    mass: float  # logit: the probability the judge put on score tokens


# The per-dimension extras, in the order properties and records list them.
DIMENSION_EXTRAS = ("reasoning", "raw", "cached", "spread", "samples", "mass")

# Property prefix (`score.SC`) -> the record key that maps each dimension (or image kind) to it.
# `scores` and `statuses` are in every record, the others only where a property had a value.
PREFIXES = {
    "score": "scores",
    "status": "statuses",
    **{extra: extra for extra in DIMENSION_EXTRAS},
    "image": "images",
}
ALWAYS = ("scores", "statuses")


class _Every(TypedDict):
    """Keys every record has, a crashed or skipped case's too."""

    case_id: str  # the suite's case id (物理-001)
    test_id: str  # the pytest id: the case id, its category's name in front if it lacks one
    category: str  # the category's key (physical)
    category_name: str  # the category's display name (物理)
    nodeid: str  # the pytest node id of the case's test
    outcome: str  # pytest's outcome: passed, failed or skipped
    duration_s: float  # the test's duration, from its report
    worker: str | None  # the xdist worker that ran it (gw0), None without xdist
    instruction: dict[str, str]  # the case's instruction per language
    status: str  # a `vocabulary.Status` value: "ok" or the case's first failure
    reason: str  # why the case failed ("" when ok)
    scores: dict[str, float | None]  # dimension -> DimensionEntry score
    statuses: dict[str, str]  # dimension -> DimensionEntry status


class Record(_Every, total=False):
    """One line of results.jsonl: one finished case. Keys are written in declaration order,
    except that a worker's own keys (`seed` .. `output_stem`) come before `scores`."""

    seed: int  # the case's seed (editor and judge)
    edit_s: float  # the editor's seconds (0.0 when the edit came from the cache)
    judge_s: float  # the judge's seconds for this case, its start not included
    edit_cached: bool  # the edit came from the edit cache
    language: str  # the language of the instruction the case ran with
    judge_load_s: float  # the judge's start, on the case that started it only
    output_stem: str  # where the benchmark's official scorer looks for the edit (no extension)
    reasoning: dict[str, str]  # dimension -> DimensionEntry extra of the same name
    raw: dict[str, str]
    cached: dict[str, bool]
    spread: dict[str, float]
    samples: dict[str, int]
    mass: dict[str, float]
    images: dict[str, str]  # image kind (source, edited, ...) -> path inside the run folder
    worker_info: Any  # never written: the controller lifts it out into run.json
    facts: dict[str, Any]  # a benchmark protocol's run only: the case facts its headline rows read


def to_properties(
    case: Mapping[str, Any],
    dimensions: Mapping[str, Mapping[str, Any]],
    images: Mapping[str, str],
    output_stem: str = "",
    worker_info: str = "",
) -> list[tuple[str, Any]]:
    """A case's flat properties: the version, its own `Record` keys (`case`, in order), each
    dimension's entry, its images, then the output stem and the worker's description if any."""
    props: list[tuple[str, Any]] = [(VERSION_PROPERTY, RESULTS_VERSION), *case.items()]
    for name, result in dimensions.items():
        props.append((f"score.{name}", result.get("score")))
        props.append((f"status.{name}", result.get("status")))
        for extra in DIMENSION_EXTRAS:
            if result.get(extra) not in (None, ""):
                props.append((f"{extra}.{name}", result[extra]))
    props.extend((f"image.{kind}", path) for kind, path in images.items())
    if output_stem:
        props.append(("output_stem", output_stem))
    if worker_info:
        props.append((WORKER_PROPERTY, worker_info))
    return props


def from_properties(props: Mapping[str, Any]) -> dict[str, Any]:
    """The `Record` keys a case's properties hold: its own keys, then the per-dimension and image
    maps, then `worker_info` (the worker's description, read from its JSON)."""
    record = {k: v for k, v in props.items() if "." not in k}
    for prefix, key in PREFIXES.items():
        found = {k[len(prefix) + 1 :]: v for k, v in props.items() if k.startswith(prefix + ".")}
        if found or key in ALWAYS:
            record[key] = found
    if WORKER_PROPERTY in props:
        record[WORKER_KEY] = _worker_info(props[WORKER_PROPERTY])
    return record


def _worker_info(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return {"unreadable": str(text)[:500]}
