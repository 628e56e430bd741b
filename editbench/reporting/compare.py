"""`editbench compare RUN_A RUN_B`: per category and dimension, how B differs from A.

Only cases scored in both runs count (paired by case id). The delta is mean(B) - mean(A) on
those cases, with a paired bootstrap CI (the cases are resampled); a CI entirely below zero is
a significant regression, entirely above zero a significant improvement.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from editbench.reporting import stats
from editbench.reporting.records import score
from editbench.reporting.rundir import categories_of, load_run
from editbench.reporting.runmeta import write_json
from editbench.reporting.tables import table
from editbench.vocabulary import REPORTED_DIMENSIONS


def compare(
    records_a: list[dict[str, Any]],
    records_b: list[dict[str, Any]],
    categories: list[tuple[str, str]],
) -> dict[str, Any]:
    """The comparison as JSON data: shared-case counts and one row per (category, dimension)."""
    a = {r["case_id"]: r for r in records_a}
    b = {r["case_id"]: r for r in records_b}
    shared = sorted(set(a) & set(b))
    names = dict(categories)
    for case_id in shared:
        names.setdefault(
            a[case_id]["category"], a[case_id].get("category_name") or a[case_id]["category"]
        )
    rows = []
    for key, name in [*names.items(), ("overall", "overall")]:
        ids = [c for c in shared if key == "overall" or a[c]["category"] == key]
        for dim in REPORTED_DIMENSIONS:
            row = _row(key, name, dim, [(score(a[c], dim), score(b[c], dim)) for c in ids])
            if row:
                rows.append(row)
    return {
        "schema": 1,
        "shared_cases": len(shared),
        "only_a": len(set(a) - set(b)),
        "only_b": len(set(b) - set(a)),
        "bootstrap": {
            "method": "paired percentile",
            "resamples": stats.RESAMPLES,
            "seed": stats.SEED,
            "confidence": stats.CONFIDENCE,
        },
        "rows": rows,
        "regressions": [
            f"{r['category']}/{r['dimension']}" for r in rows if r["flag"] == "regression"
        ],
    }


def _row(
    key: str, name: str, dim: str, pairs: list[tuple[float | None, float | None]]
) -> dict | None:
    pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
    if not pairs:
        return None
    before, after = [x for x, _ in pairs], [y for _, y in pairs]
    low, high = stats.paired_bootstrap_ci(before, after)
    flag = "regression" if high < 0 else "improvement" if low > 0 else ""
    return {
        "category": key,
        "name": name,
        "dimension": dim,
        "n": len(pairs),
        "mean_a": statistics.fmean(before),
        "mean_b": statistics.fmean(after),
        "delta": statistics.fmean(after) - statistics.fmean(before),
        "ci_low": low,
        "ci_high": high,
        "flag": flag,
    }


def lines(result: dict[str, Any]) -> list[str]:
    header = ["category", "dim", "n", "A", "B", "B-A [95% CI]", ""]
    body = [
        [
            r["name"],
            r["dimension"],
            str(r["n"]),
            f"{r['mean_a']:.2f}",
            f"{r['mean_b']:.2f}",
            f"{r['delta']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]",
            "REGRESSION" if r["flag"] == "regression" else r["flag"],
        ]
        for r in result["rows"]
    ]
    out = [
        f"shared cases: {result['shared_cases']} (only in A: {result['only_a']}, "
        f"only in B: {result['only_b']})"
    ]
    if not body:
        return [*out, "no dimension was scored in both runs on a shared case"]
    return [*out, *table(header, body, right_from=2)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="editbench compare", description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path, help="baseline run folder")
    parser.add_argument("run_b", type=Path, help="run folder compared against the baseline")
    parser.add_argument("-o", "--json", type=Path, help="JSON output (default: RUN_B/compare.json)")
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit with status 1 when a significant regression is found",
    )
    args = parser.parse_args(argv)
    records_a, meta_a = load_run(args.run_a)
    records_b, meta_b = load_run(args.run_b)
    result = compare(records_a, records_b, categories_of(meta_a))
    result |= {"run_a": str(args.run_a.resolve()), "run_b": str(args.run_b.resolve())}
    headline = compare_headline(records_a, records_b, meta_a, meta_b)
    if headline:
        result["protocol"] = headline
    output = args.json or args.run_b / "compare.json"
    write_json(output, result)
    text = [*lines(result), *(headline_lines(headline) if headline else [])]
    print("\n".join([*text, f"comparison written to {output}"]))
    regressions = result["regressions"] + (headline or {}).get("regressions", [])
    return 1 if args.fail_on_regression and regressions else 0


def compare_headline(
    records_a: list[dict[str, Any]],
    records_b: list[dict[str, Any]],
    meta_a: dict[str, Any],
    meta_b: dict[str, Any],
) -> dict[str, Any] | None:
    """Both runs' protocol headline numbers on their shared cases, when they share a protocol."""
    name_a = (meta_a.get("protocol") or {}).get("name")
    if name_a is None or name_a != (meta_b.get("protocol") or {}).get("name"):
        return None
    from editbench import protocols
    from editbench.protocols.aggregate import compare_numbers

    protocol = protocols.from_meta(meta_a)
    if protocol is None:  # a run.json without the protocol's content: nothing to recompute
        return None
    rows = compare_numbers(records_a, records_b, protocol, categories_of(meta_a))
    return {
        "name": protocol.name,
        "interval": "paired percentile bootstrap over the cases both runs scored "
        f"({stats.RESAMPLES} resamples, seed {stats.SEED}; within categories for macro means)",
        "rows": rows,
        "regressions": [f"{r['column']}@{r['row']}" for r in rows if r["flag"] == "regression"],
    }


def headline_lines(headline: dict[str, Any]) -> list[str]:
    header = ["row", "number", "n", "A", "B", "B-A [95% CI]", ""]
    body = [
        [
            r["row_label"],
            r["column"],
            str(r["n"]),
            f"{r['a']:.2f}",
            f"{r['b']:.2f}",
            f"{r['delta']:+.2f}"
            + ("" if r["ci_low"] is None else f" [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"),
            "REGRESSION" if r["flag"] == "regression" else r["flag"],
        ]
        for r in headline["rows"]
    ]
    title = f"protocol {headline['name']} headline numbers ({headline['interval']}):"
    return ["", title, *table(header, body, right_from=2)]
