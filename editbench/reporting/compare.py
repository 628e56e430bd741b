"""`editbench compare RUN_A RUN_B`: per category and dimension, how B differs from A.

Cases are paired by case id. Per row (a category or overall, one dimension) over the cases both
runs have:
- the scores: mean(B) - mean(A) over the cases scored in both, with the betting interval of
  `stats.paired_difference` (valid for any distribution of B - A on [-range, range]) and its
  p-value, 1 / the betting capital at 0, which is below 0.05 exactly when the interval leaves
  out 0; below `stats.MIN_N` pairs there is no interval and no flag ("n too small");
- the failures: how many of the cases failed (no score on a dimension that applies to them) in
  A and in B, and which newly fail (scored in A, not in B); a dimension never asked of a case
  (`_applies`) is no failure of it. A score average over the survivors would hide them,
  so they are a test of their own: McNemar's exact test on the cases that fail in one run only.
Every test of the comparison enters Holm's correction together; a row is flagged REGRESSION or
improvement only when its adjusted p-value is below 0.05. `--fail-on-regression` exits 1 on a
flagged regression, and on any newly failing case: a failure is never averaged away.

The result is compare.json's data; compare.html (`compare_page`) renders it beside the JSON with
both runs' edits side by side.

Runs of the same benchmark protocol (run.json `protocol`, editbench.protocols) are compared on
its dimensions, each on its own scale, and on every headline number by the same rules
(`reporting.headline.compare_numbers`), whose tests enter the same Holm correction.

When the two runs' editor or judge interpreters differ in a package that moves scores, or in the
lock they were installed from, a warning line says which (`environment_differences` in the JSON).
"""

from __future__ import annotations

import statistics
from typing import Any

from editbench import protocols
from editbench.protocols.model import Protocol
from editbench.reporting import stats
from editbench.reporting.environments import warning_lines
from editbench.reporting.records import score
from editbench.reporting.summary import scales
from editbench.reporting.tables import table
from editbench.vocabulary import Scale, Status

SCHEMA = 2  # 2: failures per row, Holm-adjusted flags, the `interval` block
HEADLINE_INTERVAL = (
    "cases both runs have; the betting interval and p-value above, on each number's own scale "
    "(a case's values as one sum and count, a share's difference over the cases' 0/1 values), "
    "in the same Holm correction"
)


def compare(
    records_a: list[dict[str, Any]],
    records_b: list[dict[str, Any]],
    categories: list[tuple[str, str]],
    protocol: Protocol,
) -> dict[str, Any]:
    """The comparison as JSON data: shared-case counts, one row per (category, dimension), and
    the headline numbers of the protocol both runs share (see `run_protocol`), if it has any."""
    a = {r["case_id"]: r for r in records_a}
    b = {r["case_id"]: r for r in records_b}
    shared = sorted(set(a) & set(b))
    names = dict(categories)
    for case_id in shared:
        names.setdefault(
            a[case_id]["category"], a[case_id].get("category_name") or a[case_id]["category"]
        )
    dims = _dimensions([*records_a, *records_b], protocol)
    scale = scales(protocol)
    rows = []
    for key, name in [*names.items(), ("overall", "overall")]:
        ids = [c for c in shared if key == "overall" or a[c]["category"] == key]
        for dim in dims if ids else ():
            pairs = [(a[c], b[c]) for c in ids if _applies(dim, a[c], b[c], protocol)]
            if pairs:  # a dimension that applies to none of the row's cases has no row
                rows.append(_row(key, name, dim, pairs, scale(dim)))
    headline = _headline_rows(records_a, records_b, protocol, categories)
    tests = _flag(rows + headline)
    newly = _newly_failing(a, b, shared)
    result = {
        "schema": SCHEMA,
        "shared_cases": len(shared),
        "only_a": len(set(a) - set(b)),
        "only_b": len(set(b) - set(a)),
        "interval": stats.interval_block(),
        "alpha": stats.ALPHA,
        "tests": tests,
        "rows": rows,
        "regressions": [
            f"{r['category']}/{r['dimension']}" + (" failures" if r["failures_flag"] else "")
            for r in rows
            if r["flag"] == "regression"
        ],
        "newly_failing": newly,
    }
    if protocol.has_headline:
        result["protocol"] = {
            "name": protocol.name,
            "title": protocol.title,
            "interval": HEADLINE_INTERVAL,
            "rows": headline,
        }
        result["regressions"] += [
            f"{r['column']}@{r['row']}"
            + (" failures" if r["failures_flag"] == "regression" else "")
            for r in headline
            if r["flag"] == "regression"
        ]
    return result


def run_protocol(meta_a: dict[str, Any], meta_b: dict[str, Any]) -> Protocol:
    """The protocol both runs were scored under (rebuilt from run A's run.json); the editbench
    protocol, whose per-category rows every run has, when the two runs name different ones."""
    name_a = (meta_a.get("protocol") or {}).get("name", protocols.DEFAULT)
    if name_a != (meta_b.get("protocol") or {}).get("name", protocols.DEFAULT):
        return protocols.builtin(protocols.DEFAULT)
    return protocols.from_meta(meta_a)


def _headline_rows(records_a, records_b, protocol, categories) -> list[dict[str, Any]]:
    if not protocol.has_headline:
        return []
    from editbench.reporting.headline_compare import compare_numbers

    return compare_numbers(records_a, records_b, protocol, categories)


def _dimensions(records: list[dict[str, Any]], protocol: Protocol) -> list[str]:
    """The protocol's dimensions either run has (a case that failed whole has none of its own),
    never its sub-scores."""
    seen = {d for r in records for d in (*(r.get("statuses") or {}), *(r.get("scores") or {}))}
    return [d for d in protocol.dimensions if d in seen]


def _applies(dim: str, record_a: dict[str, Any], record_b: dict[str, Any], protocol) -> bool:
    """Whether the dimension belongs to the case in either run, so that its absence is a failure.

    A dimension a case was asked about (or derived for) is in its `statuses`, failed or not. A
    case that failed as a whole has no statuses: the protocol says whether the dimension would
    have applied (RISE asks no consistency of a consistency-free case; the editbench protocol
    asks every case the same). A case that is `ok` without the dimension was never asked it:
    never a failure.
    """
    return any(_applies_to(dim, record, protocol) for record in (record_a, record_b))


def _applies_to(dim: str, record: dict[str, Any], protocol) -> bool:
    if dim in (record.get("statuses") or {}):
        return True
    if record.get("status") == Status.OK:
        return False
    return protocol.applicable(dim, record["category"], record.get("facts") or {})


def _row(
    key: str,
    name: str,
    dim: str,
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    scale: Scale,
) -> dict[str, Any]:
    scored = [(score(x, dim), score(y, dim)) for x, y in pairs]
    both = [(x, y) for x, y in scored if x is not None and y is not None]
    before, after = [x for x, _ in both], [y for _, y in both]
    newly_failing = [
        x["case_id"]
        for (x, _), (sa, sb) in zip(pairs, scored, strict=True)
        if sa is not None and sb is None
    ]
    newly_scored = sum(1 for x, y in scored if x is None and y is not None)
    difference = stats.paired_difference(before, after, scale)
    return {
        "category": key,
        "name": name,
        "dimension": dim,
        "n": len(both),
        "mean_a": statistics.fmean(before) if both else None,
        "mean_b": statistics.fmean(after) if both else None,
        **difference,
        **stats.failure_change(
            sum(1 for x, _ in scored if x is None),
            sum(1 for _, y in scored if y is None),
            newly_failing,
            newly_scored,
        ),
    }


def _flag(rows: list[dict[str, Any]]) -> int:
    """Holm-adjust every test of the comparison and set each row's flags; returns the test count."""
    slots = [
        (row, field) for row in rows for field in ("p", "p_failures") if row[field] is not None
    ]
    adjusted = stats.holm([row[field] for row, field in slots]) if slots else []
    for row in rows:
        row["p_holm"] = row["p_failures_holm"] = None
    for (row, field), value in zip(slots, adjusted, strict=True):
        row[field + "_holm"] = float(value)
    for row in rows:
        row["score_flag"] = _score_flag(row)
        row["failures_flag"] = _failures_flag(row)
        flags = (row["failures_flag"], row["score_flag"])
        row["flag"] = next(
            (f for f in ("regression", "improvement", "n too small") if f in flags), ""
        )
    return len(slots)


def _score_flag(row: dict[str, Any]) -> str:
    if row["n"] < stats.MIN_N or row["p"] is None:  # (a macro mean: a category below MIN_N)
        return "n too small"
    if row["p_holm"] is None or row["p_holm"] >= stats.ALPHA:
        return ""
    return "regression" if row["delta"] < 0 else "improvement"


def _failures_flag(row: dict[str, Any]) -> str:
    if row["p_failures_holm"] is None or row["p_failures_holm"] >= stats.ALPHA:
        return ""
    return "regression" if row["newly_failing"] > row["newly_scored"] else "improvement"


def _newly_failing(
    a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]], shared: list[str]
) -> list[dict[str, Any]]:
    """Cases that passed in A and fail in B, with B's status and reason."""
    return [
        {
            "case_id": case_id,
            "category": b[case_id].get("category"),
            "status_b": b[case_id].get("status"),
            "reason_b": str(b[case_id].get("reason") or "")[:300],
        }
        for case_id in shared
        if a[case_id].get("status") == Status.OK and b[case_id].get("status") != Status.OK
    ]


def lines(result: dict[str, Any]) -> list[str]:
    header = ["category", "dim", "n", "A", "B", "B-A [95% CI]", "failed A", "failed B", "new", ""]
    body = [
        [
            r["name"],
            r["dimension"],
            str(r["n"]),
            _number(r["mean_a"]),
            _number(r["mean_b"]),
            _delta(r),
            str(r["failed_a"]),
            str(r["failed_b"]),
            str(r["newly_failing"]),
            _flag_text(r),
        ]
        for r in result["rows"]
    ]
    out = [
        f"shared cases: {result['shared_cases']} (only in A: {result['only_a']}, "
        f"only in B: {result['only_b']})",
        f"interval: {stats.statement(result.get('interval'))}; flags: Holm-adjusted p < "
        f"{result.get('alpha', stats.ALPHA):g} over {result.get('tests', 0)} tests (scores: "
        "betting p-value; failures: McNemar exact)",
        *warning_lines(result.get("environment_differences") or []),
    ]
    if not body:
        return [*out, "no case is in both runs"]
    out += table(header, body, right_from=2)
    newly = result.get("newly_failing") or []
    if newly:
        listed = ", ".join(f"{c['case_id']} ({c['status_b']})" for c in newly)
        out.append(f"newly failing in B: {len(newly)} cases: {listed}")
    if result.get("protocol"):
        out += headline_lines(result["protocol"])
    return out


def headline_lines(headline: dict[str, Any]) -> list[str]:
    """The headline numbers' table: B - A per row and number, failures beside it, flags."""
    header = ["row", "number", "n", "A", "B", "B-A [95% CI]", "failed A", "failed B", "new", ""]
    body = [
        [
            r["row_label"],
            r["column"],
            str(r["n"]),
            _number(r["a"]),
            _number(r["b"]),
            _delta(r),
            str(r["failed_a"]),
            str(r["failed_b"]),
            str(r["newly_failing"]),
            _flag_text(r),
        ]
        for r in headline["rows"]
    ]
    title = f"protocol {headline['name']} headline numbers ({headline['interval']}):"
    return ["", title, *table(header, body, right_from=2)]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _delta(row: dict[str, Any]) -> str:
    if row["delta"] is None:
        return "-"
    if row["ci_low"] is None:
        return f"{row['delta']:+.2f} (n<{stats.MIN_N})"
    return f"{row['delta']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"


def _flag_text(row: dict[str, Any]) -> str:
    parts = []
    if row["score_flag"]:
        parts.append("REGRESSION" if row["score_flag"] == "regression" else row["score_flag"])
    if row["failures_flag"]:
        parts.append(
            "REGRESSION (failures)"
            if row["failures_flag"] == "regression"
            else "improvement (failures)"
        )
    return ", ".join(parts)
