"""The targets of `editbench perf`, judged against what was measured, and the printed table."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

# name, measurement, how to read the value from it, unit, comparison, bound
Target = tuple[str, str, Callable[[dict], Any], str, str, float]


def _largest_overhead(m: dict) -> tuple[str, float | None]:
    sizes = m.get("sizes") or {}
    if not sizes:
        return "?", None
    size = max(sizes, key=int)
    return size, sizes[size].get("overhead_ms_per_case")


TARGETS: list[Target] = [
    (
        "overhead per case at {size}² (harness - plain loop)",
        "overhead",
        lambda m: _largest_overhead(m)[1],
        "ms",
        "<=",
        15.0,
    ),
    (
        "judge: gateway vs in-process",
        "transport",
        lambda m: m.get("gateway_vs_in_process"),
        "x",
        "<=",
        1.1,
    ),
    (
        "judge: old subprocess way vs gateway",
        "transport",
        lambda m: m.get("old_way_vs_gateway"),
        "x",
        ">=",
        20.0,
    ),
    ("scaling: -n 2 vs -n 1 throughput", "scaling", lambda m: m.get("speedup"), "x", ">=", 1.8),
    ("cache: first run vs unchanged rerun", "cache", lambda m: m.get("speedup"), "x", ">=", 50.0),
    (
        "start-up: --collect-only of the sample suite",
        "startup",
        lambda m: m.get("collect_only_s"),
        "s",
        "<=",
        1.5,
    ),
    (
        "start-up: first run vs fully cached rerun, wall",
        "startup",
        lambda m: m.get("rerun_wall_speedup"),
        "x",
        ">=",
        4.0,
    ),
    (
        "judge method: generate(16 tokens) vs logit",
        "method",
        lambda m: m.get("generate_vs_logit"),
        "x",
        ">=",
        3.0,
    ),
    (
        "judge method: logit scores bit-identical",
        "method",
        lambda m: None if "logit_bit_identical" not in m else float(m["logit_bit_identical"]),
        "",
        "==",
        1.0,
    ),
    (
        "overlap, latency-bound judge: with vs without",
        "overlap",
        lambda m: m.get("latency_speedup"),
        "x",
        ">=",
        1.8,
    ),
    (
        "overlap, CPU-bound judge: with vs without",
        "overlap",
        lambda m: m.get("cpu_speedup"),
        "x",
        ">=",
        1.5,
    ),
    (
        "overlap, zero-cost judge: throughput lost",
        "overlap",
        lambda m: None if m.get("constant_cost") is None else 100.0 * m["constant_cost"],
        "%",
        "<=",
        2.0,
    ),
    (
        "generate judge: best way vs today's decode",
        "judge",
        lambda m: m.get("best_vs_today"),
        "x",
        ">=",
        2.0,
    ),
]


def judge_targets(measurements: dict[str, dict]) -> list[dict]:
    """One row per target: value, bound, and met (True/False), or None with why it was not measured."""
    rows = []
    for name, key, read, unit, op, bound in TARGETS:
        m = measurements.get(key)
        if key == "overhead" and m:
            name = name.format(size=_largest_overhead(m)[0])
        row = {
            "target": name.replace("{size}", "1024"),
            "measurement": key,
            "unit": unit,
            "op": op,
            "bound": bound,
            "value": None,
            "met": None,
        }
        if m is None:
            row["why"] = "not run (--only)"
        elif "error" in m:
            row["why"] = f"failed: {m['error'].splitlines()[0][:120]}"
        else:
            value = read(m)
            row["value"] = value
            row["met"] = _met(value, op, bound)
            if row["met"] is None:
                row["why"] = "no value"
            if key == "overhead":
                _noise(row, m)
            if name.startswith("overlap, CPU-bound"):
                _headroom(row, m)
        rows.append(row)
    return rows


def _headroom(row: dict, m: dict) -> None:
    """Say so when the machine had no second core free for the CPU-bound judge's overlap."""
    headroom = m.get("cpu_headroom")
    if headroom is not None and headroom < 1.5:
        row["why"] = (
            f"no second core free: two busy processes ran only {headroom:.2f}x faster side by "
            "side than one after the other around these runs (other sessions held the CPUs; "
            "Linux's autogroup scheduling shares them per session, not per thread)"
        )


def _noise(row: dict, m: dict) -> None:
    """Say so when the overhead is smaller than the plain loop's own run-to-run spread."""
    sizes = m.get("sizes") or {}
    spread = sizes[max(sizes, key=int)].get("loop_spread_ms") if sizes else None
    if row["value"] is not None and spread is not None and abs(row["value"]) <= spread:
        row["why"] = (
            f"within noise: the plain loop alone varied by {spread:.0f} ms per case between its "
            "runs before and after the harness"
        )


def _met(value: Any, op: str, bound: float) -> bool | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return {"<=": value <= bound, ">=": value >= bound, "==": value == bound}[op]


def table(rows: list[dict]) -> list[str]:
    lines = [f"{'target':<52} {'measured':>12} {'goal':>10}  result", "-" * 86]
    for row in rows:
        value, unit = row["value"], row["unit"]
        if row["op"] == "==":
            shown = "-" if value is None else ("yes" if value == 1.0 else "no")
            goal = "yes"
        else:
            shown = "-" if value is None else f"{value:.3g} {unit}".strip()
            goal = (
                f"{row['op'].replace('<=', '≤').replace('>=', '≥')} {row['bound']:g} {unit}".strip()
            )
        result = {True: "met", False: "NOT MET", None: "not measured"}[row["met"]]
        lines.append(f"{row['target']:<52} {shown:>12} {goal:>10}  {result}")
        if row.get("why"):
            lines.append(f"{'':<52} ({row['why']})")
    return lines


def details(measurements: dict[str, dict]) -> list[str]:
    """What each number is (the definitions) and the raw figures behind the ratios."""
    lines = []
    for key, m in measurements.items():
        if "error" in m:
            continue
        lines.append(f"{key}: {m.get('definition', '')}")
        figures = {
            k: v
            for k, v in m.items()
            if k not in ("definition", "sizes") and not isinstance(v, dict)
        }
        for sub, value in list((m.get("sizes") or {}).items()) + [
            (k, v) for k, v in m.items() if isinstance(v, dict) and k != "sizes"
        ]:
            figures[sub] = ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
        lines += [f"    {k}: {_fmt(v)}" for k, v in figures.items()]
    return lines


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and len(value) > 6:
        return f"[{len(value)} items]"
    return str(value)
