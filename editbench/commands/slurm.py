"""`editbench slurm`: a run split into a Slurm job array of shards plus a merge job.

    editbench slurm --shards N [--gpus-per-shard G] [--partition P] [--time T]
                    [--sbatch-arg=ARG ...] [--env NAME ...] [--run-dir=DIR] [--dry-run] -- PYTEST ARGS
    editbench slurm --resume RUN [--dry-run]

Array task K runs `pytest -n auto --eb-shard=K/N --eb-run-dir=RUN/shard-K PYTEST ARGS` with the
interpreter that runs this command, in this checkout; the merge job waits for the whole array
(`--dependency=afterok`) and runs `editbench merge` into RUN/merged. Both batch scripts, the
submission record (slurm.json) and the jobs' logs live in the run folder.

A shard is complete when its run.json says it finished (pytest exit status 0, or 1 = some cases
failed) and its results.jsonl holds every case run.json expects; `--resume` resubmits only the
shards that are not, after moving each one's folder aside (its finished edits and scores come
back from the cache), and then the merge. Slurm's accounting is never consulted: the run folder
is the record of what is done.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from pathlib import Path
from typing import Any

from editbench.errors import ConfigError
from editbench.slurm.jobs import (
    aside,
    merge_complete,
    shard_problem,
    slurm_command,
    stale_merges,
    submit,
)
from editbench.slurm.plan import (
    MERGE_SCRIPT,
    MERGED,
    RECORD,
    SHARD_SCRIPT,
    Plan,
    make_plan,
    preflight,
)
from editbench.slurm.scripts import (
    array_spec,
    merge_script,
    shard_script,
    submission_commands,
    write_scripts,
)


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="editbench slurm",
        description=__doc__.split("\n\n")[0],
        usage="editbench slurm --shards N [options] -- PYTEST ARGS\n"
        "       editbench slurm --resume RUN [--dry-run]",
    )
    parse.add_argument(
        "--shards", type=int, help="how many shards (array tasks) to split the run into"
    )
    parse.add_argument(
        "--gpus-per-shard", type=int, help="GPUs each shard asks Slurm for (--gres=gpu:G)"
    )
    parse.add_argument("--partition", help="Slurm partition")
    parse.add_argument("--time", help="time limit per job, e.g. 4:00:00")
    parse.add_argument(
        "--sbatch-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more sbatch option for both jobs, e.g. --sbatch-arg=--account=lab",
    )
    parse.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME",
        help="one more environment variable the jobs get from this shell",
    )
    parse.add_argument("--run-dir", help="the run folder (default: <run.dir>/<time>-<run.name>)")
    parse.add_argument("--dry-run", action="store_true", help="print the scripts, submit nothing")
    parse.add_argument(
        "--resume", metavar="RUN", help="resubmit the incomplete shards of RUN, then merge"
    )
    return parse


def main(argv: list[str]) -> int:
    own, pytest_args = split_argv(argv)
    args = parser().parse_args(own)
    if args.resume:
        return resume(Path(os.path.abspath(args.resume)), args.dry_run)
    if args.shards is None:
        parser().error("give --shards N (or --resume RUN)")
    plan = make_plan(args, pytest_args)
    shards = list(range(1, plan.shards + 1))
    print(f"the run selects {preflight(plan)} cases; {plan.shards} shards")
    if args.dry_run:
        print(
            f"# {plan.run / SHARD_SCRIPT}\n{shard_script(plan)}\n# {plan.run / MERGE_SCRIPT}\n"
            f"{merge_script(plan)}"
        )
        for command in submission_commands(plan, shards):
            print(shlex.join(command))
        return 0
    write_scripts(plan)
    entry = submit(plan, shards)
    print("\n".join(report_lines(plan, entry)))
    return 0


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """(this command's arguments, the pytest arguments after `--`)."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def resume(run: Path, dry_run: bool) -> int:
    record = run / RECORD
    if not record.is_file():
        raise ConfigError(
            f"{run}: no {RECORD}; --resume takes a run folder made by editbench slurm"
        )
    plan = Plan(**json.loads(record.read_text(encoding="utf-8")))
    problems = {k: shard_problem(run / f"shard-{k}") for k in range(1, plan.shards + 1)}
    redo = [k for k, problem in problems.items() if problem]
    stale = stale_merges(plan, bool(redo))
    for k, problem in problems.items():
        print(f"shard {k}/{plan.shards}: {problem or 'complete'}")
    if not redo and merge_complete(run / MERGED):
        print(f"nothing to resume: every shard is complete and merged into {run / MERGED}")
        return 0
    if dry_run:
        for command in submission_commands(plan, redo):
            print(shlex.join(command))
        return 0
    if stale:  # merge jobs waiting on shards that did not all succeed: they would never start
        slurm_command(["scancel", *stale])
        print(f"cancelled the earlier merge job {', '.join(stale)}")
    for k in redo:
        if (run / f"shard-{k}").exists():
            print(f"shard {k}: moved the incomplete attempt to {aside(run / f'shard-{k}')}")
    if (run / MERGED).exists():
        print(f"moved the earlier merge to {aside(run / MERGED)}")
    entry = submit(plan, redo)
    print("\n".join(report_lines(plan, entry)))
    return 0


def report_lines(plan: Plan, entry: dict[str, Any]) -> list[str]:
    run, array_id, merge_id = plan.run, entry["array_job_id"], entry["merge_job_id"]
    lines = []
    if array_id:
        lines.append(
            f"shards {array_spec(entry['shards'])} of {plan.shards}: array job {array_id} "
            f"(each shard's run folder: {run}/shard-K)"
        )
    lines += [
        f"merge: job {merge_id}, after every shard succeeds; reports in {run / MERGED} "
        "(report.html, report.md, summary.csv)",
        f"watch: squeue --jobs={','.join(filter(None, (array_id, merge_id)))}; each shard's "
        f"live log: {run}/logs/shard-K.job-{array_id or '<id>'}.log",
        f"if a shard fails or its node dies: editbench slurm --resume {run}",
    ]
    return lines
