"""compare.html: `editbench compare`'s result as a page, with both runs' edits side by side.

Data apart from rendering: `page_data` turns the comparison (compare.json's content), both runs'
records and run.json into one JSON-serialisable model — the table rows, the settings that differ,
and every shared case with its images, scores and change, in the page's default order — and
`write` writes the page that `compare_page_html.render` makes of it. Images are referenced by
paths relative to the page (`embed=True` inlines JPEG copies as data URLs instead, for a file
that travels alone).
"""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from editbench.errors import CaseError
from editbench.images import decode_png, thumbnail_jpeg
from editbench.reporting import compare_page_html, stats
from editbench.reporting.gallery import image_kinds
from editbench.reporting.merge import must_agree
from editbench.reporting.records import score
from editbench.vocabulary import OVERALL, Status

SCHEMA = 1
EMBED_PX = 768  # --embed: the longer side of an inlined image, enough to enlarge on a screen
CHANGES = ("newly failing", "newly passing")  # the cases the gallery shows first, in this order
FLAG_TEXT = (
    "A row is flagged REGRESSION or improvement when its score difference (betting p-value "
    "on the paired scores) or its change in failures (McNemar's exact test on the cases that fail in "
    "one run only: \u201cfailures\u201d) is significant at p < {alpha:g} after Holm's correction "
    "over all {tests} tests of this comparison (with no true change, 0.0–0.1% of simulated "
    "compares flag anything at all). Below {min_n} pairs a row has no interval and no score flag "
    "(\u201cn too small\u201d). A case's flags in the gallery are those of its category's rows."
)


def page_data(
    result: dict[str, Any],
    run_a: tuple[Path, list[dict[str, Any]], dict[str, Any]],
    run_b: tuple[Path, list[dict[str, Any]], dict[str, Any]],
    page: Path,
    embed: bool = False,
) -> dict[str, Any]:
    """The page's model. `run_a`/`run_b`: (folder, records, run.json); `page`: where the page
    will be written (image paths are made relative to its folder); `embed`: data URLs instead."""
    (dir_a, records_a, meta_a), (dir_b, records_b, meta_b) = run_a, run_b
    dims = list(dict.fromkeys(r["dimension"] for r in result["rows"]))
    sort_by = _default_order(result["rows"], dims)
    locate = _Images(page.parent, embed)
    a = {r["case_id"]: r for r in records_a}
    flags = _case_flags(result["rows"])
    cases = [
        _case(a[r["case_id"]], r, dims, flags, (dir_a, dir_b), locate)
        for r in records_b
        if r["case_id"] in a
    ]
    return {
        "schema": SCHEMA,
        "title": f"editbench compare: {_label(meta_a, dir_a)} \u2192 {_label(meta_b, dir_b)}",
        "run_a": {"label": _label(meta_a, dir_a), "path": str(dir_a)},
        "run_b": {"label": _label(meta_b, dir_b), "path": str(dir_b)},
        "counts": {k: result[k] for k in ("shared_cases", "only_a", "only_b")},
        "interval": stats.statement(result.get("interval")),
        "flags": FLAG_TEXT.format(
            alpha=result.get("alpha", stats.ALPHA), tests=result.get("tests", 0), min_n=stats.MIN_N
        ),
        "differences": [
            *settings_differences(meta_a, meta_b),
            *(
                {"key": f"{d['side']} environment: {d['package']}", "a": d["a"], "b": d["b"]}
                for d in result.get("environment_differences") or ()
            ),
        ],
        "rows": result["rows"],
        "protocol": result.get("protocol"),
        "dimensions": dims,
        "sort_by": sort_by,
        "categories": list(
            dict.fromkeys(
                (r["category"], r["name"]) for r in result["rows"] if r["category"] != "overall"
            )
        ),
        "embedded": embed,
        "cases": order(cases, sort_by),
    }


def order(cases: list[dict[str, Any]], dimension: str) -> list[dict[str, Any]]:
    """Newly failing, then newly passing, then by |delta| of `dimension`, largest first (cases
    without a delta on it last), then by case id. The page's script sorts by the same rule."""

    def key(case: dict[str, Any]) -> tuple:
        delta = case["scores"].get(dimension, {}).get("delta")
        rank = CHANGES.index(case["change"]) if case["change"] in CHANGES else len(CHANGES)
        return (rank, -abs(delta) if delta is not None else math.inf, case["case_id"])

    return sorted(cases, key=key)


def _default_order(rows: list[dict[str, Any]], dims: list[str]) -> str:
    """O where there is one, else the first dimension that the most shared cases have (under
    RISE, reasoning: consistency is not asked of every case)."""
    if OVERALL in dims or not dims:
        return OVERALL if dims else ""
    cases = {r["dimension"]: r["n"] + r["failed_a"] for r in rows if r["category"] == "overall"}
    return max(dims, key=lambda d: (cases.get(d, 0), -dims.index(d)))


def settings_differences(meta_a: dict[str, Any], meta_b: dict[str, Any]) -> list[dict[str, Any]]:
    """Editor and judge settings that differ between the runs (local models by content
    fingerprint, hub ids by snapshot; the machine-only keys merge ignores are left out)."""
    out = []
    agree_a, agree_b = must_agree(meta_a), must_agree(meta_b)
    for part in ("editor", "judge"):
        flat_a, flat_b = _flat(agree_a[part]), _flat(agree_b[part])
        for key in sorted(set(flat_a) | set(flat_b)):
            if flat_a.get(key) != flat_b.get(key):
                out.append({"key": f"{part}.{key}", "a": flat_a.get(key), "b": flat_b.get(key)})
    return out


def _flat(section: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _label(meta: dict[str, Any], folder: Path) -> str:
    return str(meta.get("run_id") or folder.name)


def _case_flags(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    flags: dict[str, set[str]] = {}
    for row in rows:
        if row["flag"]:
            flags.setdefault(row["category"], set()).add(row["flag"])
    return {k: sorted(v) for k, v in flags.items()}


def _case(
    rec_a: dict[str, Any],
    rec_b: dict[str, Any],
    dims: list[str],
    flags: dict[str, list[str]],
    dirs: tuple[Path, Path],
    locate: _Images,
) -> dict[str, Any]:
    ok_a, ok_b = rec_a.get("status") == Status.OK, rec_b.get("status") == Status.OK
    change = "newly failing" if ok_a and not ok_b else "newly passing" if ok_b and not ok_a else ""
    scores = _scores_of(rec_a, rec_b, dims)
    moved = any(isinstance(s["a"], str) != isinstance(s["b"], str) for s in scores.values())
    return {
        "case_id": rec_b["case_id"],
        "category": rec_b.get("category"),
        "category_name": rec_b.get("category_name") or rec_b.get("category"),
        "instruction": _instruction(rec_b),
        "status_a": rec_a.get("status"),
        "status_b": rec_b.get("status"),
        "reason_a": "" if ok_a else str(rec_a.get("reason") or "")[:500],
        "reason_b": "" if ok_b else str(rec_b.get("reason") or "")[:500],
        "change": change,
        "changed": rec_a.get("status") != rec_b.get("status")
        or moved
        or any(s["delta"] for s in scores.values()),
        "flags": flags.get(rec_b.get("category"), []),
        "scores": scores,
        "images": _images_of(rec_a, rec_b, dirs, locate),
    }


def _scores_of(rec_a: dict[str, Any], rec_b: dict[str, Any], dims: list[str]) -> dict[str, Any]:
    """Per dimension either run has for the case: A's and B's score (or failure status), B - A."""
    scores = {}
    for dim in dims:
        if dim not in (rec_a.get("statuses") or {}) and dim not in (rec_b.get("statuses") or {}):
            continue  # never asked of this case
        a, b = score(rec_a, dim), score(rec_b, dim)
        scores[dim] = {
            "a": a if a is not None else _dim_status(rec_a, dim),
            "b": b if b is not None else _dim_status(rec_b, dim),
            "delta": b - a if a is not None and b is not None else None,
        }
    return scores


def _images_of(
    rec_a: dict[str, Any], rec_b: dict[str, Any], dirs: tuple[Path, Path], locate: _Images
) -> dict[str, Any]:
    """The inputs (A's copies, else B's), A's edit and B's edit, as the page references them."""
    images_a, images_b = rec_a.get("images") or {}, rec_b.get("images") or {}
    sources = [
        {
            "kind": kind,
            "url": locate(dirs[0], images_a.get(kind)) or locate(dirs[1], images_b.get(kind)),
        }
        for kind in image_kinds(images_a or images_b)
    ]
    return {
        "sources": sources,
        "a": locate(dirs[0], images_a.get("edited")),
        "b": locate(dirs[1], images_b.get("edited")),
    }


def _dim_status(record: dict[str, Any], dim: str) -> str:
    status = (record.get("statuses") or {}).get(dim)
    return str(status or record.get("status") or Status.ERROR.value)


def _instruction(record: dict[str, Any]) -> str:
    instruction = record.get("instruction") or ""
    if isinstance(instruction, dict):
        language = record.get("language") or "en"
        return str(instruction.get(language) or next(iter(instruction.values()), ""))
    return str(instruction)


class _Images:
    """An image of a run folder as the page references it: a URL relative to the page's folder
    (percent-encoded), or when embedding a data URL of a JPEG copy (longer side at most
    `EMBED_PX`); None when the file is missing or unreadable."""

    def __init__(self, page_dir: Path, embed: bool) -> None:
        self.page_dir, self.embed = page_dir.resolve(), embed

    def __call__(self, run_dir: Path, relative: str | None) -> str | None:
        if not relative:
            return None
        path = (run_dir / relative).resolve()
        if not path.is_file():
            return None
        if self.embed:  # a JPEG copy: 600 cases of PNGs would make a page of gigabytes
            try:
                image = decode_png(path.read_bytes(), str(path))
            except CaseError:
                return None
            jpeg = thumbnail_jpeg(image, EMBED_PX, quality=85)
            return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        return quote(Path(os.path.relpath(path, self.page_dir)).as_posix())


def write(path: Path, data: dict[str, Any]) -> None:
    """Write the page (and nothing else) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(compare_page_html.render(data), encoding="utf-8")
    tmp.replace(path)
