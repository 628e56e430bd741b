"""report.html: one self-contained page (no network) with the summary table, a chart and every case.

Thumbnails are small inline JPEG data URLs that link the full PNGs by relative path inside the
run folder. Every string that came from a suite, a config or a judge passes through
`html.escape`; the page's script reads only data attributes and the URL fragment
(`#category=physical&status=failed` presets the filters).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from editbench.errors import CaseError
from editbench.images import decode_png, thumbnail_jpeg
from editbench.reporting.headline_tables import html_table as protocol_table
from editbench.reporting.summary import failures_text, interval_text, rows
from editbench.reporting.tables import score_cell
from editbench.vocabulary import Status

DEFAULT_SCALE = (0.0, 10.0)
COLORS = {"SC": "#4e79a7", "PQ": "#f28e2b", "O": "#59a14f", "criterion": "#b07aa1"}
# a protocol's own dimensions take the next unused of these (Tableau 10, then darker shades)
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f4e79", "#a0522d", "#2e7d32", "#6a1b9a", "#b71c1c", "#00695c",
)  # fmt: skip
THUMB_PX = 160
CHAR_PX = 7  # about one character of the chart's 12px labels


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def thumbnail_url(run_dir: Path, relative: str | None) -> str | None:
    """A data URL of a small JPEG of an image in the run folder, or None if it is unreadable."""
    if not relative:
        return None
    path = run_dir / relative
    try:
        image = decode_png(path.read_bytes(), str(path))
    except (OSError, CaseError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(thumbnail_jpeg(image, THUMB_PX)).decode(
        "ascii"
    )


def render(
    summary: dict[str, Any], records: list[dict[str, Any]], meta: dict[str, Any], run_dir: Path
) -> str:
    title = f"editbench {meta.get('run_id', '')}"
    language = meta.get("suite", {}).get("language", "en")
    parts = [
        _head(title),
        "<body>",
        f"<h1>{esc(title)}</h1>",
        _facts(meta),
        "<h2>Scores</h2>",
        _summary_table(summary),
        protocol_table(summary["protocol"]) if "protocol" in summary else "",
        _chart(summary),
        "<h2>Cases</h2>",
        _filters(summary, records),
        '<div id="cases">',
        *(_case(r, run_dir, language) for r in case_order(summary, records)),
        "</div>",
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _head(title: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head>"
    )


def case_order(summary: dict[str, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards in case order (categories as in the tables, then case id), not arrival order."""
    rank = {row["key"]: i for i, row in enumerate(summary.get("categories") or [])}
    return sorted(
        records,
        key=lambda r: (rank.get(r.get("category"), len(rank)), str(r.get("case_id"))),
    )


def editor_text(editor: dict[str, Any]) -> str:
    """What made the edits: a replay names the folder it read (and its layout), not a model."""
    if editor.get("backend") == "replay":
        layout = f" ({editor['replay_layout']} layout)" if editor.get("replay_layout") else ""
        return f"replay of {editor.get('replay_dir') or '?'}{layout}"
    return f"{editor.get('backend', '')} {editor.get('model') or ''}"


def _facts(meta: dict[str, Any]) -> str:
    suite, editor, judge = meta.get("suite", {}), meta.get("editor", {}), meta.get("judge", {})
    facts = [
        ("suite", f"{suite.get('name', '')} {suite.get('version', '')}"),
        ("editor", editor_text(editor)),
        (
            "judge",
            f"{judge.get('backend', '')} {judge.get('model') or ''} {judge.get('method', '')}",
        ),
        ("shard", meta.get("shard")),
        ("started", meta.get("started")),
        ("finished", meta.get("finished")),
        ("git", (meta.get("git") or {}).get("revision")),
        ("note", meta.get("note")),
    ]
    items = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in facts if v and str(v).strip())
    return f'<ul class="facts">{items}</ul>'


def dimension_scales(summary: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Each dimension's scale: a protocol run's own (summary interval.scales), else 0-10."""
    own = (summary.get("interval") or {}).get("scales") or {}
    return {d: tuple(own.get(d) or DEFAULT_SCALE) for d in summary["dimensions"]}


def scale_text(scale: tuple[float, float]) -> str:
    return f"{scale[0]:g}–{scale[1]:g}"


def _summary_table(summary: dict[str, Any]) -> str:
    dims = summary["dimensions"]
    scales = dimension_scales(summary)
    named = (summary.get("interval") or {}).get("scales")  # a protocol run: name each scale
    shown = [f"{d} ({scale_text(scales[d])})" if named else d for d in dims]
    head = "".join(f"<th>{esc(d)}</th>" for d in ["category", "n", "failed", *shown, "failures"])
    body = []
    for row in rows(summary):
        cells = [
            row["name"],
            row["n"],
            row["failed"],
            *(score_cell(row["dimensions"].get(d)) for d in dims),
            failures_text(row),
        ]
        body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    caption = f"mean [{interval_text(summary)}]; failed cases are counted, never scored"
    return (
        f'<table id="summary"><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def colours(dims: list[str]) -> dict[str, str]:
    """A distinct colour per dimension: editbench's own fixed, a protocol's from PALETTE."""
    found = {d: COLORS[d] for d in dims if d in COLORS}
    free = [c for c in PALETTE if c not in found.values()]
    for d in dims:
        if d not in found:
            found[d] = free.pop(0) if free else "#888"
    return found


def _ticks(scales: dict[str, tuple[float, float]]) -> tuple[tuple[float, float] | None, list]:
    """(the shared scale or None, [(fraction of the plot, label)]): one scale's own values, or
    percent of each dimension's scale when the dimensions' scales differ."""
    distinct = set(scales.values())
    if len(distinct) != 1:
        return None, [(k / 5, f"{20 * k}%") for k in range(6)]
    (low, high) = shared = distinct.pop()
    span = high - low
    step = 2.0 if span > 5 else 1.0 if span >= 2 else span / 4
    count = int(round(span / step))
    return shared, [(k / count, f"{low + k * step:g}") for k in range(count + 1)]


def _chart(summary: dict[str, Any]) -> str:
    """Grouped bars per category and dimension, each on its own scale, with CI whiskers (SVG)."""
    dims, groups = summary["dimensions"], [*summary["categories"], summary["overall"]["micro"]]
    if not dims:  # nothing to draw: the message alone, clear of any axis
        return (
            '<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="320" height="40" '
            'role="img" aria-label="no scores"><text x="10" y="24">no scores in this run'
            "</text></svg>"
        )
    scales, fill = dimension_scales(summary), colours(dims)
    shared, ticks = _ticks(scales)
    bar, gap, top, plot_h, left = 16, 24, 20, 200, 48
    group_w = len(dims) * bar + gap
    names = [str(row["name"]) for row in groups]
    label_px = max(len(n) for n in names) * CHAR_PX
    rotate = label_px > group_w - 4  # long names slant instead of running together
    if rotate:  # room on the left for the first group's slanted name
        left = max(left, int(label_px * 0.82 - group_w / 2) + 16)
    labels_h = int(label_px * 0.6) + 16 if rotate else 24
    legend = [f"{d} ({scale_text(scales[d])})" for d in dims]
    legend_x = [left]
    for text in legend[:-1]:
        legend_x.append(legend_x[-1] + 24 + len(text) * CHAR_PX)
    legend_w = legend_x[-1] + 24 + len(legend[-1]) * CHAR_PX
    width = max(left + len(groups) * group_w + 20, legend_w)
    height = top + plot_h + labels_h + 36

    def y(fraction: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, fraction)))

    def at(dim: str, value: float) -> float:
        low, high = scales[dim]
        return y((value - low) / (high - low) if high > low else 0.0)

    axis = "" if shared else "each dimension as % of its own scale"
    out = [
        f'<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="mean scores per category, each dimension on its own scale">'
    ]
    for fraction, label in ticks:
        out.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(fraction):.1f}" y2="{y(fraction):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(fraction) + 4:.1f}" text-anchor="end">'
            f"{esc(label)}</text>"
        )
    if axis:
        out.append(f'<text x="{left}" y="{top - 6}" class="axis">{esc(axis)}</text>')
    for g, row in enumerate(groups):
        x0 = left + g * group_w + gap / 2
        for d, dim in enumerate(dims):
            stat = row["dimensions"].get(dim)
            if not stat or not stat.get("n"):
                continue
            x, top_y = x0 + d * bar, at(dim, stat["mean"])
            out.append(
                f'<rect class="bar" data-dimension="{esc(dim)}" x="{x:.1f}" y="{top_y:.1f}" '
                f'width="{bar - 2}" height="{top + plot_h - top_y:.1f}" fill="{fill[dim]}">'
                f"<title>{esc(row['name'])} {esc(dim)}: {stat['mean']:.2f} on "
                f"{scale_text(scales[dim])}</title></rect>"
            )
            mid = x + (bar - 2) / 2
            if stat.get("ci_low") is None:
                continue  # too few cases for an interval: no whisker
            out.append(
                f'<line class="ci" x1="{mid:.1f}" x2="{mid:.1f}" y1="{at(dim, stat["ci_low"]):.1f}" '
                f'y2="{at(dim, stat["ci_high"]):.1f}"/>'
            )
        lx, ly = x0 + group_w / 2 - gap / 2, top + plot_h + 16
        turn = f' transform="rotate(-35 {lx:.1f} {ly})"' if rotate else ""
        anchor = "end" if rotate else "middle"
        out.append(
            f'<text class="xlabel" x="{lx:.1f}" y="{ly}" text-anchor="{anchor}"{turn}>'
            f"{esc(row['name'])}</text>"
        )
    for d, dim in enumerate(dims):
        out.append(
            f'<rect x="{legend_x[d]}" y="{height - 22}" width="12" height="12" '
            f'fill="{fill[dim]}"/><text x="{legend_x[d] + 16}" y="{height - 12}">'
            f"{esc(legend[d])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _filters(summary: dict[str, Any], records: list[dict[str, Any]]) -> str:
    categories = "".join(
        f'<option value="{esc(row["key"])}">{esc(row["name"])}</option>'
        for row in summary["categories"]
    )
    statuses = sorted({str(r.get("status")) for r in records})
    status_options = "".join(f'<option value="{esc(s)}">{esc(s)}</option>' for s in statuses)
    return (
        '<div class="filters"><label>category <select id="filter-category">'
        f'<option value="">all</option>{categories}</select></label> '
        '<label>status <select id="filter-status"><option value="">all</option>'
        f'<option value="failed">any failure</option>{status_options}</select></label> '
        '<span id="shown"></span></div>'
    )


def image_kinds(images: dict[str, Any]) -> list[str]:
    """The inputs of a case in display order (source, source2, ...); the edit comes after them."""

    def number(kind: str) -> int:
        return 1 if kind == "source" else int(kind[6:])

    inputs = sorted(
        (k for k in images if k == "source" or (k.startswith("source") and k[6:].isdigit())),
        key=number,
    )
    return inputs or ["source"]


def _caption(kind: str) -> str:
    return f"source {kind[6:]}" if kind.startswith("source") and kind[6:].isdigit() else kind


def _case(record: dict[str, Any], run_dir: Path, language: str) -> str:
    images = record.get("images") or {}
    kinds = (*image_kinds(images), "edited")
    thumbs = "".join(_thumb(run_dir, images.get(kind), kind) for kind in kinds)
    instruction = record.get("instruction") or {}
    if isinstance(instruction, dict):
        language = record.get("language") or language  # the language the case ran with
        instruction = instruction.get(language) or next(iter(instruction.values()), "")
    scores = "".join(_score(record, dim) for dim in sorted(record.get("statuses") or {}))
    reason = f'<p class="reason">{esc(record.get("reason"))}</p>' if record.get("reason") else ""
    status = str(record.get("status"))
    return (
        f'<div class="case status-{"ok" if status == Status.OK else "failed"}" '
        f'data-category="{esc(record.get("category"))}" data-status="{esc(status)}">'
        f"<h3>{esc(record.get('test_id') or record.get('case_id'))} "
        f'<span class="badge">{esc(status)}</span></h3><div class="thumbs">{thumbs}</div>'
        f'<p class="instruction">{esc(instruction)}</p>{reason}'
        f'<table class="scores">{scores}</table></div>'
    )


def _thumb(run_dir: Path, relative: str | None, kind: str) -> str:
    url = thumbnail_url(run_dir, relative)
    caption = _caption(kind)
    if url is None:
        return f'<figure class="missing"><figcaption>{esc(caption)}: no image</figcaption></figure>'
    return (
        f'<figure><a href="{esc(relative)}"><img class="thumb" alt="{esc(caption)}" src="{url}"></a>'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _score(record: dict[str, Any], dim: str) -> str:
    status = (record.get("statuses") or {}).get(dim)
    value = (record.get("scores") or {}).get(dim)
    shown = (
        f"{value:.2f}" if status == Status.OK and isinstance(value, (int, float)) else esc(status)
    )
    mass = (record.get("mass") or {}).get(dim)
    if isinstance(mass, (int, float)):  # logit: how much probability was on score tokens
        shown += f' <span class="mass" title="probability on score tokens">mass {mass:.3g}</span>'
    reasoning = (record.get("reasoning") or {}).get(dim) or (record.get("raw") or {}).get(dim)
    detail = f"<details><summary>reasoning</summary>{esc(reasoning)}</details>" if reasoning else ""
    return f"<tr><th>{esc(dim)}</th><td>{shown}</td><td>{detail}</td></tr>"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th:first-child,td:first-child{text-align:left}
caption{caption-side:bottom;font-size:.85em;color:#555;text-align:left}
svg text{font-size:12px;fill:#333} svg .grid{stroke:#eee} svg .ci{stroke:#222;stroke-width:1.5}
svg .axis{fill:#666}
.facts{list-style:none;padding:0}
.filters{margin:.5em 0}
#cases{display:flex;flex-wrap:wrap;gap:.8em}
.case{border:1px solid #ccc;border-radius:6px;padding:.5em;width:360px}
.case.status-failed{border-color:#d62728;background:#fff6f6}
.case h3{font-size:1em;margin:.2em 0}.badge{font-size:.8em;padding:0 .4em;border-radius:3px;background:#eee}
.thumbs{display:flex;flex-wrap:wrap;gap:.4em}figure{margin:0;text-align:center;font-size:.8em}
img.thumb{max-width:160px;max-height:160px;display:block}
.scores th,.scores td{font-size:.85em}.reason{color:#a00;font-size:.85em}
.hidden{display:none}
"""

_SCRIPT = """
(function(){
  var cat=document.getElementById('filter-category'), st=document.getElementById('filter-status');
  function apply(){
    var shown=0, cards=document.querySelectorAll('#cases .case');
    cards.forEach(function(c){
      var s=c.dataset.status, ok=(!cat.value||c.dataset.category===cat.value)&&
        (!st.value||(st.value==='failed'?s!=='ok':s===st.value));
      c.classList.toggle('hidden',!ok); if(ok){shown++;}
    });
    document.getElementById('shown').textContent=shown+' of '+cards.length+' cases';
    document.body.dataset.shown=shown;
  }
  var h=new URLSearchParams(location.hash.slice(1));
  if(h.get('category')){cat.value=h.get('category');} if(h.get('status')){st.value=h.get('status');}
  cat.addEventListener('change',apply); st.addEventListener('change',apply); apply();
  window.addEventListener('load',function(){
    var imgs=document.querySelectorAll('img.thumb'), n=0;
    imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0){n++;}});
    document.body.dataset.thumbsLoaded=n; document.body.dataset.thumbsTotal=imgs.length;
  });
})();
"""
