"""The run folder's life through real pytest runs: when it is made, and what the output ends with.

- commands that run no case (`--help`, `--markers`, `--fixtures`, `--collect-only`, `--version`)
  make no run folder and leave `latest` alone;
- a failed `--eb-fail-under` gate is the last line of the output, after pytest's own counts, with
  and without xdist; a passed one leaves pytest's counts last.

A continued folder, an interrupted run's summary files and the gate's arithmetic need no pytest
process: tests/unit/test_controller.py and tests/unit/test_run_in_process.py prove them.
"""

from __future__ import annotations

import json
import os

import pytest

from support import constant_judge, run_bench, write_config

PHYSICAL = [f"物理-00{i}" for i in range(1, 6)]


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "option", ["--help", "--markers", "--fixtures", "--collect-only", "--version"]
)
def test_commands_that_run_no_case_make_no_run_folder(tmp_path, option):
    config = write_config(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "earlier").mkdir()
    (reports / "latest").symlink_to("earlier", target_is_directory=True)
    result = run_bench(config, option, "-k", "物理", timeout=100)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert sorted(p.name for p in reports.iterdir()) == ["earlier", "latest"]
    assert os.readlink(reports / "latest") == "earlier"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_failed_gate_is_the_last_line_of_the_output(tmp_path, workers, judge_python):
    config = write_config(tmp_path, judge=constant_judge(judge_python, SC=2, PQ=3))
    result = run_bench(
        config, *workers, "-k", "物理-00", "--eb-fail-under=O=6.5", run_dir=tmp_path / "run"
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert " 5 passed" in result.stdout  # every test passed; only the gate failed
    final = last_line(result.stdout)
    assert final.startswith("editbench: FAILED --eb-fail-under (O=6.5: "), final
    assert "exit status 1" in final


@pytest.mark.timeout(300)
def test_a_passed_gate_leaves_pytest_s_counts_last(tmp_path, judge_python):
    """The constant judge's scores pass two thresholds; run.json names the judge's interpreter and
    the page draws its four dimensions (the gate's arithmetic: tests/unit/test_controller.py)."""
    config = write_config(tmp_path, judge=constant_judge(judge_python))  # O = sqrt(7*8) = 7.48
    result = run_bench(
        config,
        "-k",
        "物理-001",
        "--eb-fail-under=O=6.5",
        "--eb-fail-under=SC@物理=7",
        run_dir=tmp_path / "r",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "editbench: passed --eb-fail-under O=6.5 SC@物理=7" in result.stdout
    assert " 1 passed" in last_line(result.stdout) and "FAILED" not in result.stdout
    meta = json.loads((tmp_path / "r" / "run.json").read_text(encoding="utf-8"))
    assert meta["versions"]["judge"]["executable"] == judge_python
    assert meta["judge"]["describe"]["backend"] == "constant"
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert page.count('<rect class="bar"') == 2 * 4  # 物理 + overall, SC PQ O criterion
    assert page.count("data:image/jpeg;base64,") == 2
