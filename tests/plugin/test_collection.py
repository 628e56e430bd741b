"""Collection of the real benchmark: one test per case, selectable by category name, key or marker."""

from __future__ import annotations

import pytest

from support import run_bench, write_config

pytestmark = pytest.mark.timeout(300)


def collected(result) -> list[str]:
    return [
        line.split("[", 1)[1].rstrip("]")
        for line in result.stdout.splitlines()
        if "::test_edit[" in line
    ]


@pytest.mark.parametrize(
    ("selection", "prefixes"),
    [
        (["-k", "物理"], {"物理"}),
        (["-k", "physical"], {"物理"}),
        (["-m", "physical"], {"物理"}),
        (["-m", "物理"], {"物理"}),
        (["-k", "物理 or 因果"], {"物理", "因果"}),
        (["-k", "not 指代"], {"物理", "环境", "社会", "因果"}),
    ],
)
def test_category_selection(tmp_path, selection, prefixes):
    """Under --collect-only xdist starts no worker (`-n 2` would collect the same, here): the
    workers' own collection of a selection is proven by the -n 2 runs (test_report_run.py)."""
    config = write_config(tmp_path)
    result = run_bench(config, "--collect-only", "-q", "--strict-markers", *selection)
    assert result.returncode == 0, result.stdout + result.stderr
    ids = collected(result)
    assert len(ids) == 5 * len(prefixes)
    assert {i.split("-")[0] for i in ids} == prefixes


def test_tags_become_markers(tmp_path):
    result = run_bench(
        write_config(tmp_path), "--collect-only", "-q", "--strict-markers", "-m", "sample"
    )
    assert len(collected(result)) == 25


def test_base64_suite_collects_with_category_prefix(tmp_path):
    from support import SAMPLE_B64

    config = write_config(tmp_path, suite={"path": str(SAMPLE_B64), "language": "zh"})
    result = run_bench(config, "--collect-only", "-q", "-k", "社会")
    assert collected(result) == ["社会-birthday"]


def test_a_startup_error_given_with_eb_set_is_one_line_without_traceback(tmp_path):
    """The wiring of `--eb-set` into the start-up checks (each check's own line:
    tests/unit/test_startup_refusals.py)."""
    result = run_bench(write_config(tmp_path), "--eb-set=suite.path=/nonexistent/suite")
    assert result.returncode == 4  # pytest's usage error
    assert "suite /nonexistent/suite: does not exist" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "reports").exists()


@pytest.mark.timeout(180)
def test_n_auto_starts_one_worker_per_gpu_group_not_one_per_cpu(tmp_path):
    """`-n auto` under a GPU list (a Slurm job's CUDA_VISIBLE_DEVICES) counts groups, not CPUs."""
    config = write_config(tmp_path)
    done = run_bench(
        config,
        "-n",
        "auto",
        "-k",
        "物理-001",
        run_dir=tmp_path / "run",
        env={"CUDA_VISIBLE_DEVICES": "0,1,2"},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "created: 3/3 workers" in done.stdout
