"""Read one score from a judge's written answer on the dimension's scale, or say why it cannot be read.

One file, over 400 lines, because it is one grammar: `parse_subscores` (the benchmarks' several
scores in one answer, at the end) reads every value with `parse_score`'s patterns, tail rules,
JSON scan and reasoning, and falls back on `parse_score` itself; apart, the two would share a
dozen private names across a module boundary.

Where a score can stand, in order of precedence:
1. a JSON object with a top-level "score" (code fences allowed around it);
2. a final label: "Final score: 7", "Overall score = 7", "最终评分：8分", "总分 8";
3. a plain label: "Score: 7.5", "**Score**: 7", "Rating: 7", "SC: 7", "PQ score: 8", "评分：8分";
4. a score out of the scale's top: "7.5/10", "7 out of 10", "8分";
5. the whole answer is a number.
The highest level that finds a score gives it, and every other place must agree with it: two
different values at one level, or at two levels ("I'd rate this 9/10. Score: 4"), are ambiguous.
Sub-scores ("sharpness score: 3", "清晰度评分：3分") and numbers inside the JSON object's other
fields never count. Full-width characters (７.５, ：) are folded first (NFKC).

A score is read on the dimension's `Scale`: a value off it is `out-of-range`, and so is a score
written out of another top ("3/5" or "8/100" on a 0-10 dimension, "5 out of 5"). A range ("7-8"),
a decimal comma ("7,5") or a JSON object that names "score" twice is ambiguous: `unparseable`,
with the reason. Nothing here ever picks one of several readings.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass

from editbench.vocabulary import SCORE_SCALE, Scale, Status

NUM = r"(?P<number>[-+]?\d+(?:\.\d+)?)"
_DECIMAL = r"\d+(?:\.\d+)?"
# what may follow a score's number and change its meaning: a range, a decimal comma, a denominator
_RANGE = r"(?P<range>\s*(?:-|–|—|~|to)\s*" + _DECIMAL + r")?(?P<comma>,\d)?"
TAIL = (
    _RANGE + r"(?:\s*/\s*(?P<over>" + _DECIMAL + r")|\s+out\s+of\s+(?P<outof>" + _DECIMAL + r"))?"
)
_CJK = "\u4e00-\u9fff"
_MARK = r"\**\s*(?:is|of|=|:)?\s*\**\s*[:=]?\s*\**\s*"
_ZH_MARK = r"\s*(?:为|是)?\s*[:=]?\s*"
_FINAL = re.compile(
    r"(?:(?:^|(?<=[\s.;,!?()\[\]*#>\"'`_\-{]))(?:final|overall)\s+(?:score|rating)"
    + _MARK
    + r"|(?:最终评分|最终得分|最终分数|总分|综合评分|总评分)"
    + _ZH_MARK
    + ")"
    + NUM
    + TAIL,
    re.IGNORECASE | re.MULTILINE,
)
_PLAIN = re.compile(
    r"(?:(?:^|(?<=[\n.;,!?(\[*#>\"'`{]))\s*\**\s*(?:(?:my|the)\s+)?"
    r"(?:score|rating|(?:SC|PQ)(?:\s+(?:score|rating))?)"
    + _MARK
    + rf"|(?<![{_CJK}])(?:评分|得分|分数|打分)"
    + _ZH_MARK
    + ")"
    + NUM
    + TAIL,
    re.IGNORECASE | re.MULTILINE,
)
_BARE = re.compile(r"^\s*\**\s*" + NUM + TAIL + r"\s*\**\s*[.。]?\s*$")
# sub-scores: a labelled score of something else; their numbers never count
_SUB = re.compile(
    r"\b(?!(?:final|overall|my|the|sc|pq)\b)[a-z][\w-]*\s+(?:score|rating)\s*[:=]\s*"
    + _DECIMAL
    + r"(?:\s*/\s*\d+|\s*分)?"
    + rf"|(?<!最终)(?<!综合)(?<!总)(?<=[{_CJK}])(?:评分|得分|分数)"
    + _ZH_MARK
    + _DECIMAL
    + r"\s*分?",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=16)
def _out_of(top: float) -> re.Pattern:
    """A number written out of a usual top (5, 10, 100, the scale's own), or with 分 (points)."""
    tops = sorted({"5", "10", "100", f"{top:g}"}, key=len, reverse=True)
    return re.compile(
        NUM
        + _RANGE
        + r"(?:\s*/\s*(?P<over>(?:"
        + "|".join(re.escape(t) for t in tops)
        + r")(?:\.0+)?)(?!\d|\.\d)|\s+out\s+of\s+(?P<outof>"
        + _DECIMAL
        + r")|\s*分(?!制))",
        re.IGNORECASE | re.MULTILINE,
    )


JSON_KEYS = ("score", "final_score", "评分")
NO_SCORE = "no score found in the answer"


@dataclass(frozen=True)
class Parsed:
    """A score (status "ok") or a failure status with its reason; reasoning when the judge gave one."""

    score: float | None
    status: Status
    reason: str = ""
    reasoning: str = ""

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


@dataclass(frozen=True)
class _Found:
    """One place where a score stands: its value, where, and a tail that may disqualify it."""

    value: float
    level: str
    problem: str = ""  # "ambiguous: ..." or "out-of-range: ..." when the tail changes its meaning


class _Refused(Exception):
    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def parse_score(text: str, scale: Scale = SCORE_SCALE) -> Parsed:
    folded = unicodedata.normalize("NFKC", text or "").replace("−", "-").strip()
    if not folded:
        return Parsed(None, Status.UNPARSEABLE, "empty answer")
    reasoning = ""
    try:
        found, reasoning, rest = _from_json(folded, scale)
        rest = _SUB.sub(lambda m: " " * len(m.group(0)), rest)
        for level, pattern in (
            ("final label", _FINAL),
            ("score label", _PLAIN),
            ("score out of the top", _out_of(scale.high)),
        ):
            found += [_found(m, level, scale) for m in pattern.finditer(rest)]
        found += [_found(m, "bare number", scale) for m in _BARE.finditer(rest)]
        value = _decide(found)
    except _Refused as refused:
        return Parsed(None, refused.status, refused.reason, reasoning)
    if value is None:
        return Parsed(None, Status.UNPARSEABLE, NO_SCORE, reasoning)
    return _on_scale(value, scale, reasoning)


def _decide(found: list[_Found]) -> float | None:
    """The one value every place agrees on; a problem or a disagreement refuses the answer."""
    for item in found:
        if item.problem:
            status, _, reason = item.problem.partition(": ")
            raise _Refused(Status(status), reason)
    if not found:
        return None
    values = sorted({item.value for item in found})
    if len(values) > 1:
        first = found[0].level
        same = sorted({i.value for i in found if i.level == first})
        where = (
            f"several scores ({_listed(same)}) by {first}"
            if len(same) > 1
            else "conflicting scores: "
            + ", ".join(f"{i.value:g} ({i.level})" for i in _distinct(found))
        )
        raise _Refused(Status.UNPARSEABLE, f"ambiguous: {where}")
    return values[0]


def _distinct(found: list[_Found]) -> list[_Found]:
    seen: dict[float, _Found] = {}
    for item in found:
        seen.setdefault(item.value, item)
    return list(seen.values())


def _listed(values: list[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _found(match: re.Match, level: str, scale: Scale) -> _Found:
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    number = groups.pop("number")
    return _Found(float(number), level, _tail_problem(number, groups, scale))


def _tail_problem(number: str, tail: dict[str, str], scale: Scale) -> str:
    """Why what follows the number makes it no score on this scale ("" when nothing does)."""
    if "range" in tail:
        return f"{Status.UNPARSEABLE.value}: ambiguous: a range ({number}{tail['range'].strip()})"
    if "comma" in tail:
        return (
            f"{Status.UNPARSEABLE.value}: ambiguous: a decimal comma or a list "
            f"({number}{tail['comma']})"
        )
    top = tail.get("over") or tail.get("outof")
    if top is not None and float(top) != scale.high:
        return (
            f"{Status.OUT_OF_RANGE.value}: a score out of {float(top):g} ({number}/{top}), "
            f"not on this dimension's scale {scale}"
        )
    return ""


def _on_scale(value: float, scale: Scale, reasoning: str = "") -> Parsed:
    if math.isnan(value) or not scale.contains(value):
        return Parsed(
            None, Status.OUT_OF_RANGE, f"score {value:g} is outside the scale {scale}", reasoning
        )
    return Parsed(value, Status.OK, "", reasoning)


def _from_json(text: str, scale: Scale) -> tuple[list[_Found], str, str]:
    """Scores of the top-level JSON objects that have one, their reasoning, and the text around them.

    The objects' own text is blanked out of what the other levels read: numbers in a JSON
    reasoning never count, and an object inside another is never looked into (a sub-score).
    """
    found: list[_Found] = []
    reasoning = ""
    rest = text
    for start, end, pairs in _json_spans(text):
        keys = [(k, v) for k, v in pairs if str(k).strip().lower() in JSON_KEYS]
        if keys:
            if len(keys) > 1:
                raise _Refused(
                    Status.UNPARSEABLE,
                    "ambiguous: the JSON object names its score "
                    f"{len(keys)} times ({_listed_json(keys)})",
                )
            found.append(_json_value(keys[0][1], scale))
            reasoning = reasoning or _reasoning(dict(pairs))
            rest = rest[:start] + " " * (end - start) + rest[end:]
    return found, reasoning, rest


def _listed_json(pairs: list) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for _, v in pairs)


def _json_value(value, scale: Scale) -> _Found:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise _Refused(Status.UNPARSEABLE, f"JSON score is {value!r}, not a number")
    if isinstance(value, (int, float)):
        return _Found(float(value), "JSON")
    match = re.fullmatch(
        r"\s*" + NUM + TAIL + r"\s*分?\s*", unicodedata.normalize("NFKC", str(value))
    )
    if match is None:
        raise _Refused(Status.UNPARSEABLE, f"JSON score {value!r} is not a number")
    return _found(match, "JSON", scale)


def _reasoning(data: dict) -> str:
    for key in ("reasoning", "reason", "explanation", "rationale", "理由"):
        if key in data:
            value = data[key]
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return ""


# -- several scores in one answer (the benchmarks' own protocols) --------------------------------

_LIST_NUMBER = r"([-+]?\d+(?:\.\d+)?)"
_REASONING_LINE = re.compile(r"^\W*(?:brief\s+)?reasoning\W*[:：]\s*(.+)$", re.I | re.M)


@dataclass(frozen=True)
class Subscore:
    """What an answer calls one sub-score: its id, its label in lines, its key in JSON."""

    id: str
    label: str
    key: str


def parse_subscores(
    text: str, subscores: list[Subscore], scale: Scale = SCORE_SCALE, list_ok: bool = True
) -> dict[str, Parsed]:
    """Each sub-score read from one answer on `scale`, or why it cannot be.

    Where a sub-score can stand, in order (the first form that names any sub-score decides):
    1. a JSON object: `"score": [7, 5]` in the sub-scores' order (`list_ok`), `"score": 4` for
       a single one, or each sub-score's key (`"consistency_score": 4`);
    2. a bare list of as many numbers as there are sub-scores (`[7, 5]`, `list_ok`);
    3. a line per sub-score, `Prompt Compliance: 4` (its label or its key; `**` allowed);
    4. for a single sub-score: wherever `parse_score` finds one (`Final Score: 4`, `Score: 4`,
       `4/5`, the bare number), by its rules.
    Every value is read as `parse_score` reads one: a range (`3-4`), a decimal comma (`3,5`),
    a score out of another top (`4/10` on 1-5), a JSON key or a line given twice, a value
    missing from the deciding form, off the scale or (a whole-number scale) not a whole number
    fails that sub-score on its own. Nothing is ever filled in.
    """
    folded = unicodedata.normalize("NFKC", text or "").replace("−", "-").strip()
    if not folded:
        return _all(subscores, Parsed(None, Status.UNPARSEABLE, "empty answer"))
    reasoning = _answer_reasoning(folded)
    readers = [_json_subscores, _list_subscores, _line_subscores, _single_subscore]
    if len(subscores) == 1:  # "Final Score: 4" decides before a line that names the sub-score
        readers = [_json_subscores, _single_subscore, _line_subscores]
    for reader in readers:
        found = reader(folded, subscores, scale, list_ok)
        if found is not None:
            return {s.id: _check_value(found.get(s.id), s, scale, reasoning) for s in subscores}
    names = ", ".join(s.label for s in subscores)
    return _all(subscores, Parsed(None, Status.UNPARSEABLE, f"no score found for {names}"))


def _all(subscores: list[Subscore], parsed: Parsed) -> dict[str, Parsed]:
    return {s.id: parsed for s in subscores}


def _check_value(found, sub: Subscore, scale: Scale, reasoning: str) -> Parsed:
    """A found value (float), a result already decided (Parsed), or None (missing)."""
    if isinstance(found, Parsed):
        return Parsed(found.score, found.status, found.reason, found.reasoning or reasoning)
    if found is None:
        return Parsed(None, Status.UNPARSEABLE, f"no {sub.label} score in the answer", reasoning)
    if math.isnan(found) or not scale.contains(found):
        return Parsed(
            None,
            Status.OUT_OF_RANGE,
            f"{sub.label} {found:g} is outside the scale {scale}",
            reasoning,
        )
    return Parsed(float(found), Status.OK, "", reasoning)


def _value(match: re.Match, scale: Scale) -> float | Parsed:
    """A matched number, or the failure its tail makes it (a range, a comma, another top)."""
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    number = groups.pop("number")
    problem = _tail_problem(number, groups, scale)
    if problem:
        status, _, reason = problem.partition(": ")
        return Parsed(None, Status(status), reason)
    return float(number)


def _numeric(value, scale: Scale) -> float | Parsed:
    if isinstance(value, bool) or value is None or isinstance(value, (list, tuple, dict)):
        return Parsed(None, Status.UNPARSEABLE, f"JSON score is {value!r}, not a number")
    if isinstance(value, (int, float)):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value))
    match = re.fullmatch(r"\s*" + NUM + TAIL + r"\s*分?\s*", text)
    if match is None:
        return Parsed(None, Status.UNPARSEABLE, f"JSON score {value!r} is not a number")
    return _value(match, scale)


def _json_spans(text: str):
    """(start, end, its (key, value) pairs, duplicates kept) of each top-level JSON object in
    the text; an object inside another is never looked into."""
    start = text.find("{")
    while start != -1:
        try:
            pairs, end = json.JSONDecoder(object_pairs_hook=list).raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        yield start, end, pairs
        start = text.find("{", end)


def _json_objects(text: str):
    """The (key, value) pairs of each top-level JSON object in the text, keys lowercased."""
    for _, _, pairs in _json_spans(text):
        yield [(str(k).strip().lower(), v) for k, v in pairs]


def _named(pairs: list, key: str, scale: Scale) -> float | Parsed | None:
    values = [v for k, v in pairs if k == key.lower()]
    if len(values) > 1:
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
        return Parsed(
            None, Status.UNPARSEABLE, f"ambiguous: the JSON object names {key} twice ({shown})"
        )
    return _numeric(values[0], scale) if values else None


def _json_subscores(text: str, subscores: list[Subscore], scale: Scale, list_ok: bool):
    for pairs in _json_objects(text):
        keyed = {s.id: _named(pairs, s.key, scale) for s in subscores}
        keyed = {k: v for k, v in keyed.items() if v is not None}
        if keyed:
            return keyed
        scores = [v for k, v in pairs if k == "score"]
        if not scores:
            continue
        if len(scores) > 1:
            failure = Parsed(
                None, Status.UNPARSEABLE, "ambiguous: the JSON object names score twice"
            )
            return _all(subscores, failure)
        if isinstance(scores[0], list) and not any(isinstance(v, tuple) for v in scores[0]):
            return _positional(scores[0], subscores, "JSON score list", scale) if list_ok else None
        if len(subscores) == 1:
            return {subscores[0].id: _numeric(scores[0], scale)}
        return _all(subscores, Parsed(None, Status.UNPARSEABLE, "one JSON score for several"))
    return None


def _positional(values: list, subscores: list[Subscore], where: str, scale: Scale) -> dict:
    if len(values) != len(subscores):
        failure = Parsed(
            None,
            Status.UNPARSEABLE,
            f"{where} has {len(values)} values for {len(subscores)} sub-scores",
        )
        return _all(subscores, failure)
    return {s.id: _numeric(v, scale) for s, v in zip(subscores, values, strict=True)}


def _list_subscores(text: str, subscores: list[Subscore], scale: Scale, list_ok: bool):
    if not list_ok or len(subscores) < 2:
        return None
    pattern = r"\[\s*" + r"\s*,\s*".join([_LIST_NUMBER] * len(subscores)) + r"\s*\]"
    found = {tuple(m) for m in re.findall(pattern, text)}
    if not found:
        return None
    if len(found) > 1:
        return _all(subscores, Parsed(None, Status.UNPARSEABLE, "ambiguous: several score lists"))
    return _positional([float(v) for v in found.pop()], subscores, "score list", scale)


def _line_subscores(text: str, subscores: list[Subscore], scale: Scale, list_ok: bool):
    found = {}
    for sub in subscores:
        names = {sub.label, sub.key, sub.key.replace("_", " ")}
        alternatives = "|".join(
            re.escape(n).replace(r"\ ", r"[\s_]+") for n in sorted(names, key=len, reverse=True)
        )
        pattern = re.compile(
            r"(?:^|(?<=[\n\"'{,]))[\s*#>\-\"']*(?:"
            + alternatives
            + r")[\s*\"']*[:：=]\s*\**\s*"
            + NUM
            + TAIL,
            re.IGNORECASE | re.MULTILINE,
        )
        values = [_value(m, scale) for m in pattern.finditer(text)]
        failed = [v for v in values if isinstance(v, Parsed)]
        distinct = sorted({v for v in values if not isinstance(v, Parsed)})
        if failed:
            found[sub.id] = failed[0]
        elif len(distinct) > 1:
            shown = ", ".join(f"{v:g}" for v in distinct)
            found[sub.id] = Parsed(
                None, Status.UNPARSEABLE, f"ambiguous: {sub.label} given as {shown}"
            )
        elif distinct:
            found[sub.id] = distinct[0]
    return found or None


def _single_subscore(text: str, subscores: list[Subscore], scale: Scale, list_ok: bool):
    """One sub-score read wherever `parse_score` reads a score (None where it finds none)."""
    if len(subscores) != 1:
        return None
    parsed = parse_score(text, scale)
    if parsed.status == Status.UNPARSEABLE and parsed.reason == NO_SCORE:
        return None
    return {subscores[0].id: parsed.score if parsed.ok else parsed}


def _answer_reasoning(text: str) -> str:
    for pairs in _json_objects(text):
        reasoning = _reasoning(dict(pairs))
        if reasoning:
            return reasoning
    match = _REASONING_LINE.search(text)
    if match:
        return match.group(1).strip()
    final = _FINAL.search(text)
    return text[: final.start()].strip(" *#\n")[-500:] if final else ""
