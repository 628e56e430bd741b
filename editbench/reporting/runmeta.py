"""run.json: what produced a run, written when it starts and completed when it ends.

It holds the config as run, the suite (name, version, manifest and template hashes), editor
and judge (model ids, revisions or folder fingerprints, decoding parameters), seeds, package
versions on both sides, devices, the git revision and the start and end times. The editor's
and judge's own descriptions come from the workers (the `eb.worker` property), because only
they load the models.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from editbench.cache import folder_fingerprint
from editbench.devices import visible_gpus
from editbench.hub import hub_snapshot, is_hub_id
from editbench.shard import parse_shard, shard_cases

SCHEMA = 1
# the packages that move a score: run.json records them on both sides of a run, and compare and
# merge say when two runs differ in one (judging/remote.py keeps its own copy: it stands alone)
SCORE_PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "diffusers",
    "accelerate",
    "pillow",
    "numpy",
)
PACKAGES = ("editbench", *SCORE_PACKAGES, "pytest", "pytest-xdist", "execnet")
# written into an interpreter's prefix by `scripts/lock_envs.py --stamp` when tox installed it
LOCK_STAMP = "editbench-lock.json"
_PART = 1024 * 1024
TINY_NOTE = "tiny randomly initialised checkpoints: the scores measure the pipeline, not the models"

# what run.json records of a Slurm job: field -> the variable Slurm sets in the job
SLURM_FIELDS = {
    "job_id": "SLURM_JOB_ID",
    "array_job_id": "SLURM_ARRAY_JOB_ID",
    "array_task_id": "SLURM_ARRAY_TASK_ID",
    "node": "SLURMD_NODENAME",
    "partition": "SLURM_JOB_PARTITION",
    "cluster": "SLURM_CLUSTER_NAME",
    "cuda_visible_devices": "CUDA_VISIBLE_DEVICES",
    "job_gpus": "SLURM_JOB_GPUS",
}

INTERRUPTED_NOTE = (
    "Interrupted: these reports cover only the cases that finished; rerun the same "
    "command to finish the rest from the cache."
)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def start_meta(
    settings, run_dir: Path, argv: list[str], shard: str | None, fail_under: list[str]
) -> dict[str, Any]:
    """run.json's content at the start of a run (before any model loads)."""
    config, suite = settings.config, settings.suite
    meta = {
        "schema": SCHEMA,
        "run_id": run_dir.name,
        "status": "running",
        "started": now(),
        "finished": None,
        "command": list(argv),
        "host": platform.node(),
        "config_source": config.source,
        "config": config.to_dict(),
        "suite": suite_meta(suite, config.resolve(config.suite.path)),
        "editor": model_meta(config, config.editor, "model_index.json"),
        "judge": {
            **model_meta(config, config.judge, "config.json"),
            "prompt_templates": package_templates(),
        },
        "seeds": {
            "run": config.run.seed,
            "cases": "the case's own seed, else sha256('<run seed>:<case id>') & 0x7fffffff",
        },
        "shard": shard,
        "fail_under": list(fail_under),
        "overlap": {"configured": config.run.overlap, "workers": None},
        "expected_cases": expected_cases(suite, shard),
        "expected_from": "shard",
        "scheduler": scheduler_meta(os.environ),
        "versions": {"controller": versions()},
        "devices": {
            "gpus": settings.gpus,
            "groups": settings.groups,
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        },
        "git": _first_repo(Path(config.base_dir), Path.cwd()),
        "workers": {},
    }
    if any(str(m.get("model") or "").startswith("tiny") for m in (meta["editor"], meta["judge"])):
        meta["note"] = TINY_NOTE
    return meta


def expected_cases(suite, shard: str | None) -> list[str]:
    """The suite's case ids in this run's shard: what the run will cover before -k/-m narrow it.

    The controller replaces the list with the collected cases once collection is known
    (`expected_from: collection`); merge and `editbench slurm --resume` judge coverage by it.
    """
    kept = shard_cases(suite.cases, parse_shard(shard))
    return [case.id for case in suite.cases if case.id in kept]


def scheduler_meta(environ) -> dict[str, Any] | None:
    """Which scheduler job ran this (node, job and array ids, the GPUs it gave); None outside one."""
    if "SLURM_JOB_ID" not in environ:
        return None
    return {
        "name": "slurm",
        **{key: environ.get(name) for key, name in SLURM_FIELDS.items()},
        "gpus": visible_gpus(environ),
    }


def finish_meta(
    meta: dict[str, Any], workers: dict[str, Any], exitstatus: int, gate: list[str]
) -> dict[str, Any]:
    """Complete run.json at the end: workers' descriptions, judge-side versions, end time."""
    interrupted = exitstatus == 2  # pytest.ExitCode.INTERRUPTED (Ctrl-C): the reports are partial
    meta = {
        **meta,
        "status": "interrupted" if interrupted else "finished",
        "finished": now(),
        "exit_status": exitstatus,
        "gate_failures": gate,
        "workers": {**meta.get("workers", {}), **workers},
    }
    if interrupted:
        meta["note"] = " ".join(filter(None, (meta.get("note"), INTERRUPTED_NOTE)))
    first = next(iter(meta["workers"].values()), None)
    if isinstance(first, dict):
        meta["editor"] = {**meta["editor"], "describe": first.get("editor")}
        judge = first.get("judge") or {}
        meta["judge"] = {**meta["judge"], "describe": judge}
        meta["versions"] = {
            **meta["versions"],
            "worker": first.get("versions"),
            "judge": judge.get("versions") if isinstance(judge, dict) else None,
        }
    meta["overlap"] = overlap_meta(meta.get("overlap"), meta["workers"])
    return meta


def overlap_meta(start: dict | None, workers: dict[str, Any]) -> dict[str, Any]:
    """run.overlap as configured, and whether the workers edited ahead: "on", "off" (run.overlap
    false, or -x/--maxfail/--stepwise), "mixed", or None when no worker reported."""
    said = {w.get("overlap") for w in workers.values() if isinstance(w, dict) and "overlap" in w}
    state = None
    if len(said) > 1:
        state = "mixed"
    elif said:
        state = "on" if said.pop() else "off"
    return {**(start or {}), "workers": state}


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename): a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)


def suite_meta(suite, source: Path | None = None) -> dict[str, Any]:
    """What names the suite: name, version, and the hash of its manifest (a native suite's
    cases.jsonl, or the suite file itself), which `editbench merge` compares, not the path."""
    manifest = suite.root / "cases.jsonl" if suite.format == "native" else source
    return {
        "name": suite.name,
        "version": suite.version,
        "format": suite.format,
        "language": suite.language,
        "path": str(suite.root),
        "source": str(source) if source is not None else None,
        "cases": len(suite.cases),
        "categories": [[c.key, c.display] for c in suite.categories],
        "manifest_sha256": file_sha256(manifest) if manifest and manifest.is_file() else None,
        "templates": folder_hashes(suite.templates) if suite.templates else {},
    }


def model_meta(config, section, hub_file: str) -> dict[str, Any]:
    """A config section plus, for a local model folder, its fingerprint, and for a hub id the
    snapshot commit it resolves to in the local cache (`hub_file`: a file every snapshot has)."""
    data = {k: v for k, v in vars(section).items() if k != "scores" or v}
    model = getattr(section, "model", None)
    path = config.resolve(model) if model and not str(model).startswith("tiny:") else None
    if path is not None and path.is_dir():
        data["model_fingerprint"] = folder_fingerprint(path)
    elif is_hub_id(model):
        data["snapshot"] = hub_snapshot(model, getattr(section, "revision", None), hub_file)
    return data


def versions() -> dict[str, Any]:
    """This interpreter's packages (None where not installed) and the lock it came from."""
    found: dict[str, Any] = {
        "python": platform.python_version(),
        "executable": sys.executable,
    }
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["lock"] = lock_stamp()
    return found


def lock_stamp() -> dict[str, Any] | None:
    """The lock this interpreter was installed from (path, sha256), or None: not a locked env."""
    try:
        return json.loads((Path(sys.prefix) / LOCK_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def package_templates() -> dict[str, str]:
    from editbench.protocols.choice import PACKAGED_TEMPLATES

    return folder_hashes(PACKAGED_TEMPLATES) if PACKAGED_TEMPLATES.is_dir() else {}


def folder_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_PART), b""):
            digest.update(block)
    return digest.hexdigest()


def _first_repo(*folders: Path) -> dict[str, Any]:
    """Git facts of the config's folder, else of the working directory (the benchmark's repo)."""
    info: dict[str, Any] = {"revision": None}
    for folder in folders:
        info = git_info(folder)
        if info["revision"]:
            break
    return info


def git_info(folder: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    revision = git("rev-parse", "HEAD")
    if revision is None:
        return {"revision": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "revision": revision,
        "dirty": bool(status),
        "root": git("rev-parse", "--show-toplevel"),
    }
