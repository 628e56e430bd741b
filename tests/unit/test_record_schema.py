"""A results.jsonl record has one written shape (editbench.schema): the runner's properties read
back into exactly its keys, every key the runner writes is declared there, and a record that the
real runner and controller write matches the declared types."""

from __future__ import annotations

import dataclasses
import json
import types
import typing

import pytest
from test_case_runner import ScriptedJudge, failed, ok, runner
from test_controller import controller, lines_of

from editbench.editors.identity import IdentityEditor
from editbench.reporting.records import PROPERTIES_ATTRIBUTE, record_from_report
from editbench.runner import CaseOutcome
from editbench.schema import (
    DIMENSION_EXTRAS,
    PREFIXES,
    RESULTS_VERSION,
    VERSION_PROPERTY,
    WORKER_KEY,
    WORKER_PROPERTY,
    DimensionEntry,
    Record,
)
from editbench.suites import load_suite
from support import SAMPLE_SUITE

RECORD = typing.get_type_hints(Record)
CONTROLLER_ONLY = {"facts"}  # added by the controller, for a benchmark protocol's run only


@pytest.fixture(scope="module")
def case():
    return dataclasses.replace(load_suite(SAMPLE_SUITE).cases[0], output_stem="fullset/x/en/1")


@pytest.fixture
def full(case) -> CaseOutcome:
    """An outcome with every field set, every dimension extra and both images."""
    outcome = CaseOutcome(
        case=case,
        status="unparseable",
        reason="PQ: no score",
        seed=7,
        dimensions={
            "SC": ok(9.0) | {"spread": 0.5, "samples": 3, "mass": 0.97, "cached": True},
            "PQ": failed("unparseable"),
            "O": {"score": None, "status": "missing-input"},
        },
        edit_s=0.25,
        judge_s=1.5,
        judge_load_s=2.0,
        edit_cached=True,
        images={"source": "images/a.source.png", "edited": "images/a.edited.png"},
        language="zh",
        worker_info=json.dumps({"editor": {"backend": "identity"}}),
    )
    unset = [
        f.name for f in dataclasses.fields(CaseOutcome) if getattr(outcome, f.name) == default(f)
    ]
    assert not unset, f"set these fields here too, so that their properties are checked: {unset}"
    return outcome


def default(field: dataclasses.Field):
    factory = field.default_factory
    return field.default if factory is dataclasses.MISSING else factory()


def report(case, props, outcome: str = "passed") -> pytest.TestReport:
    """A call report as the plugin makes it: the properties ride on its `eb_properties`."""
    made = pytest.TestReport(
        f"benchmarks/test_edit.py::test_edit[{case.test_id}]",
        ("benchmarks/test_edit.py", 0, "test_edit"),
        {},
        outcome,
        None,
        "call",
        duration=0.5,
    )
    setattr(made, PROPERTIES_ATTRIBUTE, props)
    return made


def test_properties_read_back_into_exactly_the_records_keys_in_the_order_results_jsonl_has(
    full, case
):
    record = record_from_report(report(case, full.properties()), case)
    assert set(record) == set(RECORD) - CONTROLLER_ONLY
    assert list(record) == [
        "case_id", "test_id", "category", "category_name", "nodeid", "outcome", "duration_s",
        "worker", "instruction", "status", "reason", "seed", "edit_s", "judge_s", "edit_cached",
        "language", "judge_load_s", "output_stem", "scores", "statuses", "reasoning", "raw",
        "cached", "spread", "samples", "mass", "images", WORKER_KEY,
    ]  # fmt: skip
    assert record[WORKER_KEY] == {"editor": {"backend": "identity"}}
    assert record["output_stem"] == "fullset/x/en/1" and record["judge_load_s"] == 2.0


def test_each_dimension_reads_back_as_its_score_status_and_the_extras_that_have_a_value(full, case):
    record = record_from_report(report(case, full.properties()), case)
    entries = {
        dim: {
            "score": record["scores"][dim],
            "status": record["statuses"][dim],
            **{key: record[key][dim] for key in DIMENSION_EXTRAS if dim in record.get(key, {})},
        }
        for dim in record["scores"]
    }
    assert entries == {
        dim: {
            key: value
            for key, value in result.items()
            if key in ("score", "status") or key in DIMENSION_EXTRAS and value not in (None, "")
        }
        for dim, result in full.dimensions.items()
    }
    assert entries["SC"].keys() == {"score", "status", "raw", "cached", "spread", "samples", "mass"}
    assert set(DIMENSION_EXTRAS) == DimensionEntry.__optional_keys__
    assert DimensionEntry.__required_keys__ == {"score", "status"}


def test_every_property_the_runner_writes_is_declared_in_the_schema(full):
    props = full.properties()
    assert props[0] == (VERSION_PROPERTY, RESULTS_VERSION)
    undeclared = []
    for key, _ in props:
        prefix, dot, _rest = key.partition(".")
        if key in (VERSION_PROPERTY, WORKER_PROPERTY):
            continue
        declared = PREFIXES.get(prefix) in RECORD if dot else key in RECORD
        if not declared:
            undeclared.append(key)
    assert not undeclared, f"declare these in editbench.schema.Record: {undeclared}"
    assert set(PREFIXES.values()) <= set(RECORD)


def matches(value, hint) -> bool:
    """Whether a value read from JSON has the declared type (an int is a JSON float too)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, arg) for arg in args)
    if origin is dict:
        return isinstance(value, dict) and all(
            matches(k, args[0]) and matches(v, args[1]) for k, v in value.items()
        )
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def test_a_record_the_real_runner_and_controller_write_matches_the_schema(tmp_path):
    case = load_suite(SAMPLE_SUITE).cases[0]
    judge = ScriptedJudge(SC=ok(9.0) | {"spread": 0.0, "samples": 1}, PQ=failed("unparseable"))
    outcome = runner(tmp_path, IdentityEditor(None, "cpu"), judge).run(case)  # as its tests run it
    ctl = controller(tmp_path)
    ctl.start()
    ctl.pytest_runtest_logreport(report(case, outcome.properties(), "failed"))
    ctl.close()
    [written] = lines_of(tmp_path / "run" / "results.jsonl")
    assert Record.__required_keys__ <= set(written) <= set(RECORD) - {WORKER_KEY}
    wrong = {k: v for k, v in written.items() if not matches(v, RECORD[k])}
    assert not wrong, f"results.jsonl values off their declared types: {wrong}"
    assert written["status"] == "unparseable" and written["spread"] == {"SC": 0.0}
