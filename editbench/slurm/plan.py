"""What a Slurm submission needs, read from the request: the `Plan`, saved as slurm.json.

`make_plan` checks `editbench slurm`'s options and the pytest arguments the shards will run with,
reads the run config and lays out the run folder; `preflight` collects the run here, as every
shard will, before anything is queued. The names of the files in a Slurm run folder and the pytest
exit statuses a shard may end with are written here once.
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench.config import load_config
from editbench.errors import ConfigError
from editbench.judging.resolve import judge_python
from editbench.reporting.rundir import new_run_dir

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


def job_environment(plan: Plan) -> dict[str, str]:
    """sbatch's environment: this shell's, with the judge interpreter as an absolute path."""
    return {**os.environ, "EDITBENCH_JUDGE_PYTHON": plan.judge_python}
