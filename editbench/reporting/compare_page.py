"""compare.html: `editbench compare`'s result as a page, with both runs' edits side by side.

Data apart from rendering: `page_data` turns the comparison (compare.json's content), both runs'
records and run.json into one JSON-serialisable model — the table rows, the settings that differ,
and every shared case with its images, scores and change, in the page's default order — and
`render` writes HTML over it. The page opens from disk without a server: its style and script
(compare_page.css, compare_page.js beside this module) are inlined, and images are referenced by
paths relative to the page (`embed=True` inlines JPEG copies as data URLs instead, for a file that
travels alone). An image's URL waits in `data-src` until the script sees its card near the
viewport, so a compare of hundreds of cases renders at once. Every
string that came from a suite, a config or a judge passes through `html.escape`.
"""

from __future__ import annotations

import base64
import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from editbench.errors import CaseError
from editbench.images import decode_png, thumbnail_jpeg
from editbench.reporting import stats
from editbench.reporting.gallery import esc, image_kinds
from editbench.reporting.merge import must_agree
from editbench.reporting.records import score
from editbench.vocabulary import OVERALL, Status

SCHEMA = 1
EMBED_PX = 768  # --embed: the longer side of an inlined image, enough to enlarge on a screen
CHANGES = ("newly failing", "newly passing")  # the cases the gallery shows first, in this order
FLAGS = ("regression", "improvement", "n too small")
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


# -- rendering ------------------------------------------------------------------------------------


def render(data: dict[str, Any]) -> str:
    """The page: header and notes, the table(s), the gallery's controls and cards, the viewer."""
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(data['title'])}</title><style>{_asset('compare_page.css')}</style></head>",
        "<body>",
        f"<h1>{esc(data['title'])}</h1>",
        _header(data),
        "<h2>Per category</h2>",
        _table(data["rows"]),
        _headline(data["protocol"]) if data.get("protocol") else "",
        _notes(data),
        "<h2>Cases side by side</h2>",
        _controls(data),
        f'<div id="cases" data-total="{len(data["cases"])}">',
        *(_card(case) for case in data["cases"]),
        "</div>",
        '<div id="viewer" hidden><img alt=""><p></p></div>',
        f"<script>{_asset('compare_page.js')}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write(path: Path, data: dict[str, Any]) -> None:
    """Write the page (and nothing else) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(data), encoding="utf-8")
    tmp.replace(path)


def _asset(name: str) -> str:
    return resources.files("editbench.reporting").joinpath(name).read_text(encoding="utf-8")


def _header(data: dict[str, Any]) -> str:
    counts = data["counts"]
    runs = "".join(
        f"<li><b>{side}</b>: {esc(data[key]['label'])} <code>{esc(data[key]['path'])}</code></li>"
        for side, key in (("A", "run_a"), ("B", "run_b"))
    )
    shared = (
        f"<li>{counts['shared_cases']} cases in both runs (only in A: {counts['only_a']}, only in "
        f"B: {counts['only_b']}); \u0394 = B \u2212 A</li>"
    )
    out = f'<ul class="facts">{runs}{shared}</ul>'
    if data["differences"]:
        items = "".join(
            f"<li><code>{esc(d['key'])}</code>: A {esc(_shown(d['a']))}, B {esc(_shown(d['b']))}"
            "</li>"
            for d in data["differences"]
        )
        out += (
            '<div id="differences" class="note"><b>The runs\u2019 settings differ</b> (a '
            f"difference below may come from these, not only from chance):<ul>{items}</ul></div>"
        )
    return out


def _shown(value: Any) -> str:
    return "(not set)" if value is None else json.dumps(value, ensure_ascii=False)


def _table(rows: list[dict[str, Any]]) -> str:
    head = ["category", "dimension", "n", "A", "B", "\u0394 [95% interval]", "flag"]
    head += ["failed A", "failed B", "newly failing"]
    body = [
        [
            r["name"],
            r["dimension"],
            r["n"],
            _number(r["mean_a"]),
            _number(r["mean_b"]),
            _delta(r),
            _flag(r),
            r["failed_a"],
            r["failed_b"],
            _newly(r),
        ]
        for r in rows
    ]
    return _html_table("compare", head, body, [r["flag"] for r in rows])


def _headline(protocol: dict[str, Any]) -> str:
    head = ["row", "number", "n", "A", "B", "\u0394 [95% interval]", "flag"]
    head += ["failed A", "failed B", "newly failing"]
    body = [
        [
            r["row_label"],
            r["column"],
            r["n"],
            _number(r["a"]),
            _number(r["b"]),
            _delta(r),
            _flag(r),
            r["failed_a"],
            r["failed_b"],
            _newly(r),
        ]
        for r in protocol["rows"]
    ]
    title = f"<h2>{esc(protocol.get('title') or protocol['name'])}: headline numbers</h2>"
    caption = f'<p class="caption">Intervals: {esc(protocol["interval"])}.</p>'
    return (
        title + _html_table("headline", head, body, [r["flag"] for r in protocol["rows"]]) + caption
    )


def _html_table(ident: str, head: list[str], body: list[list[Any]], flags: list[str]) -> str:
    rows = "".join(
        f'<tr class="flag-{esc(flag.replace(" ", "-") or "none")}">'
        + "".join(f"<td>{esc(c)}</td>" for c in cells)
        + "</tr>"
        for cells, flag in zip(body, flags, strict=True)
    )
    header = "".join(f"<th>{esc(h)}</th>" for h in head)
    return f'<table id="{ident}"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'


def _number(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _delta(row: dict[str, Any]) -> str:
    if row.get("delta") is None:
        return "-"
    if row.get("ci_low") is None:
        return f"{row['delta']:+.2f} (n<{stats.MIN_N})"
    return f"{row['delta']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"


def _flag(row: dict[str, Any]) -> str:
    parts = []
    if row.get("score_flag"):
        parts.append("REGRESSION" if row["score_flag"] == "regression" else row["score_flag"])
    if row.get("failures_flag"):
        failures = row["failures_flag"]
        parts.append(f"{'REGRESSION' if failures == 'regression' else failures} (failures)")
    return ", ".join(parts)


def _newly(row: dict[str, Any]) -> str:
    ids = row.get("newly_failing_cases") or []
    shown = ", ".join(str(i) for i in ids[:8])
    return shown + (f" (+{len(ids) - 8} more)" if len(ids) > 8 else "") if ids else "0"


def _notes(data: dict[str, Any]) -> str:
    return (
        '<div id="how-to-read" class="caption">'
        f"<p><b>Intervals.</b> \u0394 is mean(B) \u2212 mean(A) over the cases scored in both "
        f"runs, with its {esc(data['interval'])} (paired). Failed cases never enter a mean: they "
        "are counted in \u201cfailed A\u201d and \u201cfailed B\u201d, and \u201cnewly "
        "failing\u201d lists those scored in A and failed in B. A dimension a case was never "
        "asked is no failure.</p>"
        f"<p><b>Flags.</b> {esc(data['flags'])}</p></div>"
    )


def _controls(data: dict[str, Any]) -> str:
    categories = "".join(
        f'<option value="{esc(key)}">{esc(name)}</option>' for key, name in data["categories"]
    )
    flags = "".join(f'<option value="{esc(f)}">{esc(f)}</option>' for f in FLAGS)
    dims = "".join(
        f'<option value="{esc(d)}"{" selected" if d == data["sort_by"] else ""}>{esc(d)}</option>'
        for d in data["dimensions"]
    )
    return (
        '<div class="filters">'
        '<label>category <select id="filter-category"><option value="">all</option>'
        f"{categories}</select></label> "
        '<label>flag <select id="filter-flag"><option value="">any</option>'
        f'{flags}<option value="none">no flag</option></select></label> '
        '<label><input type="checkbox" id="filter-changed"> only changed</label> '
        f'<label>order by |\u0394| of <select id="sort-by">{dims}</select></label> '
        '<span id="shown"></span></div>'
        '<p class="caption">Newly failing and newly passing cases come first, then the largest '
        "|\u0394| of the chosen dimension. Click an image to enlarge it (Esc closes).</p>"
    )


def _card(case: dict[str, Any]) -> str:
    deltas = {d: s["delta"] for d, s in case["scores"].items() if s["delta"] is not None}
    change = case["change"]
    attributes = {
        "data-id": case["case_id"],
        "data-category": case["category"],
        "data-change": change,
        "data-changed": "1" if case["changed"] else "0",
        "data-flags": " ".join(case["flags"]) or "none",
        "data-deltas": json.dumps(deltas),
    }
    attrs = " ".join(f'{k}="{esc(v)}"' for k, v in attributes.items())
    badge = f' <span class="badge change">{esc(change)}</span>' if change else ""
    flags = "".join(f' <span class="badge flag">{esc(f)}</span>' for f in case["flags"])
    images = case["images"]
    figures = [_figure(s["url"], _caption(s["kind"]), "source") for s in images["sources"]]
    figures += [_figure(images["a"], "A", "a"), _figure(images["b"], "B", "b")]
    reasons = "".join(
        f'<p class="reason">{side}: {esc(case["status_" + key])}: {esc(case["reason_" + key])}</p>'
        for side, key in (("A", "a"), ("B", "b"))
        if case["reason_" + key]
    )
    return (
        f'<div class="case{" " + change.replace(" ", "-") if change else ""}" {attrs}>'
        f'<h3>{esc(case["case_id"])} <span class="category">{esc(case["category_name"])}</span>'
        f"{badge}{flags}</h3>"
        f'<div class="images">{"".join(figures)}</div>'
        f'<p class="instruction">{esc(case["instruction"])}</p>{reasons}'
        f"{_scores(case['scores'])}</div>"
    )


def _caption(kind: str) -> str:
    return f"source {kind[6:]}" if kind.startswith("source") and kind[6:].isdigit() else kind


def _figure(url: str | None, caption: str, kind: str) -> str:
    if url is None:
        return f'<figure class="missing"><div class="none">no image</div><figcaption>{esc(caption)}</figcaption></figure>'
    return (
        f'<figure><img class="{kind}" decoding="async" alt="{esc(caption)}" '
        f'data-src="{esc(url)}"><figcaption>{esc(caption)}</figcaption></figure>'
    )


def _scores(scores: dict[str, dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><th>{esc(dim)}</th><td>{esc(_value(s['a']))}</td><td>{esc(_value(s['b']))}</td>"
        f'<td class="{_sign(s["delta"])}">{_number(s["delta"], "+.2f")}</td></tr>'
        for dim, s in scores.items()
    )
    return (
        '<table class="scores"><thead><tr><th></th><th>A</th><th>B</th><th>\u0394</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _value(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else str(value)


def _sign(delta: float | None) -> str:
    return "up" if delta and delta > 0 else "down" if delta and delta < 0 else "same"
