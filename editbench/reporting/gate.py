"""`--eb-fail-under`: thresholds on mean scores that fail the pytest run (the CI gate).

`O=6.5` applies to the overall micro mean (every scored case weighs the same), `O@macro=6.5`
to the macro mean (every category weighs the same), `SC@physical=5` (or `SC@物理=5`) to one
category. A threshold with no scored case behind it fails: a gate never passes on no evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from editbench.errors import ConfigError
from editbench.protocols.model import Protocol
from editbench.vocabulary import REPORTED_DIMENSIONS

MACRO = "macro"


@dataclass(frozen=True)
class Threshold:
    text: str
    dimension: str
    category: str | None  # a category key, MACRO, or None for the overall micro mean
    value: float
    headline: bool = (
        False  # a protocol's headline number: dimension is its column, category its row
    )


def parse_thresholds(
    specs: list[str], categories: list[tuple[str, tuple[str, ...]]], protocol: Protocol
) -> list[Threshold]:
    """Parse DIM[@CATEGORY]=VALUE; `categories` are (key, names) pairs of the suite. With a
    benchmark protocol, NAME[@ROW]=VALUE also gates its headline numbers (`G_O=6`)."""
    return [_parse(spec, categories, protocol) for spec in specs]


def _parse(
    spec: str, categories: list[tuple[str, tuple[str, ...]]], protocol: Protocol
) -> Threshold:
    target, sep, raw = spec.partition("=")
    dimension, _, category = target.strip().partition("@")
    columns = [c.name for c in protocol.aggregate.columns]
    if sep and dimension in columns:
        return _headline(spec, dimension, category.strip(), raw, categories, protocol)
    example = "e.g. --eb-fail-under O=6.5 or --eb-fail-under SC@physical=5"
    if not sep or dimension not in REPORTED_DIMENSIONS:
        names = ", ".join([*REPORTED_DIMENSIONS, *columns])
        raise ConfigError(
            f"--eb-fail-under {spec!r}: expected DIM[@CATEGORY]=VALUE with DIM one of "
            f"{names}; {example}"
        )
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"--eb-fail-under {spec!r}: {raw!r} is not a number; {example}") from None
    return Threshold(spec, dimension, _category(spec, category.strip(), categories), value)


def _category(spec: str, name: str, categories: list[tuple[str, tuple[str, ...]]]) -> str | None:
    if not name:
        return None
    if name == MACRO:
        return MACRO
    for key, names in categories:
        if name == key or name in names:
            return key
    known = ", ".join(key for key, _ in categories)
    raise ConfigError(
        f"--eb-fail-under {spec!r}: unknown category {name!r}; use a category of the "
        f"suite ({known}) or 'macro'"
    )


def _headline(spec: str, name: str, row: str, raw: str, categories, protocol) -> Threshold:
    """NAME[@ROW]=VALUE on a protocol's headline number; no row means its headline row."""
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"--eb-fail-under {spec!r}: {raw!r} is not a number") from None
    for key, names in categories:
        if row in names:
            row = key
    return Threshold(spec, name, row or protocol.aggregate.headline_row, value, headline=True)


def _headline_violation(summary: dict[str, Any], threshold: Threshold) -> str | None:
    numbers = (summary.get("protocol") or {}).get("numbers") or []
    found = next(
        (
            n
            for n in numbers
            if n["column"] == threshold.dimension and n["row"] == threshold.category
        ),
        None,
    )
    where = f"{threshold.dimension} at {threshold.category}"
    if found is None or found.get("value") is None:
        return f"{threshold.text}: no scored {where}; the gate cannot pass without scores"
    if found["value"] < threshold.value:
        return f"{threshold.text}: {where} is {found['value']:.3f} < {threshold.value:g}"
    return None


def violations(summary: dict[str, Any], thresholds: list[Threshold]) -> list[str]:
    """One line per threshold that is not met; empty when the gate passes."""
    lines = []
    for threshold in thresholds:
        if threshold.headline:
            line = _headline_violation(summary, threshold)
            lines += [line] if line else []
            continue
        row, where = _row(summary, threshold.category)
        stat = (row or {}).get("dimensions", {}).get(threshold.dimension)
        if not stat or not stat.get("n"):
            lines.append(
                f"{threshold.text}: no scored {threshold.dimension} in {where}; "
                "the gate cannot pass without scores"
            )
        elif stat["mean"] < threshold.value:
            lines.append(
                f"{threshold.text}: {threshold.dimension} mean in {where} is "
                f"{stat['mean']:.3f} < {threshold.value:g}"
            )
    return lines


def _row(summary: dict[str, Any], category: str | None) -> tuple[dict[str, Any] | None, str]:
    if category is None:
        return summary["overall"]["micro"], "overall (micro)"
    if category == MACRO:
        return summary["overall"]["macro"], "overall (macro)"
    for row in summary["categories"]:
        if row["key"] == category:
            return row, f"{row['name']} ({row['key']})"
    return None, category
