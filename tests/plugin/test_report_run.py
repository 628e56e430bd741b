"""The run folder of a real benchmark run: run.json, live results, terminal table, gate, JUnit, pytest-html."""

from __future__ import annotations

import json

import pytest

from support import read_results, run_bench, write_config


@pytest.mark.timeout(300)
def test_run_folder_run_json_and_terminal_table(tmp_path):
    config = write_config(tmp_path)
    run_dir = tmp_path / "run"
    result = run_bench(config, "-n", "2", "-k", "物理 or 社会", run_dir=run_dir)
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
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "finished" and meta["exit_status"] == 0
    assert meta["suite"]["name"] == "editbench-sample" and meta["suite"]["manifest_sha256"]
    assert meta["suite"]["templates"] and meta["config"]["editor"]["backend"] == "identity"
    assert set(meta["workers"]) == {"gw0", "gw1"}
    assert meta["editor"]["describe"] == {"backend": "identity", "model": None}
    assert meta["versions"]["controller"]["python"] and meta["versions"]["worker"]["pytest"]
    assert meta["started"] <= meta["finished"] and meta["seeds"]["run"] == 0
    assert "revision" in meta["git"]


@pytest.mark.timeout(300)
def test_fail_under_fails_the_run_with_a_clear_line(tmp_path):
    config = write_config(tmp_path)
    result = run_bench(
        config, "-k", "指代", "--eb-fail-under", "O@referential=6.5", run_dir=tmp_path / "r"
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert (
        "editbench: FAILED --eb-fail-under O@referential=6.5: no scored O in 指代 (referential)"
        in result.stdout
    )
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["gate_failures"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "option, message",
    [
        (["--eb-fail-under", "Q=1"], "--eb-fail-under 'Q=1': expected DIM[@CATEGORY]=VALUE"),
        (["--eb-fail-under", "O@mars=1"], "unknown category 'mars'"),
        (["--eb-shard", "3/2"], "--eb-shard '3/2': K must be between 1 and N"),
    ],
)
def test_bad_options_are_one_usage_error(tmp_path, option, message):
    result = run_bench(write_config(tmp_path), *option, run_dir=tmp_path / "r")
    assert result.returncode == 4
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(300)
def test_junit_xml_carries_the_case_properties_under_xunit1(tmp_path):
    """Per-testcase <properties> for the tools that read them (the default family forbids them:
    tests/plugin/test_junit.py)."""
    junitparser = pytest.importorskip("junitparser")
    xml = tmp_path / "junit.xml"
    result = run_bench(
        write_config(tmp_path),
        "-n",
        "2",
        "-k",
        "因果",
        f"--junitxml={xml}",
        "--override-ini=junit_family=xunit1",
        run_dir=tmp_path / "r",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    cases = [case for suite in junitparser.JUnitXml.fromfile(str(xml)) for case in suite]
    assert len(cases) == 5
    recorded = {r["case_id"]: r for r in read_results(tmp_path / "r")}
    for case in cases:
        props = {
            p.name: p.value
            for group in case.iterchildren(junitparser.Properties)
            for p in group.iterchildren(junitparser.Property)
        }
        assert props["category"] == "causal" and props["status"] == "ok"
        assert props["case_id"].startswith("因果-") and props["image.edited"].endswith(
            ".edited.png"
        )
        record = recorded[props["case_id"]]  # the same values as results.jsonl, to the digit
        assert float(props["edit_s"]) == record["edit_s"] and int(props["seed"]) == record["seed"]


@pytest.mark.timeout(300)
def test_pytest_html_rows_carry_thumbnails(tmp_path):
    pytest.importorskip("pytest_html")
    page = tmp_path / "ph.html"
    result = run_bench(
        write_config(tmp_path), "-k", "环境", f"--html={page}", run_dir=tmp_path / "r"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    text = page.read_text(encoding="utf-8")
    assert "editbench scores" in text and text.count("data:image/jpeg;base64,") >= 10


@pytest.mark.timeout(300)
def test_constant_judge_scores_pass_and_fail_the_gate(tmp_path, judge_python):
    judge = {
        "backend": "constant",
        "python": judge_python,
        "scores": {"SC": 7, "PQ": 8, "criterion": 6},
    }
    config = write_config(tmp_path, judge=judge)
    passed = run_bench(
        config,
        "-n",
        "2",
        "-k",
        "物理",
        "--eb-fail-under",
        "O=7",
        "--eb-fail-under",
        "SC@物理=7",
        run_dir=tmp_path / "ok",
    )
    assert passed.returncode == 0, passed.stdout[-3000:]
    assert "editbench: passed --eb-fail-under O=7 SC@物理=7" in passed.stdout
    failed = run_bench(
        config, "-k", "物理", "--eb-fail-under", "SC@物理=7.5", run_dir=tmp_path / "bad"
    )
    assert failed.returncode == 1
    assert (
        "FAILED --eb-fail-under SC@物理=7.5: SC mean in 物理 (physical) is 7.000 < 7.5"
        in failed.stdout
    )
    meta = json.loads((tmp_path / "ok" / "run.json").read_text(encoding="utf-8"))
    assert meta["versions"]["judge"]["executable"] == judge_python
    assert meta["judge"]["describe"]["backend"] == "constant"
    page = (tmp_path / "ok" / "report.html").read_text(encoding="utf-8")
    assert page.count('<rect class="bar"') == 2 * 4  # 物理 + overall, SC PQ O criterion
    assert page.count("data:image/jpeg;base64,") == 10
