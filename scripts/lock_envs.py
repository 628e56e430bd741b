"""The exact-version locks the tox environments install from: regenerate, check, stamp.

    python -m tox -e lock                # regenerate envs/lock/cpu/*.txt (uv pip compile)
    python -m tox -e lock -- --gpu       # on a GPU machine: envs/lock/gpu/*.txt, CUDA torch
    python scripts/lock_envs.py --check  # exit 1 when an input changed since its lock

The requirement files under envs/ are the human-edited input; a lock is their resolution on the
day it was made, written by `uv pip compile` for this Python and platform. Each lock's first
line holds the sha256 of its inputs (the requirement files, the constraints, the project's own
dependencies in pyproject.toml), so `--check` (and tests/unit/test_locks.py) sees a requirement
edited without relocking, with no network.

`--stamp NAME` runs inside a tox environment right after tox installed it from lock NAME: it
compares every locked package with what is installed, fails on the first difference, and
writes `<sys.prefix>/editbench-lock.json` (the lock's path and sha256). run.json reads that
stamp on both sides of a run, so a score names the lock its interpreters were installed from.

Standard library only: the judge's environment runs `--stamp` and has no editbench.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_DIR = ROOT / "envs" / "lock"
STAMP_NAME = "editbench-lock.json"
# lock name -> its inputs; "pyproject" is the project's own [project] dependencies
LOCKS = {
    "judge": ("envs/judge.txt",),
    "editor-legacy": ("envs/editor-legacy.txt", "envs/tests.txt", "pyproject"),
    "tests": ("envs/editor.txt", "envs/tests.txt", "pyproject"),
}
CONSTRAINTS = {"cpu": "envs/constraints-cpu.txt", "gpu": "envs/constraints-gpu.txt"}
HEADER = re.compile(r"^# editbench-lock inputs-sha256=(?P<digest>[0-9a-f]{64})\b")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)")


class LockError(Exception):
    """A lock that is missing, stale, or does not match what is installed."""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_dependencies(root: Path = ROOT) -> list[str]:
    import tomllib  # Python 3.11; --stamp (any interpreter) never reads pyproject.toml

    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def inputs_digest(name: str, flavour: str, root: Path = ROOT) -> str:
    """sha256 over a lock's inputs: each requirement file's bytes, the constraints, the
    project's dependency list, and the Python minor version the lock resolves for."""
    digest = hashlib.sha256(f"{flavour} python{sys.version_info[0]}.{sys.version_info[1]}".encode())
    for source in (*LOCKS[name], CONSTRAINTS[flavour]):
        if source == "pyproject":
            data = "\n".join(project_dependencies(root)).encode()
        else:
            data = (root / source).read_bytes()
        digest.update(f"\0{source}\0".encode() + data)
    return digest.hexdigest()


def lock_path(name: str, flavour: str, root: Path = ROOT) -> Path:
    return root / "envs" / "lock" / flavour / f"{name}.txt"


def pins(path: Path) -> dict[str, str]:
    """A lock's `name==version` lines, by normalised name."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            found[normalise(match["name"])] = match["version"]
    return found


def stale(flavour: str = "cpu", root: Path = ROOT) -> list[str]:
    """One line per lock whose inputs changed since it was written (or that is missing)."""
    problems = []
    for name in LOCKS:
        path = lock_path(name, flavour, root)
        if not path.is_file():
            problems.append(f"{path.relative_to(root)}: missing")
            continue
        match = HEADER.match(path.read_text(encoding="utf-8").partition("\n")[0])
        if not match or match["digest"] != inputs_digest(name, flavour, root):
            sources = ", ".join(_sources(name))
            problems.append(
                f"{path.relative_to(root)}: its inputs changed since it was written ({sources}, "
                f"{CONSTRAINTS[flavour]}); regenerate the locks with `python -m tox -e lock`"
            )
    return problems


def _sources(name: str) -> list[str]:
    return ["pyproject.toml" if s == "pyproject" else s for s in LOCKS[name]]


def compile_lock(name: str, flavour: str, upgrade: bool) -> Path:
    """Resolve one lock with `uv pip compile` and write it with the inputs' digest on top."""
    uv = shutil.which("uv") or sys.exit("lock: uv is not installed (python -m pip install uv)")
    out = lock_path(name, flavour)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate"]
    command += ["--python-version", f"{sys.version_info[0]}.{sys.version_info[1]}"]
    command += ["-c", CONSTRAINTS[flavour], "-o", str(out)]
    # the CPU build of torch is a local file on CPU machines (pip's find-links); uv reads no pip.conf
    for folder in os.environ.get("PIP_FIND_LINKS", "").split():
        command += ["--find-links", folder]
    if upgrade:
        command.append("--upgrade")
    command += _sources(name)
    subprocess.run(command, cwd=ROOT, check=True)
    body = out.read_text(encoding="utf-8")
    if flavour == "cpu" and re.search(r"^nvidia-", body, re.M):
        out.unlink()
        sys.exit(
            f"lock: {name} resolved a CUDA build of torch for the CPU lock; put the CPU wheel's "
            "folder in PIP_FIND_LINKS (or use --gpu on a GPU machine)"
        )
    header = (
        f"# editbench-lock inputs-sha256={inputs_digest(name, flavour)}\n"
        f"# {flavour} lock of {', '.join(_sources(name))} for Python "
        f"{sys.version_info[0]}.{sys.version_info[1]} on {sys.platform}; written by "
        "`python -m tox -e lock`. Do not edit: change the requirement files and relock.\n"
    )
    out.write_text(header + body, encoding="utf-8")
    return out


def installed_mismatches(lock: Path) -> list[str]:
    """Locked packages whose installed version differs from the lock (or that are missing)."""
    installed = {normalise(d.metadata["Name"]): d.version for d in metadata.distributions()}
    return [
        f"{name}: locked {version}, installed {installed.get(name, 'nothing')}"
        for name, version in sorted(pins(lock).items())
        if installed.get(name) != version
    ]


def stamp(name: str, flavour: str) -> Path:
    """Check this interpreter against lock `name`, then record which lock it came from."""
    lock = lock_path(name, flavour)
    wrong = installed_mismatches(lock)
    if wrong:
        sys.exit(f"lock: {sys.prefix} differs from {lock.relative_to(ROOT)}: " + "; ".join(wrong))
    record = {
        "lock": f"envs/lock/{flavour}/{name}.txt",
        "sha256": hashlib.sha256(lock.read_bytes()).hexdigest(),
        "packages": len(pins(lock)),
    }
    out = Path(sys.prefix) / STAMP_NAME
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lock_envs", description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="the CUDA locks (envs/lock/gpu/)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a lock is stale")
    parser.add_argument("--stamp", metavar="NAME", choices=sorted(LOCKS), help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep locked versions that still fit")
    parser.add_argument("names", nargs="*", help=f"locks to write: {', '.join(LOCKS)} (all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(LOCKS))
    if unknown:
        parser.error(f"unknown lock {', '.join(unknown)}; the locks are {', '.join(LOCKS)}")
    flavour = "gpu" if args.gpu else os.environ.get("EDITBENCH_LOCKS", "cpu")
    if args.stamp:
        print(f"lock: {stamp(args.stamp, flavour)}")
        return 0
    if args.check:
        problems = stale(flavour)
        print("\n".join(problems) or f"lock: every {flavour} lock matches its inputs")
        return 1 if problems else 0
    for name in args.names or LOCKS:
        print(f"lock: wrote {compile_lock(name, flavour, upgrade=not args.keep)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
