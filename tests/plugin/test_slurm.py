"""Slurm tier: `editbench slurm` against a real one-node Slurm (tests/slurm_cluster.py).

The cluster is Debian's slurm-wlm + munge started in a temporary folder; the tests skip, naming
why, only where those cannot run (CI sets EDITBENCH_REQUIRE_SLURM=1, which turns that into a
failure). Jobs are awaited by polling the scheduler's own state (`scontrol show job`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slurm_cluster import cluster_session

from editbench.cases import load_suite
from editbench.slurm.jobs import shard_problem
from editbench.slurm.scripts import array_spec
from support import (
    REPO,
    SAMPLE_SUITE,
    constant_judge,
    read_results,
    run_bench,
    stand_in_nvidia_smi,
    write_config,
)

FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"}


@pytest.fixture(scope="session")
def slurm():
    yield from cluster_session()


def wait_for_jobs(cluster, job_ids: list[str], timeout: float = 200) -> dict[str, str]:
    """Poll `scontrol show job` until every job (all tasks of an array) has ended."""
    deadline = time.monotonic() + timeout
    while True:
        states = {job: cluster.job_state(job) for job in job_ids}
        if all(set(state.split(",")) <= FINISHED for state in states.values()):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(
                f"jobs still not finished after {timeout:.0f} s: {states}\n"
                f"{cluster.run(['squeue'], check=False).stdout}"
            )
        time.sleep(0.25)


def wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@pytest.mark.timeout(120)
def test_the_cluster_runs_jobs_and_hands_out_its_gpus(slurm, tmp_path):
    """Two one-GPU jobs held running at once get different GPUs; a job without --gres gets none."""
    go = tmp_path / "go"
    submitted = {}
    for name, gres in (("one", ["--gres=gpu:1"]), ("other", ["--gres=gpu:1"]), ("none", [])):
        script = (
            f"while [ ! -e {go} ]; do sleep 0.1; done; "
            "echo CUDA=${CUDA_VISIBLE_DEVICES-unset} job=$SLURM_JOB_ID"
        )
        out = slurm.run(
            ["sbatch", "--parsable", f"--output={tmp_path}/{name}.out", *gres, f"--wrap={script}"]
        )
        submitted[name] = out.stdout.strip().split(";")[0]
    wait_until(
        lambda: {slurm.job_state(submitted[n]) for n in ("one", "other")} == {"RUNNING"},
        "both GPU jobs to run at once",
    )
    go.touch()
    assert wait_for_jobs(slurm, list(submitted.values())) == dict.fromkeys(
        submitted.values(), "COMPLETED"
    )
    seen = {name: (tmp_path / f"{name}.out").read_text().split() for name in submitted}
    assert {seen["one"][0], seen["other"][0]} == {"CUDA=0", "CUDA=1"}
    assert seen["none"][0] == "CUDA=unset"
    assert all(seen[name][1] == f"job={job}" for name, job in submitted.items())


# -- editbench slurm on the cluster ---------------------------------------------------------------

SUBSET = "物理 or 环境"  # 10 of the sample suite's 25 cases


@pytest.fixture
def constant(judge_python) -> dict:
    return constant_judge(judge_python)


STATS_KEYS = ("categories", "overall", "dimensions", "interval")


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The `editbench` command as a user runs it in this checkout."""
    return subprocess.run(
        [sys.executable, "-m", "editbench.cli", *args],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def editbench(cluster, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`editbench ...` against the test cluster; it must succeed."""
    done = run_cli(*args, env={**cluster.env, **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def job_ids(output: str) -> tuple[str, str]:
    """(array job id, merge job id) from `editbench slurm`'s report."""
    array = re.search(r"array job (\d+)", output)
    merge = re.search(r"merge: job (\d+)", output)
    assert array and merge, output
    return array.group(1), merge.group(1)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def summary_of(run_dir: Path) -> dict:
    data = read_json(run_dir / "summary.json")
    return {key: data[key] for key in STATS_KEYS}


def subset_ids() -> list[str]:
    return [
        c.id
        for c in load_suite(SAMPLE_SUITE).cases
        if c.category.key in ("physical", "environmental")
    ]


@pytest.mark.timeout(240)
def test_three_gpu_shards_and_a_merge_job_give_the_single_run_summary(slurm, tmp_path, constant):
    config = write_config(tmp_path, judge=constant)
    run = tmp_path / "run"
    out = editbench(
        slurm,
        "slurm",
        "--shards=3",
        "--gpus-per-shard=1",
        f"--run-dir={run}",
        "--",
        f"--eb-config={config}",
        "-k",
        SUBSET,
    ).stdout
    array, merge = job_ids(out)
    assert f"reports in {run / 'merged'}" in out and f"{run}/logs/shard-K.job-{array}.log" in out
    states = wait_for_jobs(slurm, [array, merge])
    logs = "\n".join(p.read_text() for p in sorted((run / "logs").glob("*.log")))
    assert states == {array: "COMPLETED", merge: "COMPLETED"}, logs
    expected = []
    for k in (1, 2, 3):
        meta = read_json(run / f"shard-{k}" / "run.json")
        scheduler = meta["scheduler"]
        assert (scheduler["array_job_id"], scheduler["array_task_id"], scheduler["node"]) == (
            array,
            str(k),
            "ebnode",
        )
        assert scheduler["job_id"] and scheduler["gpus"] in (["0"], ["1"])  # the GPU Slurm gave
        assert meta["devices"]["gpus"] == scheduler["gpus"] == [scheduler["cuda_visible_devices"]]
        assert (meta["shard"], meta["status"], meta["expected_from"]) == (
            f"{k}/3",
            "finished",
            "collection",
        )
        assert list(meta["workers"]) == ["gw0"]  # -n auto: one worker for the shard's one GPU
        expected += meta["expected_cases"]
        assert (
            f"editbench shard {k}/3 on" in (run / "logs" / f"shard-{k}.job-{array}.log").read_text()
        )
    assert sorted(expected) == sorted(subset_ids())
    single = run_bench(config, "-n", "2", "-k", SUBSET, run_dir=tmp_path / "single")
    assert single.returncode == 0, single.stdout[-3000:]
    merged = read_json(run / "merged" / "run.json")
    assert (merged["status"], merged["missing_cases"]) == ("merged", [])
    assert merged["scheduler"]["job_id"] == merge
    assert summary_of(run / "merged") == summary_of(tmp_path / "single")
    overall = summary_of(run / "merged")["overall"]["micro"]["dimensions"]
    assert (overall["SC"]["n"], overall["SC"]["mean"], overall["PQ"]["mean"]) == (10, 7.0, 8.0)


def finished_cases(run_dir: Path) -> set[str]:
    """Case ids in a live results.jsonl (a line still being written is not yet a result)."""
    path = run_dir / "results.jsonl"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return {
        json.loads(line)["case_id"]
        for line in text.splitlines(keepends=True)
        if line.endswith("\n")
    }


def edits_logged(faults: Path) -> list[str]:
    path = faults / "edits.log"
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


@pytest.mark.timeout(300)
def test_a_killed_shard_is_resumed_without_redoing_its_finished_cases(slurm, fault_run, constant):
    tmp_path = fault_run.tmp_path
    held = subset_ids()[-1]  # the last selected case, so the last its shard runs (-n 1 keeps order)
    fault_run.change(held, tag="[edit:wait]")
    config = fault_run.config(judge=constant)
    env = fault_run.env()
    env["PATH"] = stand_in_nvidia_smi(tmp_path / "bin") + os.pathsep + slurm.env["PATH"]  # 8 "GPUs"
    faults, run = Path(env["EB_FAULT_DIR"]), tmp_path / "run"
    out = editbench(
        slurm,
        "slurm",
        "--shards=3",
        "--env=EB_FAULT_DIR",
        f"--run-dir={run}",
        "--",
        f"--eb-config={config}",
        "-p",
        "eb_faults",
        "-n",
        "1",
        "-k",
        SUBSET,
        env=env,
    ).stdout
    array, merge = job_ids(out)
    wait_until(
        lambda: list(faults.glob(f"waiting.{held}.*")), f"{held} to be held in its edit", 120
    )
    k = next(
        k for k in (1, 2, 3) if held in read_json(run / f"shard-{k}" / "run.json")["expected_cases"]
    )
    shard = run / f"shard-{k}"
    others = set(read_json(shard / "run.json")["expected_cases"]) - {held}
    assert others, "the held case's shard has no other case to keep"
    wait_until(lambda: finished_cases(shard) == others, "the shard's other cases to finish")
    early = run_cli("slurm", f"--resume={run}", env={**slurm.env, **env})
    assert early.returncode == 2 and f"{array}_{k} RUNNING" in early.stderr  # it may yet finish
    slurm.run(["scancel", f"{array}_{k}"])  # the shard's node "dies" in the middle of a case
    states = wait_for_jobs(slurm, [array, merge])
    assert states == {array: "CANCELLED,COMPLETED", merge: "CANCELLED"}  # the merge can never run
    assert read_json(shard / "run.json")["status"] == "running"
    edited_before = edits_logged(faults)
    (faults / "release").touch()

    out = editbench(slurm, "slurm", f"--resume={run}", env=env).stdout
    assert f"shard {k}/3: status 'running': its job ended before the run did" in out
    assert all(f"shard {j}/3: complete" in out for j in {1, 2, 3} - {k})
    assert f"shards {k} of 3: array job" in out
    array2, merge2 = job_ids(out)
    assert wait_for_jobs(slurm, [array2, merge2]) == {array2: "COMPLETED", merge2: "COMPLETED"}
    assert edits_logged(faults)[len(edited_before) :] == [
        held
    ]  # the finished cases came from the cache
    assert finished_cases(run / f"shard-{k}.attempt-1") == others  # the killed attempt, kept aside
    resumed = {r["case_id"]: r["edit_cached"] for r in read_results(shard)}
    assert resumed == {**dict.fromkeys(others, True), held: False}
    merged = read_json(run / "merged" / "run.json")
    assert (merged["status"], sorted(merged["expected_cases"])) == ("merged", sorted(subset_ids()))
    assert sorted(r["case_id"] for r in read_results(run / "merged")) == sorted(subset_ids())
    for j in (1, 2, 3):  # no GPU asked for: none used, though nvidia-smi lists eight
        meta = read_json(run / f"shard-{j}" / "run.json")
        assert meta["devices"]["gpus"] == meta["scheduler"]["gpus"] == []


# -- without a cluster: what would be submitted, and what is refused --------------------------------


@pytest.mark.timeout(120)
def test_dry_run_prints_both_scripts_and_the_sbatch_commands_and_submits_nothing(
    tmp_path, constant, judge_python
):
    config = write_config(tmp_path, judge=constant)
    relative = os.path.relpath(config, REPO)  # the jobs get it made absolute
    run = tmp_path / "run"
    env = {
        "HF_HUB_OFFLINE": "1",
        "CUDA_VISIBLE_DEVICES": "3",
        "EDITBENCH_JUDGE_PYTHON": judge_python,
    }
    env.pop("SLURM_CONF", None)
    done = run_cli(
        "slurm",
        "--shards=2",
        "--gpus-per-shard=1",
        "--partition=debug",
        "--time=5:00",
        "--sbatch-arg=--account=lab",
        f"--run-dir={run}",
        "--dry-run",
        "--",
        f"--eb-config={relative}",
        "-k",
        "物理",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "the run selects 5 cases; 2 shards" in out
    shards, merge = out.split(f"# {run}/merge.sbatch\n")
    assert shards.startswith(
        f"the run selects 5 cases; 2 shards\n# {run}/shards.sbatch\n#!/bin/bash\n"
    )
    for line in (
        "#SBATCH --gres=gpu:1",
        "#SBATCH --partition=debug",
        "#SBATCH --time=5:00",
        "#SBATCH --account=lab",
        f"#SBATCH --chdir={REPO}",
        f"#SBATCH --output={run}/logs/shard-%a.job-%A.log",
    ):
        assert line in shards.splitlines()
    exported = re.search(r"^#SBATCH --export=(\S+)$", shards, re.M).group(1).split(",")
    assert {"PATH", "HF_HUB_OFFLINE", "EDITBENCH_JUDGE_PYTHON"} <= set(exported)
    assert "CUDA_VISIBLE_DEVICES" not in exported  # Slurm sets it to the job's own GPUs
    assert (
        f"{sys.executable} -m pytest -n auto -p no:cacheprovider --eb-config={config} "
        f'--eb-shard="$K"/2 --eb-run-dir={run}/shard-"$K" -k \'物理\''
    ) in shards
    assert "--gres" not in merge and "#SBATCH --account=lab" in merge
    assert (
        f"{sys.executable} -m editbench.cli merge {run}/shard-1 {run}/shard-2 -o {run}/merged"
        in merge
    )
    assert merge.strip().splitlines()[-2:] == [
        f"sbatch --parsable --array=1-2 {run}/shards.sbatch",
        f"sbatch --parsable '--dependency=afterok:<array job id>' --kill-on-invalid-dep=yes "
        f"{run}/merge.sbatch",
    ]
    script = shards.split("\n", 2)[2]
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert not run.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--shards=0", "--"], "--shards 0: give at least 1"),
        (["--shards=2", "--", "--eb-shard=1/2"], "--eb-shard is set by editbench slurm"),
        (["--shards=2", "--", "--eb-run-dir", "x"], "--eb-run-dir is set by editbench slurm"),
        (["--shards=2", "--sbatch-arg=account=lab", "--"], "give one sbatch option"),
        (["--shards=2", "--env=CUDA_VISIBLE_DEVICES", "--"], "Slurm sets to the job's GPUs"),
        (["--resume=/nonexistent/run"], "no slurm.json; --resume takes a run folder"),
    ],
)
def test_bad_requests_are_refused_with_the_fix(args, needle):
    done = run_cli("slurm", *args)
    assert done.returncode == 2 and needle in done.stderr, done.stderr


@pytest.mark.timeout(120)
def test_a_config_the_shards_would_reject_is_refused_before_anything_is_submitted(
    tmp_path, judge_python
):
    config = write_config(tmp_path, editor={"backend": "no-such-editor"})
    done = run_cli(
        "slurm",
        "--shards=2",
        f"--run-dir={tmp_path / 'run'}",
        "--",
        f"--eb-config={config}",
        env={"EDITBENCH_JUDGE_PYTHON": judge_python},
    )
    assert done.returncode == 2
    assert "nothing was submitted" in done.stderr and "no-such-editor" in done.stderr
    assert not (tmp_path / "run").exists()


def test_array_spec_compresses_runs_of_shards():
    assert array_spec([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"
    assert array_spec([4]) == "4"


def write_shard(folder: Path, meta: dict, done: list[str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "results.jsonl").write_text(
        "".join(json.dumps({"case_id": c}) + "\n" for c in done), encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize(
    ("meta", "done", "problem"),
    [
        (
            {"status": "running", "expected_cases": ["a", "b"]},
            ["a"],
            "status 'running': its job ended before the run did (killed, timed out, node lost)",
        ),
        (
            {"status": "interrupted", "exit_status": 2, "expected_cases": ["a"]},
            [],
            "status 'interrupted'",
        ),
        (
            {"status": "finished", "exit_status": 3, "expected_cases": ["a"]},
            ["a"],
            "pytest exit status 3",
        ),
        (
            {"status": "finished", "exit_status": 0, "expected_cases": ["a", "b"]},
            ["a"],
            "1 expected cases have no result",
        ),
        ({"status": "finished", "exit_status": 1, "expected_cases": ["a", "b"]}, ["b", "a"], None),
        ({"status": "finished", "exit_status": 5, "expected_cases": []}, [], None),
    ],
)
def test_a_shard_is_complete_only_when_finished_with_every_expected_case(
    tmp_path, meta, done, problem
):
    assert shard_problem(write_shard(tmp_path / "shard-1", meta, done)) == problem


def test_a_shard_that_never_started_is_incomplete(tmp_path):
    assert shard_problem(tmp_path / "shard-1") == "never started"
