"""pytest's JUnit XML (`--junitxml=FILE`) that validates against the family it declares.

pytest writes a test's `user_properties` as a `<properties>` element inside its `<testcase>`,
which the default family, xunit2 (Jenkins xUnit's junit-10.xsd), forbids; its `record_property`
fixture warns about it. So, with `--junitxml`:

- each case's outcome and scores go into its testcase's `<system-out>`, one line per dimension
  (every family allows it);
- the run's per-category means, with the case and failure counts, and a benchmark protocol's
  headline numbers go in as `<testsuite>` properties (allowed in every family);
- per-case `<properties>` are written only with `-o junit_family=xunit1` (or `legacy`), for
  tools that read them (junitparser, some dashboards).

Registered on the controller by the plugin when `--junitxml` is given. pytest offers no public
way for a plugin to add to a testcase element or to add suite properties from the controller
(its `record_testsuite_property` fixture runs in the workers under xdist), so `JunitHooks` uses
its writer object (`_pytest.junitxml.xml_key`, `node_reporter`, `add_global_property`) in one
place; tests/plugin/test_junit.py checks the result against the schema's rules.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from editbench.reporting.records import case_properties
from editbench.reporting.summary import rows
from editbench.vocabulary import REPORTED_DIMENSIONS, Status

TESTCASE_PROPERTY_FAMILIES = ("xunit1", "legacy")
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def keeps_testcase_properties(config: pytest.Config) -> bool:
    """Whether a case's properties may also be pytest user_properties: yes unless they would be
    written as per-testcase <properties> into a family that forbids them."""
    if not getattr(config.option, "xmlpath", None):
        return True
    return config.getini("junit_family") in TESTCASE_PROPERTY_FAMILIES


def case_lines(props: dict[str, Any]) -> list[str]:
    """A case's `<system-out>`: its id, category and status (with the reason when it failed),
    then one line per dimension, its score or its failure status."""
    status = props.get("status")
    head = f"case {props.get('case_id')} ({props.get('category')}): {status}"
    if status != Status.OK and props.get("reason"):
        head += f": {props['reason']}"
    dimensions = [k[len("status.") :] for k in props if k.startswith("status.")]
    order = {d: i for i, d in enumerate(dict.fromkeys(d.split(".")[0] for d in dimensions))}
    order |= {d: i - len(REPORTED_DIMENSIONS) for i, d in enumerate(REPORTED_DIMENSIONS)}
    lines = [head]
    # SC, PQ, O, criterion first; a protocol's sub-scores (SC.success) right after their dimension
    for dim in sorted(dimensions, key=lambda d: (order[d.split(".")[0]], d)):
        value, dim_status = props.get(f"score.{dim}"), props.get(f"status.{dim}")
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        lines.append(
            f"{dim}: {value:.3f}" if dim_status == Status.OK and number else f"{dim}: {dim_status}"
        )
    return lines


def suite_properties(summary: dict[str, Any], run_dir: Path) -> list[tuple[str, str]]:
    """`editbench.<category>.n`, `.failed` and `.<DIM>.mean` per category, then for `overall`
    (micro: every case weighs the same) and `macro` (every category weighs the same)."""
    props = [("editbench.run_dir", str(run_dir))]
    for row in rows(summary):
        key = row["key"]
        props += [
            (f"editbench.{key}.n", str(row["n"])),
            (f"editbench.{key}.failed", str(row["failed"])),
        ]
        for dim, stat in row["dimensions"].items():
            props.append((f"editbench.{key}.{dim}.mean", f"{stat['mean']:.4f}"))
    return props + headline_properties(summary.get("protocol"))


def headline_properties(block: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A benchmark protocol's headline numbers: `editbench.<protocol>.<row>.<number>` (its value,
    absent when no case was scored), with `.n` and `.failed` beside it."""
    props: list[tuple[str, str]] = []
    for number in (block or {}).get("numbers") or []:
        stem = f"editbench.{block['name']}.{number['row']}.{number['column']}"
        props += [(f"{stem}.n", str(number["n"])), (f"{stem}.failed", str(number["failed"]))]
        if number.get("value") is not None:
            props.append((stem, f"{number['value']:.4f}"))
    return props


def _writer(config: pytest.Config):
    from _pytest.junitxml import xml_key

    return config.stash.get(xml_key, None)


def add_suite_properties(config: pytest.Config, summary: dict[str, Any], run_dir: Path) -> None:
    """The run's means as `<testsuite>` properties; call before pytest writes the file."""
    writer = _writer(config)
    if writer is not None:
        for name, value in suite_properties(summary, run_dir):
            writer.add_global_property(name, value)


class JunitHooks:
    """Each case's lines go into its testcase's `<system-out>` as its call report arrives."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)  # after pytest's writer has opened the testcase
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = case_properties(report) if report.when == "call" else {}
        writer = _writer(self.config)
        if "eb.version" not in props or writer is None:
            return
        node = ET.Element("system-out")
        # characters XML 1.0 cannot hold (a control character in a reason) become "?"
        node.text = NOT_XML.sub("?", "\n".join(case_lines(props)) + "\n")
        writer.node_reporter(report).append(node)
