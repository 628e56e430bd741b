"""JUnit XML as a CI job writes it (`--junitxml=FILE`, default family): valid for the family it
declares, no warning, scores per case in <system-out>, per-category means as suite properties.

The check below encodes the structural rules of Jenkins xUnit's `junit-10.xsd` (the schema of
pytest's default family, xunit2), read from jenkinsci/xunit-plugin; where two versions of that
file differ, the stricter rule is kept.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support import constant_judge

pytestmark = pytest.mark.timeout(300)

TESTSUITES_ATTRIBUTES = {"name", "time", "tests", "failures", "errors"}
TESTSUITE_REQUIRED = {"name", "tests", "failures", "errors"}
TESTSUITE_ATTRIBUTES = TESTSUITE_REQUIRED | {
    "group",
    "time",
    "skipped",
    "timestamp",
    "hostname",
    "id",
    "package",
    "file",
    "log",
    "url",
}
TESTSUITE_CHILDREN = {"testsuite", "properties", "testcase", "system-out", "system-err"}
TESTCASE_ATTRIBUTES = {"name", "time", "classname", "group"}
OUTCOMES = {"skipped", "error", "failure"}
RERUNS = {"rerunFailure", "rerunError", "flakyFailure", "flakyError"}
TESTCASE_CHILDREN = OUTCOMES | RERUNS | {"system-out", "system-err"}
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")


def schema_problems(path: Path) -> list[str]:
    """Every place where the file breaks junit-10.xsd's structure (empty when it is valid)."""
    root = ET.parse(path).getroot()
    problems: list[str] = []
    if root.tag == "testsuites":
        problems += attribute_problems(root, TESTSUITES_ATTRIBUTES, set())
        problems += [f"testsuites: <{c.tag}> not allowed" for c in root if c.tag != "testsuite"]
        suites = [c for c in root if c.tag == "testsuite"]
    else:
        suites = [root]
    for suite in suites:
        problems += suite_problems(suite)
    return problems


def attribute_problems(element: ET.Element, allowed: set[str], required: set[str]) -> list[str]:
    where = f"<{element.tag} name={element.get('name')!r}>"
    extra = sorted(set(element.attrib) - allowed)
    missing = sorted(required - set(element.attrib))
    return [f"{where}: attribute {a} not allowed" for a in extra] + [
        f"{where}: attribute {a} missing" for a in missing
    ]


def text_only(element: ET.Element, attributes: set[str]) -> list[str]:
    problems = attribute_problems(element, attributes, set())
    return problems + [f"<{element.tag}> holds <{c.tag}>" for c in element]


def suite_problems(suite: ET.Element) -> list[str]:
    problems = attribute_problems(suite, TESTSUITE_ATTRIBUTES, TESTSUITE_REQUIRED)
    if "time" in suite.attrib and not SUREFIRE_TIME.fullmatch(suite.get("time")):
        problems.append(f"testsuite time {suite.get('time')!r} is no SUREFIRE_TIME")
    for child in suite:
        if child.tag not in TESTSUITE_CHILDREN:
            problems.append(f"testsuite: <{child.tag}> not allowed")
        elif child.tag == "testsuite":
            problems += suite_problems(child)
        elif child.tag == "properties":
            problems += properties_problems(child)
        elif child.tag == "testcase":
            problems += case_problems(child)
        else:
            problems += text_only(child, set())
    return problems


def properties_problems(properties: ET.Element) -> list[str]:
    problems = attribute_problems(properties, set(), set())
    for prop in properties:
        if prop.tag != "property":
            problems.append(f"properties: <{prop.tag}> not allowed")
        else:
            problems += text_only(prop, {"name", "value"})
            problems += attribute_problems(prop, {"name", "value"}, {"name", "value"})
    return problems


def case_problems(case: ET.Element) -> list[str]:
    problems = attribute_problems(case, TESTCASE_ATTRIBUTES, {"name"})
    for child in case:
        if child.tag not in TESTCASE_CHILDREN:
            problems.append(f"testcase {case.get('name')}: <{child.tag}> not allowed")
        elif child.tag in OUTCOMES:
            problems += text_only(child, {"type", "message"})
        elif child.tag in ("system-out", "system-err"):
            problems += text_only(child, set())
    return problems


def test_the_schema_check_finds_what_xunit2_forbids(tmp_path):
    """The check itself: per-testcase <properties> and xunit1's file/line attributes fail it."""
    path = tmp_path / "bad.xml"
    path.write_text(
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="1.5">'
        '<testcase name="t" file="x.py" line="3"><properties><property name="a" value="1"/>'
        "</properties></testcase></testsuite></testsuites>",
        encoding="utf-8",
    )
    assert len(schema_problems(path)) == 3


def test_default_junit_validates_and_carries_scores(fault_run, judge_python):
    """A CI job's run: -n 2, one case failing, the default JUnit family (xunit2)."""
    fault_run.change("物理-002", tag="[edit:raise]")
    config = fault_run.config(judge=constant_judge(judge_python))
    xml = fault_run.tmp_path / "junit.xml"
    result, run_dir = fault_run.run(config, "-n", "2", "-k", "物理 or 社会", f"--junitxml={xml}")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "warning" not in (result.stdout + result.stderr).lower()
    assert schema_problems(xml) == []

    root = ET.parse(xml).getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "10"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert len(cases) == 10
    ok = cases["test_edit[物理-001]"].find("system-out").text.splitlines()
    assert ok == [
        "case 物理-001 (physical): ok",
        "SC: 7.000",
        "PQ: 8.000",
        "O: 7.483",
        "criterion: 6.000",
    ]
    failed = cases["test_edit[物理-002]"]
    assert failed.find("failure") is not None
    assert failed.find("system-out").text.splitlines() == [
        "case 物理-002 (physical): edit-error: RuntimeError: injected editor failure on 物理-002"
    ]

    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    physical = next(row for row in summary["categories"] if row["key"] == "physical")
    assert properties["editbench.physical.n"] == "5"
    assert properties["editbench.physical.failed"] == "1"
    assert properties["editbench.physical.SC.mean"] == "7.0000"
    assert float(properties["editbench.physical.O.mean"]) == pytest.approx(
        physical["dimensions"]["O"]["mean"], abs=5e-5
    )
    assert properties["editbench.social.failed"] == "0"
    assert properties["editbench.overall.n"] == "10" and "editbench.macro.SC.mean" in properties
    assert properties["editbench.run_dir"] == str(run_dir)
