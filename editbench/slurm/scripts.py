"""The two batch scripts of a Slurm run (the shards' array, the merge) and their sbatch lines.

Array task K runs `pytest -n auto --eb-shard=K/N --eb-run-dir=RUN/shard-K PYTEST ARGS`; the merge
job runs `editbench merge` of every shard into RUN/merged. Both scripts are written into the run
folder, so what was submitted can be read there.
"""

from __future__ import annotations

import shlex

from editbench.slurm.plan import DONE_STATUSES, MERGE_SCRIPT, MERGED, SHARD_SCRIPT, Plan


def directives(plan: Plan, name: str, log: str) -> list[str]:
    """#SBATCH lines shared by both scripts (the per-submission --array/--dependency stay outside)."""
    options = [
        f"--job-name={name}",
        f"--output={plan.run / 'logs' / log}",
        f"--chdir={plan.cwd}",
        f"--export={','.join(plan.export)}",
    ]
    if plan.partition:
        options.append(f"--partition={plan.partition}")
    if plan.time:
        options.append(f"--time={plan.time}")
    return [f"#SBATCH {option}" for option in options + plan.sbatch_args]


def shard_command(plan: Plan) -> str:
    """The shard's pytest command line; `$K` (the array task's shard number) stays a shell variable."""
    head = [
        plan.python,
        "-m",
        "pytest",
        "-n",
        "auto",
        "-p",
        "no:cacheprovider",
        f"--eb-config={plan.config}",
    ]
    run_dir = shlex.quote(f"--eb-run-dir={plan.run / 'shard-'}")
    return (
        f'{shlex.join(head)} --eb-shard="$K"/{plan.shards} {run_dir}"$K" '
        f"{shlex.join(plan.pytest_args)}"
    ).rstrip()


def shard_script(plan: Plan) -> str:
    gpus = [f"#SBATCH --gres=gpu:{plan.gpus_per_shard}"] if plan.gpus_per_shard else []
    lines = [
        "#!/bin/bash",
        *directives(plan, f"shard:{plan.run.name}", "shard-%a.job-%A.log"),
        *gpus,
        f"# editbench slurm: array task K runs shard K of {plan.shards} into {plan.run}/shard-K",
        "export PYTHONUNBUFFERED=1  # the log shows progress as it happens",
        "K=$SLURM_ARRAY_TASK_ID",
        'echo "editbench shard $K/' + str(plan.shards) + " on $(hostname): job "
        '${SLURM_ARRAY_JOB_ID}_$K, GPUs ${CUDA_VISIBLE_DEVICES-none}"',
        shard_command(plan),
        "status=$?",
        'echo "editbench shard $K: pytest exited $status"',
        "# 1 = some cases failed (they are results) and 5 = no case selected: the shard is done",
        f'case $status in {"|".join(map(str, DONE_STATUSES))}) exit 0 ;; *) exit "$status" ;; esac',
    ]
    return "\n".join(lines) + "\n"


def merge_script(plan: Plan) -> str:
    shards = [str(plan.run / f"shard-{k}") for k in range(1, plan.shards + 1)]
    command = [plan.python, "-m", "editbench.cli", "merge", *shards, "-o", str(plan.run / MERGED)]
    lines = [
        "#!/bin/bash",
        *directives(plan, f"merge:{plan.run.name}", "merge.job-%j.log"),
        f"# editbench slurm: merge the {plan.shards} shards of {plan.run} once all have finished",
        shlex.join(command),
    ]
    return "\n".join(lines) + "\n"


def write_scripts(plan: Plan) -> None:
    plan.run.mkdir(parents=True, exist_ok=True)
    (plan.run / SHARD_SCRIPT).write_text(shard_script(plan), encoding="utf-8")
    (plan.run / MERGE_SCRIPT).write_text(merge_script(plan), encoding="utf-8")


def array_spec(shards: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3,5" (Slurm's --array syntax)."""
    parts, start = [], None
    for index, shard in enumerate(shards):
        start = shard if start is None else start
        if index + 1 == len(shards) or shards[index + 1] != shard + 1:
            parts.append(str(start) if start == shard else f"{start}-{shard}")
            start = None
    return ",".join(parts)


def submission_commands(
    plan: Plan, shards: list[int], array_id: str = "<array job id>"
) -> list[list[str]]:
    merge_options = (
        [f"--dependency=afterok:{array_id}", "--kill-on-invalid-dep=yes"] if shards else []
    )
    return [
        ["sbatch", "--parsable", f"--array={array_spec(shards)}", str(plan.run / SHARD_SCRIPT)],
        ["sbatch", "--parsable", *merge_options, str(plan.run / MERGE_SCRIPT)],
    ]
