"""Tiny random checkpoints, built locally: the editor (`qwen-image-edit`) and the judge (`qwen3-vl`).

`editbench make-tiny DIR` writes both folders; `ensure_tiny(name)` builds one into a cache folder
on first use (`$EDITBENCH_TINY_DIR`, else `~/.cache/editbench/tiny/<FORMAT>`), so configs can
say `model: tiny:qwen-image-edit`. A build goes to a temporary folder that is renamed into place
when complete, under a file lock, so xdist workers starting together build it once and never
see half a checkpoint.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import importlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from editbench.errors import ConfigError


def _builders_digest() -> str:
    """A hash of the builders' source: a changed builder never reuses a stale cached checkpoint."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("editor.py", "judge.py", "tokenizer.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


FORMAT = _builders_digest()
PREFIX = "tiny:"
COMPLETE = ".editbench-tiny-complete"


def _build_editor(folder: Path, seed: int) -> None:
    from editbench.tiny.editor import build_tiny_editor

    build_tiny_editor(folder, seed)


def _build_judge(folder: Path, seed: int) -> None:
    from editbench.tiny.judge import build_tiny_judge

    build_tiny_judge(folder, seed)


BUILDERS: dict[str, Callable[[Path, int], None]] = {
    "qwen-image-edit": _build_editor,
    "qwen3-vl": _build_judge,
}


def tiny_name(model: str | None) -> str | None:
    """`tiny:qwen-image-edit` -> `qwen-image-edit`; anything else -> None."""
    if model and model.startswith(PREFIX):
        return model[len(PREFIX) :]
    return None


def check_name(name: str, key: str, allowed: tuple[str, ...] | None = None) -> None:
    """Raise a ConfigError naming the config key when `name` is no tiny checkpoint we build."""
    known = allowed or tuple(BUILDERS)
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {PREFIX}{close[0]}?" if close else ""
    raise ConfigError(
        f"{key}: unknown tiny checkpoint {PREFIX}{name}{hint} "
        f"(known: {', '.join(PREFIX + k for k in known)})"
    )


def cache_root() -> Path:
    explicit = os.environ.get("EDITBENCH_TINY_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    return Path("~/.cache/editbench/tiny").expanduser() / FORMAT


def ensure_tiny(name: str, root: Path | None = None, seed: int = 0) -> Path:
    """The folder of tiny checkpoint `name`, built on first use; safe under concurrent callers."""
    check_name(name, "model")
    root = Path(root) if root is not None else cache_root()
    folder = root / name
    if (folder / COMPLETE).is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / f".{name}.lock"):
        if not (folder / COMPLETE).is_file():
            _build_into(folder, name, seed)
    return folder


def build(name: str, folder: Path, seed: int = 0) -> Path:
    """Build checkpoint `name` into `folder` (replacing an older one) atomically."""
    check_name(name, "name")
    folder.parent.mkdir(parents=True, exist_ok=True)
    _build_into(folder, name, seed)
    return folder


def _build_into(folder: Path, name: str, seed: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=folder.parent))
    try:
        with _quiet_libraries():
            BUILDERS[name](tmp, seed)
        (tmp / COMPLETE).write_text(f"{name} format {FORMAT} seed {seed}\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.rename(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _quiet_libraries():
    """diffusers and transformers log errors only and draw no progress bars while a build runs.

    A build happens inside a benchmark run (first use), where a "Writing model shards" bar and
    "self.tokenizer=None ... cannot be saved" (the builder leaves those components out on
    purpose) would land between pytest's lines. Their settings are restored afterwards.
    """
    restore = []
    for library in ("diffusers", "transformers"):
        try:
            logs = importlib.import_module(f"{library}.utils.logging")
        except ImportError:
            continue
        restore.append((logs, logs.get_verbosity(), logs.is_progress_bar_enabled()))
        logs.set_verbosity_error()
        logs.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logs, level, bars in restore:
            logs.set_verbosity(level)
            if bars:
                logs.enable_progress_bar()


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock between processes (POSIX flock; elsewhere the atomic rename suffices)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
