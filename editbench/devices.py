"""One place decides devices: which GPUs each xdist worker (and its judge) may see.

Workers are pinned through their execnet spawn spec (`popen//env:CUDA_VISIBLE_DEVICES=...`), so
the variable is set before torch touches CUDA, and a worker that replaces a crashed one gets the
same spec and thus the same GPUs.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from editbench.errors import ConfigError


def parse_gpu_list(text: str | None) -> list[str] | None:
    """`"0,1,2"` -> ["0", "1", "2"]; None or "" -> None; "none"/"cpu" -> [] (force CPU)."""
    if text is None:
        return None
    text = text.strip()
    if text.lower() in ("none", "cpu", "-1"):
        return []
    items = [item.strip() for item in text.split(",") if item.strip()]
    for item in items:
        if not (item.isdigit() or item.startswith(("GPU-", "MIG-"))):
            raise ConfigError(
                f"--eb-gpus {text!r}: {item!r} is not a GPU index or UUID; "
                "use e.g. --eb-gpus=0,1,2,3"
            )
    if len(set(items)) != len(items):
        raise ConfigError(f"--eb-gpus {text!r}: a GPU is listed twice")
    return items


def visible_gpus(environ: dict | None = None) -> list[str]:
    """GPUs this process may use: CUDA_VISIBLE_DEVICES if set, else what nvidia-smi lists.

    Inside a Slurm job (SLURM_JOB_ID set) only what Slurm gave counts: it sets
    CUDA_VISIBLE_DEVICES for the GPUs it allocated, so a job without it was given none, and the
    node-wide nvidia-smi list (other jobs' GPUs) is never used. `--eb-gpus` still overrides.
    """
    environ = os.environ if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in environ:
        return parse_gpu_list(environ["CUDA_VISIBLE_DEVICES"]) or []
    if "SLURM_JOB_ID" in environ or shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip().isdigit()]


def unseen_gpus(requested: list[str] | None, visible: list[str]) -> str | None:
    """A warning when `--eb-gpus` names GPUs this machine does not show (None when all is well).

    The run still goes ahead (each worker is pinned to what was asked, and torch then finds no
    CUDA device and runs on CPU), but a user who typed `--eb-gpus 0,1` expects GPUs.
    """
    if not requested:
        return None
    if not visible:
        return (
            f"--eb-gpus {','.join(requested)}: no GPU is visible on this machine (nvidia-smi "
            "lists none, or CUDA_VISIBLE_DEVICES is empty), so the editor and judge will run on "
            "CPU; pass --eb-gpus=none to say so, or run where the GPUs are"
        )
    unseen = [g for g in requested if g.isdigit() and visible and g not in visible]
    if unseen and all(v.isdigit() for v in visible):
        return (
            f"--eb-gpus {','.join(requested)}: GPU {', '.join(unseen)} is not among the visible "
            f"GPUs ({','.join(visible)}); a worker pinned to it finds no CUDA device"
        )
    return None


def gpu_groups(gpus: list[str], per_worker: int) -> list[list[str]]:
    """Split the GPU list into groups of `per_worker`; a remainder that cannot fill a group is an error."""
    if per_worker < 1:
        raise ConfigError(f"--eb-gpus-per-worker {per_worker}: must be at least 1")
    if gpus and len(gpus) % per_worker:
        raise ConfigError(
            f"--eb-gpus-per-worker {per_worker} does not divide the {len(gpus)} GPUs "
            f"{','.join(gpus)}; list a multiple of {per_worker} GPUs with --eb-gpus"
        )
    return [gpus[i : i + per_worker] for i in range(0, len(gpus), per_worker)]


def worker_specs(n_workers: int, groups: list[list[str]]) -> list[str]:
    """The execnet spec of each xdist worker: slot i gets group i (round robin past the end).

    The slot travels too (EDITBENCH_SLOT), so a worker's judge GPU is chosen by its slot, which a
    replacement worker inherits, not by its xdist id, which changes.
    """
    specs = []
    for slot in range(n_workers):
        spec = f"popen//env:EDITBENCH_SLOT={slot}"
        if groups:
            spec += f"//env:CUDA_VISIBLE_DEVICES={','.join(groups[slot % len(groups)])}"
        specs.append(spec)
    return specs


def judge_devices(
    worker_gpus: list[str], judge_gpus: list[str] | None, worker_index: int
) -> list[str]:
    """The GPUs a worker's judge sees: the worker's own by default, else one of the judge GPU list."""
    if not judge_gpus:
        return worker_gpus
    return [judge_gpus[worker_index % len(judge_gpus)]]
