"""A protocol's data (a parsed YAML mapping) built into the model and checked.

Every problem is one `ConfigError` naming the file, the key and the fix: an unknown key, a
dimension no ask yields, a template that is missing or names an unknown variable, a prompt file
with a placeholder the protocol does not map. Over 400 lines on purpose: it is the protocol
file's grammar, one check per key, and each reads best beside the key it checks.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from editbench.errors import ConfigError
from editbench.protocols import model as m
from editbench.protocols.prompts import VARIABLES, check_text, prompt_file_text

PLACEHOLDER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")

_TOP = {"name", "title", "extends", "templates", "scale", "integer", "asks", "derived"}
_TOP |= {"aggregate", "official", "dimensions", "judge_chooses", "image_names"}
_ASK = {"id", "dimension", "template", "images", "subscores", "scale", "integer", "answer"}
_ASK |= {"combine", "when", "resize_edited", "report_as", "judge_images"}


def build_protocol(
    data: dict[str, Any], where: str, source: str, check_templates: bool = True
) -> m.Protocol:
    _keys(data, _TOP - {"extends", "templates"}, where, "")
    for key in ("name", "asks"):
        if key not in data:
            raise ConfigError(f"protocol {where}: missing key {key!r}")
    scale = _scale(data.get("scale", [0, 10]), data.get("integer", False), where, "scale")
    asks = tuple(
        _ask(a, i, scale, where, check_templates) for i, a in enumerate(_list(data, "asks", where))
    )
    _unique([a.id for a in asks], where, "asks", "id")
    known = [d for a in asks for d in a.dimensions]
    derived = []
    for index, item in enumerate(data.get("derived") or []):
        derived.append(_derived(item, f"derived[{index}]", known, where))
        known.append(derived[-1].dimension)
    protocol = m.Protocol(
        name=_text(data, "name", where, ""),
        title=str(data.get("title") or data["name"]),
        source=source,
        sha256="",
        asks=asks,
        derived=tuple(derived),
        aggregate=_aggregate(data["aggregate"], known, where)
        if "aggregate" in data
        else m.Aggregate(),
        official=_official(data.get("official") or {}, where),
        data=json.loads(json.dumps(data)),
        order=_order(data.get("dimensions"), known, where),
        judge_chooses=_judge_chooses(data.get("judge_chooses"), where),
        image_names=_image_names(data.get("image_names"), where),
    )
    _check_shares(protocol, where)
    return protocol


def _order(data: Any, known: list[str], where: str) -> tuple[str, ...]:
    names = tuple(str(d) for d in _as_list(data))
    for name in names:
        if name not in known:
            raise ConfigError(unknown(where, "dimensions", name, known, "dimension"))
    return names


def _judge_chooses(data: Any, where: str) -> tuple[str, ...]:
    keys = tuple(str(k) for k in _as_list(data))
    for key in keys:
        if key not in m.JUDGE_CHOICES:
            raise ConfigError(unknown(where, "judge_chooses", key, m.JUDGE_CHOICES, "judge key"))
    return keys


def _image_names(data: Any, where: str) -> dict[str, str]:
    if data is None:
        return {}
    kinds = ("source", "edited", "reference", "sources")
    if not isinstance(data, dict):
        raise ConfigError(
            f"protocol {where}: image_names: expected a mapping of image kind -> words"
        )
    for kind in data:
        if kind not in kinds:
            raise ConfigError(unknown(where, "image_names", kind, kinds, "image kind"))
    return {str(k): str(v) for k, v in data.items()}


def _check_shares(protocol: m.Protocol, where: str) -> None:
    """A share counts cases whose value is 1: its dimensions must be 0/1 (e.g. all_at_max)."""
    binary = m.Scale(0.0, 1.0, True)
    for index, column in enumerate(protocol.aggregate.columns):
        off = [d for d in column.of if protocol.scale_of(d) != binary]
        if column.kind == "share" and off:
            raise ConfigError(
                f"protocol {where}: aggregate.columns[{index}] ({column.name}): kind share counts "
                f"cases at 1, but {off[0]} is on {protocol.scale_of(off[0])}, not 0/1; use kind "
                "mean, or a derived dimension with op all_at_max"
            )


def _ask(data: Any, index: int, scale: m.Scale, where: str, check: bool) -> m.Ask:
    at = f"asks[{index}]"
    if not isinstance(data, dict):
        raise ConfigError(f"protocol {where}: {at}: expected a mapping (id, template, images, ...)")
    _keys(data, _ASK, where, at + ".")
    ask_id = _text(data, "id", where, at + ".")
    at = f"asks[{index}] ({ask_id})"
    own = _scale(
        data.get("scale", [scale.low, scale.high]),
        data.get("integer", scale.integer_only),
        where,
        at + ".scale",
    )
    images = tuple(_list(data, "images", where, at + "."))
    for kind in images:
        if kind not in m.IMAGE_KINDS:
            raise ConfigError(unknown(where, f"{at}.images", kind, m.IMAGE_KINDS, "image kind"))
    answer = _choice(data, "answer", m.ANSWERS, "final", where, at)
    combine = _choice(data, "combine", m.COMBINES, "single", where, at)
    dimension = str(data.get("dimension") or ask_id)
    subscores = _subscores(data.get("subscores"), dimension, where, at)
    if combine == "single" and len(subscores) != 1:
        raise ConfigError(f"protocol {where}: {at}: combine single needs exactly one sub-score")
    if answer in ("final", "score") and len(subscores) != 1:
        raise ConfigError(
            f"protocol {where}: {at}: answer {answer} reads one score; use lines or keys"
        )
    report_as = data.get("report_as")
    if report_as is not None:
        report_as = tuple(float(v) for v in _pair(report_as, where, at + ".report_as"))
    return m.Ask(
        id=ask_id,
        dimension=dimension,
        template=_template(data.get("template"), where, at, check),
        images=images,
        subscores=subscores,
        scale=own,
        answer=answer,
        combine=combine,
        when=_when(data.get("when") or {}, where, at),
        resize_edited=bool(data.get("resize_edited", False)),
        report_as=report_as,
        judge_images=bool(data.get("judge_images", False)),
    )


def _subscores(data: Any, dimension: str, where: str, at: str) -> tuple[m.Subscore, ...]:
    if data is None:
        return (m.Subscore(dimension, dimension, dimension),)
    if not isinstance(data, list) or not data:
        raise ConfigError(f"protocol {where}: {at}.subscores: expected a non-empty list")
    out = []
    for item in data:
        if not isinstance(item, dict) or "id" not in item:
            raise ConfigError(f"protocol {where}: {at}.subscores: each needs id (and label, key)")
        _keys(item, {"id", "label", "key"}, where, f"{at}.subscores.")
        sub_id = str(item["id"])
        out.append(m.Subscore(sub_id, str(item.get("label", sub_id)), str(item.get("key", sub_id))))
    _unique([s.id for s in out], where, f"{at}.subscores", "id")
    return tuple(out)


def _template(data: Any, where: str, at: str, check: bool) -> Path | m.PromptFile | m.SuiteTemplate:
    if isinstance(data, dict) and set(data) == {"suite"}:
        return m.SuiteTemplate(str(data["suite"]))  # read when the suite is known (choice.py)
    if isinstance(data, str):
        path = Path(data)
        if check:
            if not path.is_file():
                raise ConfigError(f"protocol {where}: {at}.template {path}: no such file")
            check_text(path.read_text(encoding="utf-8"), str(path))
        return path
    if isinstance(data, dict):
        return _prompt_file(data, where, at, check)
    raise ConfigError(
        f"protocol {where}: {at}.template: expected a template file, "
        "{file, key, placeholders} for a benchmark's own prompt file, or {suite: file name}"
    )


def _prompt_file(data: dict, where: str, at: str, check: bool) -> m.PromptFile:
    _keys(data, {"file", "key", "placeholders"}, where, f"{at}.template.")
    placeholders = data.get("placeholders") or {}
    if not isinstance(placeholders, dict):
        raise ConfigError(f"protocol {where}: {at}.template.placeholders: expected a mapping")
    for token, variable in placeholders.items():
        if variable not in VARIABLES:
            raise ConfigError(
                unknown(
                    where, f"{at}.template.placeholders.{token}", variable, VARIABLES, "variable"
                )
            )
    prompt = m.PromptFile(
        Path(str(data.get("file"))),
        None if data.get("key") is None else str(data["key"]),
        {str(k): str(v) for k, v in placeholders.items()},
    )
    if check:
        check_prompt_file(prompt, where, at)
    return prompt


def check_prompt_file(prompt: m.PromptFile, where: str, at: str) -> None:
    """The file exists, holds the key, and every `<placeholder>` in it is mapped."""
    if not prompt.path.is_file():
        raise ConfigError(f"protocol {where}: {at}.template.file {prompt.path}: no such file")
    try:
        text = prompt_file_text(prompt)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"prompt file {prompt.path}: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    except (KeyError, TypeError):
        raise ConfigError(
            f"prompt file {prompt.path}: no key {prompt.key!r} (protocol {where}: {at}.template.key)"
        ) from None
    for name in PLACEHOLDER.findall(text):
        token = f"<{name}>"
        if token not in prompt.placeholders:
            known = ", ".join(prompt.placeholders) or "none"
            close = difflib.get_close_matches(token, list(prompt.placeholders), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(
                f"prompt file {prompt.path}{'' if prompt.key is None else f' key {prompt.key!r}'}: "
                f"unknown placeholder {token}{hint} (mapped: {known}); map it in protocol "
                f'{where} under {at}.template.placeholders (e.g. "{token}": instruction)'
            )


def _when(data: Any, where: str, at: str) -> m.When:
    if not isinstance(data, dict):
        raise ConfigError(f"protocol {where}: {at}.when: expected a mapping")
    _keys(data, {"category", "not_category", "has", "lacks"}, where, f"{at}.when.")
    lists = {k: tuple(str(v) for v in _as_list(data.get(k))) for k in data}
    for key in ("has", "lacks"):
        for fact in lists.get(key, ()):
            if fact not in m.FACTS:
                raise ConfigError(unknown(where, f"{at}.when.{key}", fact, m.FACTS, "case fact"))
    return m.When(**lists)


def _derived(data: Any, at: str, known: list[str], where: str) -> m.Derived:
    if not isinstance(data, dict):
        raise ConfigError(f"protocol {where}: {at}: expected a mapping (dimension, op, of)")
    _keys(data, {"dimension", "op", "of", "variants", "penalty"}, where, at + ".")
    op = _choice(data, "op", m.DERIVED_OPS, None, where, at)
    of = tuple(str(d) for d in _as_list(data.get("of")))
    variants = tuple(_variant(v, f"{at}.variants", where) for v in data.get("variants") or [])
    if op == "weighted" and not variants:
        raise ConfigError(f"protocol {where}: {at}: op weighted needs variants (when, weights)")
    if op != "weighted" and not of:
        raise ConfigError(f"protocol {where}: {at}: op {op} needs of: [dimensions]")
    for name in [*of, *(d for v in variants for d in v.weights)]:
        if name not in known:
            raise ConfigError(unknown(where, f"{at}.of", name, known, "dimension"))
    penalty = data.get("penalty")
    if penalty is not None:
        _keys(penalty, {"dimension", "equals", "factor", "floor"}, where, f"{at}.penalty.")
        penalty = m.Penalty(
            str(penalty["dimension"]),
            float(penalty["equals"]),
            float(penalty["factor"]),
            float(penalty.get("floor", float("-inf"))),
        )
    return m.Derived(_text(data, "dimension", where, at + "."), op, of, variants, penalty)


def _variant(data: Any, at: str, where: str) -> m.Variant:
    if not isinstance(data, dict) or not isinstance(data.get("weights"), dict):
        raise ConfigError(f"protocol {where}: {at}: each variant needs weights: {{dimension: w}}")
    _keys(data, {"when", "weights"}, where, at + ".")
    weights = {str(k): float(v) for k, v in data["weights"].items()}
    return m.Variant(weights, _when(data.get("when") or {}, where, at))


def _aggregate(data: Any, known: list[str], where: str) -> m.Aggregate:
    if not isinstance(data, dict):
        raise ConfigError(f"protocol {where}: aggregate: expected rows, columns, headline_row")
    _keys(data, {"rows", "columns", "headline_row"}, where, "aggregate.")
    rows = tuple(_row(r, i, where) for i, r in enumerate(_list(data, "rows", where, "aggregate.")))
    columns = tuple(
        _column(c, i, known, where)
        for i, c in enumerate(_list(data, "columns", where, "aggregate."))
    )
    _unique([c.name for c in columns], where, "aggregate.columns", "name")
    labels = [r.label for r in rows if r.label]
    headline = str(data.get("headline_row") or (labels[0] if labels else ""))
    if headline not in labels:
        raise ConfigError(unknown(where, "aggregate.headline_row", headline, labels, "row label"))
    return m.Aggregate(rows, columns, headline)


def _row(data: Any, index: int, where: str) -> m.Row:
    at = f"aggregate.rows[{index}]"
    if not isinstance(data, dict) or ("by" in data) == ("label" in data):
        raise ConfigError(f"protocol {where}: {at}: give either by: category|<fact> or label")
    _keys(data, {"by", "label", "where"}, where, at + ".")
    by = data.get("by")
    if by is not None and by != "category" and by not in m.FACTS:
        raise ConfigError(unknown(where, f"{at}.by", by, ("category", *m.FACTS), "row key"))
    for fact in data.get("where") or {}:
        if fact not in m.FACTS:
            raise ConfigError(unknown(where, f"{at}.where", fact, m.FACTS, "case fact"))
    return m.Row(by, data.get("label"), dict(data.get("where") or {}))


def _column(data: Any, index: int, known: list[str], where: str) -> m.Column:
    at = f"aggregate.columns[{index}]"
    if not isinstance(data, dict):
        raise ConfigError(f"protocol {where}: {at}: expected name, of, kind")
    _keys(data, {"name", "of", "kind", "transform", "percent", "official"}, where, at + ".")
    of = tuple(str(d) for d in _as_list(data.get("of")))
    for name in of:
        if name not in known:
            raise ConfigError(unknown(where, f"{at}.of", name, known, "dimension"))
    official = data.get("official")
    if official not in (None, "failures-as-wrong"):
        raise ConfigError(f"protocol {where}: {at}.official: only failures-as-wrong is known")
    return m.Column(
        name=_text(data, "name", where, at + "."),
        of=of,
        kind=_choice(data, "kind", m.COLUMN_KINDS, "mean", where, at),
        transform=_choice(data, "transform", m.TRANSFORMS, "none", where, at),
        percent=bool(data.get("percent", False)),
        official=official,
    )


def _official(data: Any, where: str) -> m.Official:
    if not isinstance(data, dict):
        raise ConfigError(
            f"protocol {where}: official: expected failures, text, reference, arithmetic"
        )
    _keys(data, {"failures", "text", "reference", "arithmetic"}, where, "official.")
    arithmetic = str(data.get("arithmetic") or "")
    if arithmetic and arithmetic not in m.ARITHMETICS:
        raise ConfigError(
            unknown(where, "official.arithmetic", arithmetic, m.ARITHMETICS, "arithmetic")
        )
    failures = {str(k): str(v) for k, v in (data.get("failures") or {}).items()}
    for status, rule in failures.items():
        if rule not in m.FAILURE_RULES:
            raise ConfigError(
                unknown(where, f"official.failures.{status}", rule, m.FAILURE_RULES, "rule")
            )
    return m.Official(
        failures, str(data.get("text") or ""), str(data.get("reference") or ""), arithmetic
    )


# -- small checks --------------------------------------------------------------------------------


def _keys(data: dict, allowed: set[str], where: str, prefix: str) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(unknown(where, prefix + str(key), key, sorted(allowed), "key"))


def unknown(where: Any, at: str, value: Any, known, what: str) -> str:
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"protocol {where}: {at}: unknown {what} {value!r}{hint} (known: {', '.join(map(str, known))})"


def _unique(values: list[str], where: str, at: str, what: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ConfigError(f"protocol {where}: {at}: {what} {value!r} given twice")
        seen.add(value)


def _list(data: dict, key: str, where: str, prefix: str = "") -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"protocol {where}: {prefix}{key}: expected a non-empty list")
    return value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(data: dict, key: str, where: str, prefix: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"protocol {where}: {prefix}{key}: expected a non-empty string")
    return value


def _choice(data: dict, key: str, choices, default, where: str, at: str) -> str:
    value = data.get(key, default)
    if value not in choices:
        raise ConfigError(unknown(where, f"{at}.{key}", value, choices, "value"))
    return value


def _pair(value: Any, where: str, at: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        or value[0] >= value[1]
    ):
        raise ConfigError(f"protocol {where}: {at}: expected [low, high] with low < high")
    return float(value[0]), float(value[1])


def _scale(value: Any, integer: Any, where: str, at: str) -> m.Scale:
    low, high = _pair(value, where, at)
    return m.Scale(low, high, bool(integer))
