"""State of one editbench run: what every process knows (`Settings`) and what only the controller does.

The controller creates the run folder and run.json, appends each finished case to
`results.jsonl` as its report arrives (flushed and synced, so a crash loses nothing finished),
and at the end writes the summaries, reports, the completed run.json, and applies the
`--eb-fail-under` gate to the exit status.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench import editors, judging
from editbench.cases import Suite, load_suite
from editbench.config import Config, load_config
from editbench.devices import gpu_groups, parse_gpu_list, visible_gpus
from editbench.reporting.gate import parse_thresholds, violations
from editbench.reporting.rundir import RESULTS, RUN_META, write_reports
from editbench.reporting.runmeta import finish_meta, start_meta, write_json
from editbench.reporting.summary import summarize
from editbench.reporting.tables import table_lines


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


def load_settings(
    config_path: str | None, overrides: list[str], gpus: str | None = None, gpus_per_worker: int = 1
) -> Settings:
    """Read and check everything a run needs, loading no model; raises EditbenchError subclasses."""
    config = load_config(config_path, overrides)
    suite = load_suite(
        config.resolve(config.suite.path),
        config.suite.format,
        config.suite.language,
        config.suite.name,
        config.resolve(config.suite.templates),
        config.resolve(config.suite.images),
    )
    editors.check(config)
    judging.check(config, suite)
    chosen = parse_gpu_list(gpus)
    chosen = visible_gpus() if chosen is None else chosen
    return Settings(
        config=config, suite=suite, gpus=chosen, groups=gpu_groups(chosen, gpus_per_worker)
    )


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
    """Controller-only: the run folder, the live results file, run.json, summaries and the gate."""

    settings: Settings
    run_dir: Path
    fail_under: list[str] = field(default_factory=list)
    shard: str | None = None
    argv: list[str] = field(default_factory=lambda: list(sys.argv))
    records: list[dict[str, Any]] = field(default_factory=list)
    identities: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] | None = None
    gate: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        categories = [(c.key, c.names) for c in self.settings.suite.categories]
        self.thresholds = parse_thresholds(self.fail_under, categories)

    def start(self) -> None:
        """Create the run folder and write run.json before any case runs."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "images").mkdir(exist_ok=True)
        point_latest(self.run_dir)
        self.meta = start_meta(self.settings, self.run_dir, self.argv, self.shard, self.fail_under)
        write_json(self.run_dir / RUN_META, self.meta)
        self._results = open(self.run_dir / RESULTS, "a", encoding="utf-8")

    def add(self, record: dict[str, Any]) -> None:
        """Append one finished case, flushed and synced to disk before the next one arrives."""
        identity = record.pop("identity", None)
        if identity is not None:
            self.identities[str(record.get("worker") or "main")] = identity
        self.records.append(record)
        self._results.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._results.flush()
        os.fsync(self._results.fileno())

    def finish(self, exitstatus: int) -> int:
        """Write summaries, reports and the completed run.json; apply the gate to the exit status."""
        summary = summarize(
            self.records, [(c.key, c.display) for c in self.settings.suite.categories]
        )
        self.gate = violations(summary, self.thresholds)
        if self.gate and exitstatus in (0, 5):
            exitstatus = 1  # pytest.ExitCode.TESTS_FAILED: the CI gate failed
        self.meta = finish_meta(self.meta, self.identities, exitstatus, self.gate)
        write_json(self.run_dir / RUN_META, self.meta)
        summary |= {"fail_under": self.fail_under, "gate_failures": self.gate}
        self.summary = write_reports(self.run_dir, self.records, self.meta, summary)
        return exitstatus

    def summary_lines(self) -> list[str]:
        if self.summary is None:
            return []
        lines = [
            "",
            "editbench scores (mean [95% CI] per category; failed cases counted, not scored):",
            *table_lines(self.summary),
        ]
        lines += [f"editbench: FAILED --eb-fail-under {line}" for line in self.gate]
        if self.fail_under and not self.gate:
            lines.append(f"editbench: passed --eb-fail-under {' '.join(self.fail_under)}")
        lines.append(f"editbench run folder: {self.run_dir} (report.html, report.md, summary.csv)")
        return lines

    def close(self) -> None:
        results = getattr(self, "_results", None)
        if results is not None and not results.closed:
            results.close()
