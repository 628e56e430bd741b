"""Slurm tier: `editbench slurm` against a real one-node Slurm (tests/slurm_cluster.py).

The cluster is Debian's slurm-wlm + munge started in a temporary folder; the tests skip, naming
why, only where those cannot run (CI sets EDITBENCH_REQUIRE_SLURM=1, which turns that into a
failure). Jobs are awaited by polling the scheduler's own state (`scontrol show job`).
"""

from __future__ import annotations

import time

import pytest
from slurm_cluster import cluster_session

FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"}


@pytest.fixture(scope="session")
def slurm():
    yield from cluster_session()


def wait_for_jobs(cluster, job_ids: list[str], timeout: float = 120) -> dict[str, str]:
    """Poll `scontrol show job` until every job (all tasks of an array) has ended."""
    deadline = time.monotonic() + timeout
    while True:
        states = {job: cluster.job_state(job) for job in job_ids}
        if all(set(state.split(",")) <= FINISHED for state in states.values()):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs still not finished after {timeout:.0f} s: {states}\n"
                                 f"{cluster.run(['squeue'], check=False).stdout}")
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
        script = (f"while [ ! -e {go} ]; do sleep 0.1; done; "
                  "echo CUDA=${CUDA_VISIBLE_DEVICES-unset} job=$SLURM_JOB_ID")
        out = slurm.run(["sbatch", "--parsable", f"--output={tmp_path}/{name}.out", *gres,
                         f"--wrap={script}"])
        submitted[name] = out.stdout.strip().split(";")[0]
    wait_until(lambda: {slurm.job_state(submitted[n]) for n in ("one", "other")} == {"RUNNING"},
               "both GPU jobs to run at once")
    go.touch()
    assert wait_for_jobs(slurm, list(submitted.values())) == dict.fromkeys(submitted.values(), "COMPLETED")
    seen = {name: (tmp_path / f"{name}.out").read_text().split() for name in submitted}
    assert {seen["one"][0], seen["other"][0]} == {"CUDA=0", "CUDA=1"}
    assert seen["none"][0] == "CUDA=unset"
    assert all(seen[name][1] == f"job={job}" for name, job in submitted.items())
