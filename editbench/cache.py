"""A content-addressed store for edits and scores.

A key is the SHA-256 of the canonical JSON of everything that determines the value (backend,
model and revision, parameters, seed, input hashes, prompt text); a rerun with the same inputs
finds it, any change misses. Writes are atomic (temp file + rename), so concurrent xdist
workers and an interrupted run never leave a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

WHOLE_FILE = 64 << 20  # files above this are fingerprinted by size, first and last MiB
_PART = 1 << 20


def folder_fingerprint(folder: Path) -> str:
    """A checkpoint folder's identity: every file's path, size and content (big files by head and tail).

    Hidden files (build markers, locks) are left out, so building or locking a folder does not
    change it. This keys caches and goes into run.json for models given as local folders.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        size = path.stat().st_size
        digest.update(f"{relative}\0{size}\0".encode())
        with open(path, "rb") as handle:
            if size <= WHOLE_FILE:
                for block in iter(lambda: handle.read(_PART), b""):
                    digest.update(block)
            else:
                digest.update(handle.read(_PART))
                handle.seek(size - _PART)
                digest.update(handle.read(_PART))
    return digest.hexdigest()


def cache_key(parts: dict[str, Any]) -> str:
    canonical = json.dumps(
        parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Cache:
    def __init__(self, root: Path | None) -> None:
        self.root = root

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / key

    def get(self, kind: str, key: str) -> bytes | None:
        if self.root is None:
            return None
        try:
            return self._path(kind, key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, kind: str, key: str, data: bytes) -> None:
        if self.root is None:
            return
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_json(self, kind: str, key: str) -> Any:
        data = self.get(kind, key)
        return None if data is None else json.loads(data)

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self.put(kind, key, json.dumps(value, ensure_ascii=False).encode("utf-8"))
