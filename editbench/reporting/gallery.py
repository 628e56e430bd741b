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
from editbench.protocols.render import html_table as protocol_table
from editbench.reporting.summary import failures_text, interval_text, rows
from editbench.reporting.tables import score_cell
from editbench.vocabulary import Status

SCALE_MAX = 10.0
COLORS = {"SC": "#4e79a7", "PQ": "#f28e2b", "O": "#59a14f", "criterion": "#b07aa1"}
THUMB_PX = 160


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
        *(_case(r, run_dir, language) for r in records),
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


def _facts(meta: dict[str, Any]) -> str:
    suite, editor, judge = meta.get("suite", {}), meta.get("editor", {}), meta.get("judge", {})
    facts = [
        ("suite", f"{suite.get('name', '')} {suite.get('version', '')}"),
        ("editor", f"{editor.get('backend', '')} {editor.get('model') or ''}"),
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


def _summary_table(summary: dict[str, Any]) -> str:
    dims = summary["dimensions"]
    head = "".join(f"<th>{esc(d)}</th>" for d in ["category", "n", "failed", *dims, "failures"])
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


def _chart(summary: dict[str, Any]) -> str:
    """Grouped bars per category and dimension (0-10) with CI whiskers, as inline SVG."""
    dims, groups = summary["dimensions"], [*summary["categories"], summary["overall"]["micro"]]
    bar, gap, top, plot_h, left = 16, 24, 20, 200, 40
    group_w = max(1, len(dims)) * bar + gap
    legend_w = left + len(dims) * 90  # the legend must fit even when there are few groups
    width, height = max(left + len(groups) * group_w + 20, legend_w), top + plot_h + 60

    def y(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(SCALE_MAX, value)) / SCALE_MAX)

    out = [
        f'<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="mean scores per category">'
    ]
    for tick in range(0, 11, 2):
        out.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for g, row in enumerate(groups):
        x0 = left + g * group_w + gap / 2
        for d, dim in enumerate(dims):
            stat = row["dimensions"].get(dim)
            if not stat or not stat.get("n"):
                continue
            x = x0 + d * bar
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y(stat["mean"]):.1f}" width="{bar - 2}" '
                f'height="{top + plot_h - y(stat["mean"]):.1f}" fill="{COLORS.get(dim, "#888")}">'
                f"<title>{esc(row['name'])} {esc(dim)}: {stat['mean']:.2f}</title></rect>"
            )
            mid = x + (bar - 2) / 2
            if stat.get("ci_low") is None:
                continue  # too few cases for an interval: no whisker
            out.append(
                f'<line class="ci" x1="{mid:.1f}" x2="{mid:.1f}" y1="{y(stat["ci_low"]):.1f}" '
                f'y2="{y(stat["ci_high"]):.1f}"/>'
            )
        out.append(
            f'<text x="{x0 + group_w / 2 - gap / 2:.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle">{esc(row["name"])}</text>'
        )
    for d, dim in enumerate(dims):
        out.append(
            f'<rect x="{left + d * 90}" y="{height - 22}" width="12" height="12" '
            f'fill="{COLORS.get(dim, "#888")}"/><text x="{left + d * 90 + 16}" '
            f'y="{height - 12}">{esc(dim)}</text>'
        )
    if not dims:
        out.append(f'<text x="{left}" y="{top + plot_h / 2}">no scores in this run</text>')
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
