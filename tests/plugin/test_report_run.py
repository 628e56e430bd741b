"""The run folder of a real benchmark run under xdist: run.json, the workers' slots, the terminal
table, JUnit XML (xunit1) and pytest-html, all from one `-n 2` run; a bad option's usage error.

The run folder's rules that need no pytest process (continuation, the gate, interrupted runs) are
proven in tests/unit (test_controller.py, test_run_in_process.py).
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from support import read_results, run_bench, write_config


@pytest.mark.timeout(300)
def test_an_xdist_run_writes_its_folder_table_junit_and_pytest_html(tmp_path):
    """Identity editor, no judge, `-n 2 -k "物理 or 社会"`, with `--junitxml` in the xunit1 family
    (per-testcase <properties> for the tools that read them; the default family forbids them:
    test_junit.py) and `--html` (pytest-html's rows with the case's thumbnails)."""
    import junitparser

    config, run_dir = write_config(tmp_path), tmp_path / "run"
    xml, page = tmp_path / "junit.xml", tmp_path / "ph.html"
    result = run_bench(
        config,
        "-n",
        "2",
        "-k",
        "物理 or 社会",
        f"--junitxml={xml}",
        "--override-ini=junit_family=xunit1",
        f"--html={page}",
        run_dir=run_dir,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"editbench run folder: {run_dir}" in result.stdout
    assert any(
        line.startswith("物理") and line.split()[1:3] == ["5", "0"]
        for line in result.stdout.splitlines()
    )
    for name in (
        "results.jsonl",
        "run.json",
        "summary.json",
        "summary.csv",
        "report.md",
        "report.html",
    ):
        assert (run_dir / name).is_file(), name
    records = read_results(run_dir)
    assert len(records) == 10 and all("identity" not in r for r in records)
    assert {r["category"] for r in records} == {"physical", "social"}
    assert all(r["status"] == "ok" for r in records)
    for record in records:  # the identity edit is the source, as the workers saved it
        edited = Image.open(run_dir / record["images"]["edited"])
        source = Image.open(run_dir / record["images"]["source"])
        assert edited.tobytes() == source.convert("RGB").tobytes()
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "finished" and meta["exit_status"] == 0
    assert meta["suite"]["name"] == "editbench-sample" and meta["suite"]["manifest_sha256"]
    assert meta["suite"]["templates"] and meta["config"]["editor"]["backend"] == "identity"
    assert set(meta["workers"]) == {"gw0", "gw1"}
    slots = sorted(w["devices"]["slot"] for w in meta["workers"].values())
    assert slots == ["0", "1"]  # each worker told its own slot through its spawn spec
    assert meta["editor"]["describe"] == {"backend": "identity", "model": None}
    assert meta["versions"]["controller"]["python"] and meta["versions"]["worker"]["pytest"]
    assert meta["started"] <= meta["finished"] and meta["seeds"]["run"] == 0
    assert "revision" in meta["git"]

    cases = [case for suite in junitparser.JUnitXml.fromfile(str(xml)) for case in suite]
    assert len(cases) == 10
    recorded = {r["case_id"]: r for r in records}
    for case in cases:
        props = {
            p.name: p.value
            for group in case.iterchildren(junitparser.Properties)
            for p in group.iterchildren(junitparser.Property)
        }
        record = recorded[props["case_id"]]  # the same values as results.jsonl, to the digit
        assert props["category"] == record["category"] and props["status"] == "ok"
        assert props["image.edited"].endswith(".edited.png")
        assert float(props["edit_s"]) == record["edit_s"] and int(props["seed"]) == record["seed"]

    text = page.read_text(encoding="utf-8")
    assert "editbench scores" in text and text.count("data:image/jpeg;base64,") >= 20


@pytest.mark.timeout(300)
def test_a_bad_option_is_one_usage_error(tmp_path):
    """The wiring; each bad option's own line: tests/unit/test_startup_refusals.py."""
    result = run_bench(write_config(tmp_path), "--eb-fail-under=Q=1", run_dir=tmp_path / "r")
    assert result.returncode == 4
    assert "--eb-fail-under 'Q=1': expected DIM[@CATEGORY]=VALUE" in result.stderr
    assert "Traceback" not in result.stderr
