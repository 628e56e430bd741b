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
import configparser
import getpass
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from editbench.config import load_config
from editbench.errors import ConfigError
from editbench.judging.resolve import judge_python
from editbench.reporting.rundir import RESULTS, RUN_META, new_run_dir
from editbench.reporting.runmeta import now, write_json

RECORD = "slurm.json"
SHARD_SCRIPT = "shards.sbatch"
MERGE_SCRIPT = "merge.sbatch"
MERGED = "merged"
# what the jobs get from the submitting shell (names only: Slurm copies their values)
EXPORT_NAMES = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONUTF8",
    "TRANSFORMERS_OFFLINE",
)
EXPORT_PREFIXES = ("EDITBENCH_", "HF_")
# pytest exit statuses a shard may end with and still be done: 1 = some cases failed (their
# failures are results), 5 = no test collected (a shard that -k left empty)
DONE_STATUSES = (0, 1, 5)
OWNED_OPTIONS = ("--eb-shard", "--eb-run-dir")


@dataclass
class Plan:
    """Everything a submission needs; saved as slurm.json so `--resume` submits the same jobs."""

    run_dir: str
    shards: int
    cwd: str
    python: str
    config: str
    pytest_args: list[str]
    export: list[str]
    judge_python: str
    gpus_per_shard: int | None = None
    partition: str | None = None
    time: str | None = None
    sbatch_args: list[str] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def run(self) -> Path:
        return Path(self.run_dir)


# -- scripts -------------------------------------------------------------------------------------


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


# -- planning ------------------------------------------------------------------------------------


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """(this command's arguments, the pytest arguments after `--`)."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def option_values(args: list[str], name: str) -> list[str]:
    """Values of `--name=V` and `--name V` in a pytest argument list."""
    values = []
    for index, arg in enumerate(args):
        if arg.startswith(name + "="):
            values.append(arg.split("=", 1)[1])
        elif arg == name and index + 1 < len(args):
            values.append(args[index + 1])
    return values


def without_option(args: list[str], name: str) -> list[str]:
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            kept.append(arg)
    return kept


def config_path(pytest_args: list[str], cwd: Path) -> Path:
    """`--eb-config` from the pytest arguments, else the `eb_config` of ./pytest.ini; absolute."""
    given = option_values(pytest_args, "--eb-config")
    if given:
        return Path(os.path.abspath(cwd / given[-1]))
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(cwd / "pytest.ini", encoding="utf-8")
    if ini.has_option("pytest", "eb_config"):
        return Path(os.path.abspath(cwd / ini.get("pytest", "eb_config")))
    raise ConfigError(
        f"no run config: pass --eb-config=PATH after --, or run from a checkout whose "
        f"pytest.ini names eb_config ({cwd / 'pytest.ini'} does not)"
    )


def export_names(environ: dict[str, str], extra: list[str]) -> list[str]:
    """The variables the jobs get: the harness's (EDITBENCH_*, HF_*, PATH, ...) and `--env` ones.

    CUDA_VISIBLE_DEVICES is never among them: inside a job, Slurm sets it to the GPUs it gave.
    """
    for name in extra:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name == "CUDA_VISIBLE_DEVICES":
            raise ConfigError(
                f"--env {name!r}: give a variable name (not CUDA_VISIBLE_DEVICES, which "
                "Slurm sets to the job's GPUs)"
            )
    names = [n for n in environ if n.startswith(EXPORT_PREFIXES)] + list(EXPORT_NAMES) + list(extra)
    names.append("EDITBENCH_JUDGE_PYTHON")
    return sorted({n for n in names if n in environ or n == "EDITBENCH_JUDGE_PYTHON"})


def make_plan(args: argparse.Namespace, pytest_args: list[str]) -> Plan:
    """Check the request, read the run config and lay out the run (`preflight` runs the full checks)."""
    if args.shards < 1:
        raise ConfigError(f"--shards {args.shards}: give at least 1")
    if args.gpus_per_shard is not None and args.gpus_per_shard < 1:
        raise ConfigError(
            f"--gpus-per-shard {args.gpus_per_shard}: give at least 1, or leave it out"
        )
    for name in OWNED_OPTIONS:
        if option_values(pytest_args, name) or name in pytest_args:
            raise ConfigError(
                f"{name} is set by editbench slurm for each shard; remove it from the "
                "pytest arguments (use --run-dir=DIR for the run folder)"
            )
    for arg in args.sbatch_arg:
        if not arg.startswith("-") or "\n" in arg:
            raise ConfigError(
                f"--sbatch-arg={arg!r}: give one sbatch option, e.g. "
                "--sbatch-arg=--account=myproject"
            )
    cwd = Path.cwd()
    config_file = config_path(pytest_args, cwd)
    config = load_config(config_file, option_values(pytest_args, "--eb-set"))
    run_dir = new_run_dir(config, os.path.abspath(args.run_dir) if args.run_dir else None)
    if (run_dir / RECORD).exists():
        raise ConfigError(
            f"{run_dir} already holds a Slurm run ({RECORD}); choose a new --run-dir, "
            f"or finish that one with: editbench slurm --resume {run_dir}"
        )
    return Plan(
        run_dir=str(run_dir),
        shards=args.shards,
        cwd=str(cwd),
        python=sys.executable,
        config=str(config_file),
        pytest_args=without_option(pytest_args, "--eb-config"),
        export=export_names(dict(os.environ), args.env),
        judge_python=str(judge_python(config)),
        gpus_per_shard=args.gpus_per_shard,
        partition=args.partition,
        time=args.time,
        sbatch_args=list(args.sbatch_arg),
    )


def preflight(plan: Plan) -> int:
    """Collect the run here, as every shard will (same plugins, config checks and selection), so a
    bad config or an empty selection fails now rather than in N queued jobs; returns the case count.
    """
    command = [
        plan.python,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--eb-config={plan.config}",
        *plan.pytest_args,
    ]
    done = subprocess.run(
        command,
        cwd=plan.cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=job_environment(plan),
    )
    selected = [line for line in done.stdout.splitlines() if "::test_edit[" in line]
    if done.returncode != 0 or not selected:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ConfigError(
            f"the shards' pytest command fails to start or selects no case here "
            f"(exit status {done.returncode}), so nothing was submitted:\n"
            f"{shlex.join(command)}\n{tail}"
        )
    return len(selected)


# -- submitting ----------------------------------------------------------------------------------


def array_spec(shards: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3,5" (Slurm's --array syntax)."""
    parts, start = [], None
    for index, shard in enumerate(shards):
        start = shard if start is None else start
        if index + 1 == len(shards) or shards[index + 1] != shard + 1:
            parts.append(str(start) if start == shard else f"{start}-{shard}")
            start = None
    return ",".join(parts)


def job_environment(plan: Plan) -> dict[str, str]:
    """sbatch's environment: this shell's, with the judge interpreter as an absolute path."""
    return {**os.environ, "EDITBENCH_JUDGE_PYTHON": plan.judge_python}


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


def write_scripts(plan: Plan) -> None:
    plan.run.mkdir(parents=True, exist_ok=True)
    (plan.run / SHARD_SCRIPT).write_text(shard_script(plan), encoding="utf-8")
    (plan.run / MERGE_SCRIPT).write_text(merge_script(plan), encoding="utf-8")


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


# -- resuming ------------------------------------------------------------------------------------


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


def resume(run: Path, dry_run: bool) -> int:
    record = run / RECORD
    if not record.is_file():
        raise ConfigError(
            f"{run}: no {RECORD}; --resume takes a run folder made by editbench slurm"
        )
    plan = Plan(**json.loads(record.read_text(encoding="utf-8")))
    problems = {k: shard_problem(run / f"shard-{k}") for k in range(1, plan.shards + 1)}
    redo = [k for k, problem in problems.items() if problem]
    stale = _stale_merges(plan, bool(redo))
    for k, problem in problems.items():
        print(f"shard {k}/{plan.shards}: {problem or 'complete'}")
    if not redo and _merged(run / MERGED):
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


def _stale_merges(plan: Plan, shards_to_redo: bool) -> list[str]:
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


def _merged(folder: Path) -> bool:
    """A complete merge: run.json says merged (not partial) and the summary is written."""
    meta = folder / RUN_META
    return (
        meta.is_file()
        and (folder / "summary.json").is_file()
        and json.loads(meta.read_text(encoding="utf-8")).get("status") == "merged"
    )


def _states(jobs: dict[str, str]) -> str:
    return ", ".join(f"{job} {state}" for job, state in sorted(jobs.items()))


# -- command line --------------------------------------------------------------------------------


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
