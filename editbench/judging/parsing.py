"""Read one score from a judge's written answer on the dimension's scale, or say why it cannot be read.

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


_JSON_KEYS = ("score", "final_score", "评分")


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
        return Parsed(None, Status.UNPARSEABLE, "no score found in the answer", reasoning)
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
    start = text.find("{")
    while start != -1:
        try:
            pairs, end = json.JSONDecoder(object_pairs_hook=list).raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        keys = [(k, v) for k, v in pairs if str(k).strip().lower() in _JSON_KEYS]
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
        start = text.find("{", end)
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
