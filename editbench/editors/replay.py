"""The `replay` editor: evaluates edits another tool produced, read from a folder.

An edit is found where the folder's layout puts it:
- an editbench run folder (it has results.jsonl): `images/<category key>/<test id>.edited.png`,
  so rescoring a run's edits with another judge never runs the editor again;
- `editor.replay_layout: gedit | imgedit | kris | rise`: where that benchmark's official scorer
  reads it (e.g. GEdit's `<dir>/fullset/<task type>/<en|cn>/<key>.png`), so any model's
  published outputs can be scored by editbench's judge;
- otherwise `<dir>/<case id>.png`, else `<dir>/<category display name>/<pair id>.png` (one
  folder per category, files named by the source image's stem).
A missing file fails that case, naming every path tried.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from editbench.config import Config
from editbench.editors import EditRequest
from editbench.errors import CaseError, ConfigError, SuiteError
from editbench.images import read_image_file
from editbench.suites import detect
from editbench.suites.layouts import NAMES, candidates

RUN_MARKER = "results.jsonl"  # what makes a folder an editbench run folder


class ReplayEditor:
    name = "replay"
    max_images = None  # the edit already exists: any number of inputs

    def __init__(self, config: Config, device: str) -> None:
        self.root = _replay_dir(config)
        self.run_folder = (self.root / RUN_MARKER).is_file()
        self.layout = config.editor.replay_layout

    @staticmethod
    def check(config: Config) -> None:
        _replay_dir(config)
        _check_layout(config)

    def describe(self) -> dict[str, Any]:
        contents = _listing_hash(self.root / "images" if self.run_folder else self.root)
        return {
            "backend": self.name,
            "model": None,
            "replay_dir": str(self.root),
            "layout": self.layout or ("run folder" if self.run_folder else "files"),
            "contents": contents,
        }

    def candidates(self, request: EditRequest) -> list[Path]:
        case = request.case
        if self.run_folder:
            return [self.root / "images" / case.category.key / f"{case.test_id}.edited.png"]
        if self.layout:
            if not case.output_stem:
                raise CaseError(
                    f"case {case.id}: editor.replay_layout {self.layout} reads edits of "
                    f"{NAMES[self.layout]} cases only; set suite.format: {self.layout}"
                )
            return candidates(self.root, case.output_stem, self.layout)
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
            + (f" (and {len(paths) - 2} other {_others(self.layout)})" if len(paths) > 2 else "")
            + "; add the file or remove the case from the run"
        )


def _others(layout: str | None) -> str:
    return "extensions" if layout else "category names"


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
            "edited images (<dir>/<case id>.png or <dir>/<category>/<pair id>.png, a run "
            "folder, or a benchmark's layout with editor.replay_layout)"
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


def _check_layout(config: Config) -> None:
    """A layout is read for cases of the same benchmark only: checked before any case runs."""
    layout = config.editor.replay_layout
    if not layout:
        return
    fmt = config.suite.format
    if fmt == "auto":
        try:
            fmt = (
                "gedit"
                if config.suite.path.startswith("hf://")
                else detect(config.resolve(config.suite.path))
            )
        except (OSError, SuiteError):
            return  # the suite reader reports an unreadable suite itself
    if fmt != layout:
        raise ConfigError(
            f"{config.source}: editor.replay_layout {layout}: the suite is read as "
            f"{fmt}, but this layout holds {NAMES[layout]} edits; set suite.format: "
            f"{layout} with its data, or pick the layout of the suite's benchmark"
        )
