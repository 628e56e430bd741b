"""Compared runs for compare's tests, with real PNGs: two runs of ten cases of the sample
categories (`two_runs`: one newly failing and one newly passing case, causal cases 4 points
lower in SC in B, one unchanged case; `flagged_runs`: a regression compare flags, a suite string that must be
escaped), and RISE records whose cases have only the dimensions the protocol asks of them.
"""

from __future__ import annotations

import copy

from support import record, write_run

EVIL = '<script>alert("x")</script>'


def two_runs() -> tuple[list[dict], list[dict]]:
    """Run A and B of the same ten cases: one newly failing, one newly passing, causal 4 points
    lower in SC in B (too few pairs to flag), one unchanged case."""
    a = [
        record("物理-001", "physical", 6, 8),
        record("物理-002", "physical", 7, 9),
        record("物理-003", "physical", 5, 7),
        record("社会-001", "social", 2, 4, instruction=EVIL),
        record("社会-002", "social", None, 5, "unparseable", "SC: no score"),
        *(record(f"因果-00{i}", "causal", 8 + i % 2, 8) for i in range(1, 6)),
    ]
    b = copy.deepcopy(a)
    b[1] = record("物理-002", "physical", 4, 9)
    b[2] = record("物理-003", "physical", None, None, "edit-error", "RuntimeError: <b>boom</b>")
    b[3] = record("社会-001", "social", 3, 4, instruction=EVIL)
    b[4] = record("社会-002", "social", 5, 5)
    b[5:] = [record(f"因果-00{i}", "causal", 4 + i % 2, 8) for i in range(1, 6)]
    return a, b


def flagged_runs() -> tuple[list[dict], list[dict]]:
    """Twelve causal cases whose SC falls from 10 to 0 in B (enough pairs for the betting interval
    to flag a regression; five never are) beside three unchanged physical cases."""
    a = [record(f"物理-00{i}", "physical", 7, 8) for i in range(1, 4)]
    a += [record(f"因果-{i:03d}", "causal", 10, 8) for i in range(1, 13)]
    b = copy.deepcopy(a)
    b[3:] = [record(f"因果-{i:03d}", "causal", 0, 8) for i in range(1, 13)]
    return a, b


def meta(run_id: str, **judge) -> dict:
    return {
        "run_id": run_id,
        "suite": {
            "name": "synthetic",
            "version": "1",
            "categories": [["physical", "物理"], ["social", "社会"], ["causal", "因果"]],
        },
        "config": {
            "suite": {},
            "editor": {"backend": "identity"},
            "judge": {"backend": "constant", "max_pixels": 65536, **judge},
        },
    }


def write_pair(tmp_path, a, b, meta_b=None):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_run(tmp_path / "a", a, meta("a"))
    write_run(tmp_path / "b", b, meta_b or meta("b"))


def rise_record(case_id: str, category: str, facts: dict, status: str = "ok") -> dict:
    """A RISE case scored 5 (complete: 1) on every dimension the protocol asks of it (none when it failed)."""
    from editbench.protocols.loader import BUILTIN_DIR, read_protocol

    rise = read_protocol(BUILTIN_DIR / "rise.yaml", "builtin:rise")
    dims = [d for d in rise.dimensions if rise.applicable(d, category, facts)]
    ok = status == "ok"
    return {
        "case_id": case_id,
        "test_id": case_id,
        "category": category,
        "category_name": category,
        "status": status,
        "reason": "" if ok else "RuntimeError: boom",
        "instruction": {"en": "do it"},
        "scores": {d: 1.0 if d == "complete" else 5.0 for d in dims} if ok else {},
        "statuses": {d: "ok" for d in dims} if ok else {},
        "facts": facts,
        "images": {},
    }


def rise_meta(run_id: str) -> dict:
    from editbench import protocols
    from editbench.protocols.loader import BUILTIN_DIR, read_protocol

    categories = [["causal_reasoning", "causal_reasoning"], ["logical_reasoning", "logical"]]
    return {
        "run_id": run_id,
        "suite": {"name": "RISEBench", "version": "1", "categories": categories},
        "config": {"suite": {}, "editor": {"backend": "replay"}, "judge": {"protocol": "rise"}},
        "protocol": protocols.describe(read_protocol(BUILTIN_DIR / "rise.yaml", "builtin:rise")),
    }
