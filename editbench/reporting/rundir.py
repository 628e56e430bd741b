"""A run folder's reports: written from its records and run.json, read back by compare and merge.

Layout: results.jsonl (live), run.json, summary.json, summary.csv, report.md, report.html,
images/<category>/<test id>.{source,edited}.png.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from editbench import protocols
from editbench.errors import ConfigError
from editbench.reporting import gallery, markdown
from editbench.reporting.records import latest_per_case, read_results
from editbench.reporting.runmeta import write_json
from editbench.reporting.summary import summarize
from editbench.reporting.tables import summary_csv

if TYPE_CHECKING:
    from editbench.config import Config

RESULTS = "results.jsonl"
RUN_META = "run.json"


def categories_of(meta: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, name) for key, name in (meta.get("suite") or {}).get("categories") or []]


def write_reports(
    run_dir: Path,
    records: list[dict[str, Any]],
    meta: dict[str, Any],
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Summaries (JSON, CSV), Markdown and HTML from the records; returns the summary.

    Every file says how the run ended: summary.json and each row of summary.csv carry
    `run_status` (run.json's status: finished, interrupted, merged, partial), and summary.json
    the note of an interrupted or partial run, as report.md and report.html show it. A run of a
    benchmark protocol (run.json `protocol`) gets its headline numbers recomputed too.
    """
    if summary is None:
        summary = summarize(records, categories_of(meta), protocols.from_meta(meta))
    summary = {**summary, **run_state(meta)}
    write_json(run_dir / "summary.json", summary)
    _write_text(run_dir / "summary.csv", summary_csv(summary))
    _write_text(run_dir / "report.md", markdown.render(summary, records, meta))
    _write_text(run_dir / "report.html", gallery.render(summary, records, meta, run_dir))
    return summary


def run_state(meta: dict[str, Any]) -> dict[str, Any]:
    """How the run ended, as the summaries repeat it: run.json's status and its note, if any."""
    state: dict[str, Any] = {"run_status": meta.get("status")}
    if meta.get("status") in ("interrupted", "partial", "running") and meta.get("note"):
        state["note"] = meta["note"]
    return state


def new_run_dir(config: Config, explicit: str | None) -> Path:
    """`--eb-run-dir`, else `<run.dir>/<timestamp>-<name>`; `<run.dir>/latest` points at it.

    Plain code (no pytest): the controller, `editbench validate` and `editbench slurm` name
    run folders alike."""
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


def load_run(run_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, run.json) of a run folder; errors name the folder and what is missing."""
    results = run_dir / RESULTS
    if not results.is_file():
        raise ConfigError(
            f"{run_dir}: not an editbench run folder (no {RESULTS}); pass a folder "
            "under reports/, e.g. reports/latest"
        )
    try:
        records = latest_per_case(read_results(results))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    meta_path = run_dir / RUN_META
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    return records, meta


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
