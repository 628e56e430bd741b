"""A case's sub-scores into its dimensions, and the dimensions a protocol derives from others.

Plain functions over `DimensionResult`s and the protocol, used by the `Scorer`: an ask's
sub-scores combine into its dimension (min, mean, single, or each its own), a mapped scale is
reported as the protocol says (`report_as`), and derived dimensions (O = sqrt(SC*PQ), RISE's
weighted score and its completeness flag) are computed per case. A dimension computed from a
failed one is `missing-input`; nothing is ever filled in.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from editbench.judging import DimensionResult
from editbench.judging.results import result
from editbench.protocols import model as m
from editbench.vocabulary import Status


def ask_dimensions(
    ask: m.Ask, subs: dict[str, DimensionResult]
) -> tuple[dict[str, DimensionResult], dict[str, DimensionResult]]:
    """(the ask's dimensions, its sub-scores as "<dimension>.<sub-score>" entries)."""
    if ask.combine == "each":
        return {s.id: _mapped(ask, subs[s.id]) for s in ask.subscores}, {}
    if ask.combine == "single":
        return {ask.dimension: _mapped(ask, subs[ask.subscores[0].id])}, {}
    parts = {f"{ask.dimension}.{s.id}": subs[s.id] for s in ask.subscores}
    bad = [(s, subs[s.id]) for s in ask.subscores if subs[s.id]["status"] != Status.OK]
    first = subs[ask.subscores[0].id]
    if bad:
        _, failure = bad[0]
        reason = failure["reasoning"] or failure["status"]
        value = result(None, failure["status"], failure["raw"], reason, _seconds(subs))
        return {ask.dimension: value}, parts
    scores = [subs[s.id]["score"] for s in ask.subscores]
    combined = min(scores) if ask.combine == "min" else statistics.fmean(scores)
    shown = ", ".join(f"{s.label} {subs[s.id]['score']:g}" for s in ask.subscores)
    reasoning = f"{ask.combine}({shown}): {first['reasoning']}".rstrip(": ")
    value = result(combined, Status.OK, first["raw"], reasoning, _seconds(subs))
    value["cached"] = all(v.get("cached") for v in subs.values())
    return {ask.dimension: _mapped(ask, value)}, parts


def derive(
    derived: m.Derived,
    dims: dict[str, DimensionResult],
    protocol: m.Protocol,
    category: str,
    facts: dict[str, Any],
    method: str,
) -> DimensionResult | None:
    """A derived dimension of one case; None where it does not apply (none of its inputs do)."""
    inputs = m.derived_inputs(derived, category, facts)
    present = [d for d in inputs if d in dims]
    needed = present if derived.op == "all_at_max" else list(inputs)
    if not present:
        return None
    bad = [d for d in needed if d not in dims or dims[d]["status"] != Status.OK]
    if bad:
        return result(None, Status.MISSING_INPUT, "", f"{', '.join(bad)} not scored")
    values = {d: float(dims[d]["score"]) for d in needed}
    value, text = _apply(derived, values, protocol, category, facts, method)
    return result(value, Status.OK, "", text)


def _apply(derived, values, protocol, category, facts, method) -> tuple[float, str]:
    names = list(values)
    if derived.op == "geometric_mean" and len(values) == 2:
        first, second = names
        return math.sqrt(values[first] * values[second]), f"sqrt({first}*{second})"
    if derived.op == "geometric_mean":
        return math.prod(values.values()) ** (1 / len(values)), f"geometric mean of {names}"
    if derived.op == "mean":
        return statistics.fmean(values.values()), f"mean of {names}"
    if derived.op == "min":
        return min(values.values()), f"min of {names}"
    if derived.op == "all_at_max":
        at_max = all(
            reading(values[d], protocol, d, method) == protocol.scale_of(d).high for d in names
        )
        return float(at_max), f"every one of {names} at its maximum: {at_max}"
    weights = m.chosen_variant(derived, category, facts).weights
    value = sum(w * values[d] for d, w in weights.items())
    text = " + ".join(f"{w:g}*{d}" for d, w in weights.items())
    penalty = derived.penalty
    if penalty and reading(values[penalty.dimension], protocol, penalty.dimension, method) == (
        penalty.equals
    ):
        value = max(value * penalty.factor, penalty.floor)
        text += f", times {penalty.factor:g} (not below {penalty.floor:g}) as {penalty.dimension} is {penalty.equals:g}"
    return value, text


def reading(value: float, protocol: m.Protocol, dimension: str, method: str) -> float:
    """A score as a rule reads it: as given under generate; under logit the expected score is
    rounded to the nearest score the dimension can take (a documented variant)."""
    if method != "logit":
        return value
    points = scale_points(protocol, dimension)
    return min(points, key=lambda p: (abs(p - value), -p))


def scale_points(protocol: m.Protocol, dimension: str) -> list[float]:
    for ask in protocol.asks:
        if dimension in ask.dimensions:
            own = range(int(ask.scale.low), int(ask.scale.high) + 1)
            return [_map_value(ask, float(p)) for p in own]
    scale = protocol.scale_of(dimension)
    return [float(p) for p in range(int(scale.low), int(scale.high) + 1)]


# -- helpers -------------------------------------------------------------------------------------


def _map_value(ask: m.Ask, value: float) -> float:
    if ask.report_as is None:
        return value
    low, high = ask.report_as
    return low + (value - ask.scale.low) / ask.scale.range * (high - low)


def _mapped(ask: m.Ask, value: DimensionResult) -> DimensionResult:
    if ask.report_as is None or value["status"] != Status.OK:
        return value
    read = float(value["score"])
    note = f"read {read:g} on {ask.scale}, reported as {_map_value(ask, read):g} on {ask.reported_scale}"
    return {**value, "score": _map_value(ask, read), "reasoning": f"{note}; {value['reasoning']}"}


def _seconds(subs: dict[str, DimensionResult]) -> float:
    return sum(float(v.get("seconds") or 0.0) for v in subs.values())
