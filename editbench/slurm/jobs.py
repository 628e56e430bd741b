"""Slurm's side of a run: submitting the jobs, what is still queued, which shards are done.

A shard is complete when its run.json says it finished (pytest exit status 0, or 1 = some cases
failed) and its results.jsonl holds every case run.json expects. Slurm's accounting is never
consulted: the run folder is the record of what is done; only `squeue` is asked what still waits.
"""

from __future__ import annotations

import getpass
import json
import shlex
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from editbench.errors import ConfigError
from editbench.reporting.rundir import RESULTS, RUN_META
from editbench.reporting.runmeta import now, write_json
from editbench.slurm.plan import (
    DONE_STATUSES,
    MERGE_SCRIPT,
    RECORD,
    SHARD_SCRIPT,
    Plan,
    job_environment,
)
from editbench.slurm.scripts import array_spec


def slurm_command(command: list[str], env: dict[str, str] | None = None) -> str:
    """Run one of Slurm's commands; its output, or a ConfigError with Slurm's own message."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    except FileNotFoundError:
        raise ConfigError(
            f"{command[0]} not found: run editbench slurm on a Slurm login node "
            "(or put Slurm's commands on PATH)"
        ) from None
    if done.returncode != 0:
        raise ConfigError(
            f"{shlex.join(command)} failed ({done.returncode}): {done.stderr.strip()}"
        )
    return done.stdout


def sbatch(options: list[str], script: Path, env: dict[str, str]) -> str:
    """Submit one script; returns its job id (for an array, the array's job id)."""
    return slurm_command(["sbatch", "--parsable", *options, str(script)], env).strip().split(";")[0]


def submit(plan: Plan, shards: list[int]) -> dict[str, Any]:
    """The array over `shards` (none: only the merge), then the merge job that waits for it."""
    env = job_environment(plan)
    (plan.run / "logs").mkdir(parents=True, exist_ok=True)
    entry: dict[str, Any] = {
        "submitted": now(),
        "shards": shards,
        "array_job_id": None,
        "merge_job_id": None,
    }
    plan.submissions.append(entry)
    if shards:
        entry["array_job_id"] = sbatch(
            [f"--array={array_spec(shards)}"], plan.run / SHARD_SCRIPT, env
        )
        write_json(plan.run / RECORD, asdict(plan))  # recorded before the merge is submitted
    array_id = entry["array_job_id"]
    dependency = (
        [f"--dependency=afterok:{array_id}", "--kill-on-invalid-dep=yes"] if array_id else []
    )
    entry["merge_job_id"] = sbatch(dependency, plan.run / MERGE_SCRIPT, env)
    write_json(plan.run / RECORD, asdict(plan))
    return entry


def shard_problem(folder: Path) -> str | None:
    """Why a shard's run folder is not complete, or None when it is (decided from the folder alone)."""
    meta_path = folder / RUN_META
    if not meta_path.is_file():
        return "never started" if not folder.exists() else f"no {RUN_META}"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("status") == "running":
        return "status 'running': its job ended before the run did (killed, timed out, node lost)"
    if meta.get("status") != "finished":
        return f"status {meta.get('status')!r}"
    if meta.get("exit_status") not in DONE_STATUSES:
        return f"pytest exit status {meta.get('exit_status')}"
    done = set()
    if (folder / RESULTS).is_file():
        done = {
            json.loads(line)["case_id"]
            for line in (folder / RESULTS).read_text(encoding="utf-8").splitlines()
            if line.strip()
        }
    missing = [case for case in meta.get("expected_cases") or () if case not in done]
    return f"{len(missing)} expected cases have no result" if missing else None


def queued(plan: Plan) -> dict[str, str]:
    """This run's jobs still in Slurm's queue: job (array task) id -> state, from squeue."""
    ours = {
        job
        for entry in plan.submissions
        for job in (entry["array_job_id"], entry["merge_job_id"])
        if job
    }
    out = slurm_command(
        ["squeue", "--noheader", "--array", f"--user={getpass.getuser()}", "--format=%A|%F|%i|%T"]
    )
    rows = [line.split("|") for line in out.splitlines() if line.count("|") == 3]
    return {shown: state for job, array, shown, state in rows if job in ours or array in ours}


def aside(folder: Path) -> Path:
    """Move an incomplete attempt out of the way: shard-2 -> shard-2.attempt-1 (-2, ...)."""
    attempt = 1
    while folder.with_name(f"{folder.name}.attempt-{attempt}").exists():
        attempt += 1
    target = folder.with_name(f"{folder.name}.attempt-{attempt}")
    folder.rename(target)
    return target


def stale_merges(plan: Plan, shards_to_redo: bool) -> list[str]:
    """This run's queued merge jobs, which a resubmission replaces; refuses while work is queued.

    A shard still queued or running may yet finish, and a merge whose shards are all complete
    may yet run: resuming then would run the same work twice, so it waits for them instead.
    """
    waiting = queued(plan)
    arrays = {entry["array_job_id"] for entry in plan.submissions if entry["array_job_id"]}
    shards = {job: state for job, state in waiting.items() if job.split("_")[0] in arrays}
    merges = {job: state for job, state in waiting.items() if job not in shards}
    if shards or (merges and not shards_to_redo):
        busy = _states(shards or merges)
        raise ConfigError(
            f"jobs of {plan.run} are still queued or running ({busy}); wait for them "
            "(squeue shows them), or scancel them, then resume"
        )
    return sorted(merges)


def merge_complete(folder: Path) -> bool:
    """A complete merge: run.json says merged (not partial) and the summary is written."""
    meta = folder / RUN_META
    return (
        meta.is_file()
        and (folder / "summary.json").is_file()
        and json.loads(meta.read_text(encoding="utf-8")).get("status") == "merged"
    )


def _states(jobs: dict[str, str]) -> str:
    return ", ".join(f"{job} {state}" for job, state in sorted(jobs.items()))
