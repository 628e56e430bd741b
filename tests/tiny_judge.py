"""Test helpers for the judge: the judge interpreter to use and the tiny Qwen3-VL judge folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def judge_python() -> str:
    """$EDITBENCH_JUDGE_PYTHON, else the tox judge env (`tox -e judge`)."""
    for candidate in (
        os.environ.get("EDITBENCH_JUDGE_PYTHON"),
        REPO / ".tox" / "judge" / "bin" / "python",
    ):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    raise RuntimeError("no judge interpreter: run `tox -e judge` or set EDITBENCH_JUDGE_PYTHON")


def tiny_judge_folder() -> Path:
    """The tiny judge checkpoint, built once per source version (editbench.tiny's cache when it has one)."""
    try:
        from editbench.tiny import ensure_tiny
    except ImportError:
        ensure_tiny = None
    if ensure_tiny is not None:
        return Path(ensure_tiny("qwen3-vl"))
    from editbench.tiny.judge import build_tiny_judge

    sources = b"".join(
        (REPO / "editbench" / "tiny" / n).read_bytes() for n in ("judge.py", "tokenizer.py")
    )
    folder = (
        Path(tempfile.gettempdir())
        / f"editbench-tiny-judge-{hashlib.sha256(sources).hexdigest()[:12]}"
    )
    if not (folder / "model.safetensors").is_file():
        partial = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        build_tiny_judge(partial, seed=0)
        try:
            partial.rename(folder)
        except OSError:  # another process won the race
            shutil.rmtree(partial, ignore_errors=True)
    return folder
