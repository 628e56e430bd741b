"""State of one editbench run: what every process knows (`Settings`) and what only the controller does.

The controller creates the run folder, appends each finished case to `results.jsonl` as its
report arrives (flushed, so a crash loses nothing finished), and writes the summaries at the end.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench import editors, judging
from editbench.cases import Suite, load_suite
from editbench.config import Config, load_config
from editbench.reporting.summary import summarize, table_lines
from editbench.devices import gpu_groups, parse_gpu_list, visible_gpus


@dataclass
class Settings:
    """Validated once at startup, identical in the controller and in every worker."""

    config: Config
    suite: Suite
    gpus: list[str]
    groups: list[list[str]]

    @property
    def language(self) -> str:
        return self.config.suite.language


def load_settings(config_path: str | None, overrides: list[str], gpus: str | None = None,
                  gpus_per_worker: int = 1) -> Settings:
    """Read and check everything a run needs, loading no model; raises EditbenchError subclasses."""
    config = load_config(config_path, overrides)
    suite = load_suite(config.resolve(config.suite.path), config.suite.format, config.suite.language,
                       config.suite.name, config.resolve(config.suite.templates))
    editors.check(config)
    judging.check(config, suite)
    chosen = parse_gpu_list(gpus)
    chosen = visible_gpus() if chosen is None else chosen
    return Settings(config=config, suite=suite, gpus=chosen, groups=gpu_groups(chosen, gpus_per_worker))


def new_run_dir(config: Config, explicit: str | None) -> Path:
    """`--eb-run-dir`, else `<run.dir>/<timestamp>-<suite>`; `<run.dir>/latest` points at it."""
    if explicit:
        return Path(explicit).resolve()
    parent = config.resolve(config.run.dir)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = config.run.name or "run"
    run_dir = parent / f"{stamp}-{name}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = parent / f"{stamp}-{name}-{suffix}"
    return run_dir


def point_latest(run_dir: Path) -> None:
    latest = run_dir.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_dir.name, target_is_directory=True)
    except OSError:
        pass  # a filesystem without symlinks: the run folder's path is printed anyway


@dataclass
class Controller:
    """Controller-only: the run folder and the live results file."""

    settings: Settings
    run_dir: Path
    fail_under: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    records: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "images").mkdir(exist_ok=True)
        point_latest(self.run_dir)
        self._results = open(self.run_dir / "results.jsonl", "a", encoding="utf-8")

    def add(self, record: dict[str, Any]) -> None:
        """Append one finished case, flushed to disk before the next one arrives."""
        self.records.append(record)
        self._results.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._results.flush()
        os.fsync(self._results.fileno())

    def finish(self, exitstatus: int) -> int:
        """Write the summaries from what finished; return the run's exit status."""
        categories = [(c.key, c.display) for c in self.settings.suite.categories]
        self.summary = summarize(self.records, categories)
        (self.run_dir / "summary.json").write_text(
            json.dumps(self.summary, ensure_ascii=False, indent=2), encoding="utf-8")
        return exitstatus

    def summary_lines(self) -> list[str]:
        if self.summary is None:
            return []
        return ["", "editbench scores (mean per category; failed cases counted, not scored):",
                *table_lines(self.summary), f"editbench run folder: {self.run_dir}"]

    def close(self) -> None:
        if not self._results.closed:
            self._results.close()
