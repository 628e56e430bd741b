"""pytest-html integration: with pytest-html installed and `--html=FILE`, its rows carry each case's scores.

Registered by the plugin on the controller only when pytest-html is active. The scores column
shows each dimension's score or failure status; the images column two thumbnails linking the
full PNGs in the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from editbench.reporting.gallery import esc, image_kinds, thumbnail_url
from editbench.reporting.records import case_properties
from editbench.vocabulary import Status


class HtmlReportHooks:
    """pytest-html's results table gains a scores column and a source / edited column."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list) -> None:
        cells.insert(2, "<th>editbench scores</th>")
        cells.insert(3, "<th>source / edited</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report, cells: list) -> None:
        scores, thumbs = pytest_html_cells(self.run_dir, case_properties(report))
        cells.insert(2, f'<td class="col-ebScores">{scores}</td>')
        cells.insert(3, f'<td class="col-ebImages">{thumbs}</td>')


def pytest_html_cells(run_dir: Path, props: dict[str, Any]) -> tuple[str, str]:
    """Cells for pytest-html's results table: scores (or failure statuses) and the thumbnails."""
    parts = []
    for key, status in props.items():
        if not key.startswith("status."):
            continue
        dim, value = key[7:], props.get("score." + key[7:])
        shown = (
            f"{value:.2f}" if status == Status.OK and isinstance(value, (int, float)) else status
        )
        parts.append(f"{esc(dim)} {esc(shown)}")
    if props.get("status") not in (None, Status.OK):
        parts.append(f"status {esc(props.get('status'))}")
    thumbs = []
    images = {k[6:]: v for k, v in props.items() if k.startswith("image.")}
    for kind in (*image_kinds(images), "edited"):
        relative = props.get(f"image.{kind}")
        url = thumbnail_url(run_dir, relative)
        if url is not None:
            href = esc((run_dir / relative).resolve().as_uri())
            thumbs.append(f'<a href="{href}"><img src="{url}" alt="{esc(kind)}" width="64"></a>')
    return "<br>".join(parts), " ".join(thumbs)
