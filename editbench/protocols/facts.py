"""The facts of a case a protocol reads: which asks apply to it, and which headline rows it joins.

Taken from the case on the worker (to choose the asks) and on the controller (into each record,
so the headline numbers, `merge` and `compare` need only results.jsonl and run.json, never the
suite). Only what `when` conditions and rows may name (model.FACTS) is kept, and a flag only
when it is set: a case without such facts gets none.
"""

from __future__ import annotations

from typing import Any

from editbench.suites.model import Case

_VALUES = ("language", "dimension", "meta_category", "subtask")  # kept as given
_FLAGS = ("intersection", "consistency_free", "reasoning_img")  # kept when truthy


def case_facts(case: Case) -> dict[str, Any]:
    extra = case.extra
    facts: dict[str, Any] = {k: extra[k] for k in _VALUES if extra.get(k) not in (None, "")}
    facts |= {k: True for k in _FLAGS if _truthy(extra.get(k))}
    if case.reference is not None:
        facts["reference_image"] = True
    if case.reference_text:
        facts["reference_text"] = True
    if extra.get("explanation"):
        facts["explanation"] = True
    return facts


def _truthy(value: Any) -> bool:
    """A flag as the benchmarks write it: true, 1, "1", "true"; NaN, 0, "" and None are unset."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    if isinstance(value, float) and value != value:  # NaN
        return False
    return bool(value)
