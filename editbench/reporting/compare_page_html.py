"""compare.html rendered: HTML over `compare_page.page_data`'s model (`render`).

The page opens from disk without a server: its style and script (compare_page.css,
compare_page.js beside this module) are inlined. An image's URL waits in `data-src` until the
script sees its card near the viewport, so a compare of hundreds of cases renders at once. Every
string that came from a suite, a config or a judge passes through `html.escape` (`esc`).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from editbench.reporting import stats
from editbench.reporting.gallery import esc

FLAGS = ("regression", "improvement", "n too small")


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
