"""The `replay` editor: evaluates edits another tool produced, read from a folder.

An edit is found at `<dir>/<case id>.png`, else at `<dir>/<category display name>/<pair id>.png`
(the layout of existing image-edit benchmarks: one folder per category, files named by the
source image's stem). A missing file fails that case, naming every path tried.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from editbench.config import Config
from editbench.editors import EditRequest
from editbench.errors import CaseError, ConfigError
from editbench.images import read_image_file


class ReplayEditor:
    name = "replay"

    def __init__(self, config: Config, device: str) -> None:
        self.root = _replay_dir(config)

    @staticmethod
    def check(config: Config) -> None:
        _replay_dir(config)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": None, "replay_dir": str(self.root),
                "contents": _listing_hash(self.root)}

    def candidates(self, request: EditRequest) -> list[Path]:
        case = request.case
        paths = [self.root / f"{case.id}.png"]
        for name in dict.fromkeys((case.category.display, *case.category.names, case.category.key)):
            paths.append(self.root / name / f"{case.pair_id}.png")
        return paths

    def edit(self, request: EditRequest):
        paths = self.candidates(request)
        for path in paths:
            if path.is_file():
                image, _ = read_image_file(path, f"replayed edit of case {request.case.id}")
                return image
        raise CaseError(f"case {request.case.id}: no replayed edit; looked for "
                        f"{' and '.join(str(p) for p in paths[:2])}"
                        + (f" (and {len(paths) - 2} other category names)" if len(paths) > 2 else "")
                        + "; add the file or remove the case from the run")


def _listing_hash(root: Path) -> str:
    """Names, sizes and modification times of the folder's files: a changed file misses the cache."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _replay_dir(config: Config) -> Path:
    value = config.editor.replay_dir
    if not value:
        raise ConfigError(f"{config.source}: editor.replay_dir: the replay backend needs the folder of "
                          "edited images (<dir>/<case id>.png or <dir>/<category>/<pair id>.png)")
    root = config.resolve(value)
    if not root.is_dir():
        raise ConfigError(f"{config.source}: editor.replay_dir: folder {root} does not exist; fix the "
                          "path (relative paths resolve against the config file's folder)")
    return root
