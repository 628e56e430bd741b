"""The `replay` editor: evaluates edits another tool produced, read from a folder.

An edit is found at `<dir>/<case id>.png`, else at `<dir>/<category display name>/<pair id>.png`
(the layout of existing image-edit benchmarks: one folder per category, files named by the
source image's stem). An editbench run folder (it has results.jsonl) is read in its own layout,
`images/<category key>/<test id>.edited.png`: rescoring a run's edits with another judge never
runs the editor again. A missing file fails that case, naming every path tried.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from editbench.config import Config
from editbench.editors import EditRequest
from editbench.errors import CaseError, ConfigError
from editbench.images import read_image_file

RUN_MARKER = "results.jsonl"  # what makes a folder an editbench run folder


class ReplayEditor:
    name = "replay"

    def __init__(self, config: Config, device: str) -> None:
        self.root = _replay_dir(config)
        self.run_folder = (self.root / RUN_MARKER).is_file()

    @staticmethod
    def check(config: Config) -> None:
        _replay_dir(config)

    def describe(self) -> dict[str, Any]:
        contents = _listing_hash(self.root / "images" if self.run_folder else self.root)
        return {
            "backend": self.name,
            "model": None,
            "replay_dir": str(self.root),
            "layout": "run folder" if self.run_folder else "files",
            "contents": contents,
        }

    def candidates(self, request: EditRequest) -> list[Path]:
        case = request.case
        if self.run_folder:
            return [self.root / "images" / case.category.key / f"{case.test_id}.edited.png"]
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
        if self.run_folder:
            raise CaseError(
                f"case {request.case.id}: no edit of it in the run folder {self.root} "
                f"(looked for {paths[0]}: that run did not run the case or its edit "
                "failed); select the run's cases with -k or rerun its edit"
            )
        raise CaseError(
            f"case {request.case.id}: no replayed edit; looked for "
            f"{' and '.join(str(p) for p in paths[:2])}"
            + (f" (and {len(paths) - 2} other category names)" if len(paths) > 2 else "")
            + "; add the file or remove the case from the run"
        )


def _listing_hash(root: Path) -> str:
    """Names, sizes and modification times of the folder's files: a changed file misses the cache."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []:
        stat = path.stat()
        digest.update(
            f"{path.relative_to(root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()[:16]


def _replay_dir(config: Config) -> Path:
    value = config.editor.replay_dir
    if not value:
        raise ConfigError(
            f"{config.source}: editor.replay_dir: the replay backend needs the folder of "
            "edited images (<dir>/<case id>.png or <dir>/<category>/<pair id>.png)"
        )
    given = Path(config.base_dir) / os.path.expanduser(value)
    if given.name == "latest" and given.is_symlink():
        raise ConfigError(
            f"{config.source}: editor.replay_dir: {value} is the link each new run "
            f"points at itself, so a run would replay its own, empty folder; name the "
            f"run folder itself: {given.resolve()}"
        )
    root = config.resolve(value)
    if not root.is_dir():
        raise ConfigError(
            f"{config.source}: editor.replay_dir: folder {root} does not exist; fix the "
            "path (relative paths resolve against the config file's folder)"
        )
    return root
