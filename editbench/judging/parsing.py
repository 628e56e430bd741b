"""Read one score from a judge's written answer, or say why it cannot be read.

Accepted, in this order of precedence (the first that finds a score decides; numbers in the
reasoning never do):
1. a JSON object with a top-level "score" (code fences allowed around it);
2. a final label: "Final score: 7", "Overall score = 7", "最终评分：8分", "总分 8";
3. a plain label: "Score: 7.5", "Rating: 7", "评分：8分" (a label after another word, such as
   "sharpness score: 3", is a sub-score and is ignored);
4. a score out of ten: "7.5/10", "7 out of 10", "8分";
5. the whole answer is a number.
Full-width characters (７.５, ：) are folded first (NFKC). Several different values at the same
level are ambiguous, a failure. A value outside [0, 10] is a failure ("out-of-range").
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass

LOW, HIGH = 0.0, 10.0
NUM = r"([-+−]?\d+(?:\.\d+)?)"
_BOUNDARY = r"(?:^|(?<=[\s.;,!?()\[\]*#>\"'`_\-]))"
_FINAL = re.compile(
    _BOUNDARY
    + r"(?:final|overall)\s+(?:score|rating)\s*(?:is|of)?\s*[:=]?\s*\**\s*"
    + NUM
    + r"|(?:最终评分|最终得分|最终分数|总分|综合评分|总评分)\s*(?:为|是)?\s*[:=]?\s*"
    + NUM,
    re.IGNORECASE | re.MULTILINE,
)
_PLAIN = re.compile(
    r"(?:^|(?<=[\n.;,!?(\[*#>\"'`{]))\s*(?:(?:my|the)\s+)?(?:score|rating)\s*(?:is|of)?\s*[:=]?\s*\**\s*"
    + NUM
    + r"|(?:评分|得分|分数|打分)\s*(?:为|是)?\s*[:=]?\s*"
    + NUM,
    re.IGNORECASE | re.MULTILINE,
)
_OUT_OF = re.compile(NUM + r"\s*(?:/\s*10(?:\.0+)?\b|out\s+of\s+10\b|分(?!制))", re.IGNORECASE)
_BARE = re.compile(r"^\s*\**\s*" + NUM + r"\s*\**\s*[.。]?\s*$")


@dataclass(frozen=True)
class Parsed:
    """A score (status "ok") or a failure status with its reason; reasoning when the judge gave one."""

    score: float | None
    status: str
    reason: str = ""
    reasoning: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def parse_score(text: str) -> Parsed:
    folded = unicodedata.normalize("NFKC", text or "").replace("−", "-").strip()
    if not folded:
        return Parsed(None, "unparseable", "empty answer")
    found = _from_json(folded)
    if found is not None:
        return found
    for name, pattern in (
        ("final label", _FINAL),
        ("score label", _PLAIN),
        ("score out of 10", _OUT_OF),
        ("bare number", _BARE),
    ):
        values = _numbers(pattern, folded)
        if values:
            return _one(values, name)
    return Parsed(None, "unparseable", "no score found in the answer")


def _numbers(pattern: re.Pattern, text: str) -> list[str]:
    return [next(g for g in match.groups() if g is not None) for match in pattern.finditer(text)]


def _one(values: list[str], where: str, reasoning: str = "") -> Parsed:
    distinct = sorted({float(v) for v in values})
    if len(distinct) > 1:
        shown = ", ".join(f"{v:g}" for v in distinct)
        return Parsed(
            None, "unparseable", f"ambiguous: several scores ({shown}) by {where}", reasoning
        )
    return _in_range(distinct[0], reasoning)


def _in_range(value: float, reasoning: str = "") -> Parsed:
    if math.isnan(value) or not LOW <= value <= HIGH:
        return Parsed(
            None, "out-of-range", f"score {value:g} is outside [{LOW:g}, {HIGH:g}]", reasoning
        )
    return Parsed(value, "ok", "", reasoning)


def _from_json(text: str) -> Parsed | None:
    """A JSON object with a top-level score decides; None when there is no such object."""
    start = text.find("{")
    while start != -1:
        try:
            data, end = json.JSONDecoder().raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        key = next(
            (k for k in data if str(k).strip().lower() in ("score", "final_score", "评分")), None
        )
        if key is not None:
            return _json_value(data[key], _reasoning(data))
        start = text.find("{", end)  # never look inside an object for a nested (sub-)score
    return None


def _json_value(value, reasoning: str) -> Parsed:
    if isinstance(value, bool) or value is None:
        return Parsed(None, "unparseable", f"JSON score is {value!r}, not a number", reasoning)
    if isinstance(value, (int, float)):
        return _in_range(float(value), reasoning)
    match = re.fullmatch(
        r"\s*" + NUM + r"\s*(?:/\s*10|分)?\s*", unicodedata.normalize("NFKC", str(value))
    )
    if match is None:
        return Parsed(None, "unparseable", f"JSON score {value!r} is not a number", reasoning)
    return _in_range(float(match.group(1)), reasoning)


def _reasoning(data: dict) -> str:
    for key in ("reasoning", "reason", "explanation", "rationale", "理由"):
        if key in data:
            return str(data[key])
    return ""
