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

from editbench.vocabulary import Status

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
    status: Status
    reason: str = ""
    reasoning: str = ""

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


def parse_score(text: str) -> Parsed:
    folded = unicodedata.normalize("NFKC", text or "").replace("−", "-").strip()
    if not folded:
        return Parsed(None, Status.UNPARSEABLE, "empty answer")
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
    return Parsed(None, Status.UNPARSEABLE, "no score found in the answer")


def _numbers(pattern: re.Pattern, text: str) -> list[str]:
    return [next(g for g in match.groups() if g is not None) for match in pattern.finditer(text)]


def _one(values: list[str], where: str, reasoning: str = "") -> Parsed:
    distinct = sorted({float(v) for v in values})
    if len(distinct) > 1:
        shown = ", ".join(f"{v:g}" for v in distinct)
        return Parsed(
            None, Status.UNPARSEABLE, f"ambiguous: several scores ({shown}) by {where}", reasoning
        )
    return _in_range(distinct[0], reasoning)


def _in_range(value: float, reasoning: str = "") -> Parsed:
    if math.isnan(value) or not LOW <= value <= HIGH:
        return Parsed(
            None, Status.OUT_OF_RANGE, f"score {value:g} is outside [{LOW:g}, {HIGH:g}]", reasoning
        )
    return Parsed(value, Status.OK, "", reasoning)


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
        return Parsed(None, Status.UNPARSEABLE, f"JSON score is {value!r}, not a number", reasoning)
    if isinstance(value, (int, float)):
        return _in_range(float(value), reasoning)
    match = re.fullmatch(
        r"\s*" + NUM + r"\s*(?:/\s*10|分)?\s*", unicodedata.normalize("NFKC", str(value))
    )
    if match is None:
        return Parsed(None, Status.UNPARSEABLE, f"JSON score {value!r} is not a number", reasoning)
    return _in_range(float(match.group(1)), reasoning)


def _reasoning(data: dict) -> str:
    for key in ("reasoning", "reason", "explanation", "rationale", "理由"):
        if key in data:
            return str(data[key])
    return ""


# -- several scores in one answer (the benchmarks' own protocols) --------------------------------

_NUMBER = r"([-+]?\d+(?:\.\d+)?)"
_FINAL_SCORE = re.compile(
    r"final\s+scores?[\s*]*[:：=]?[\s*]*" + _NUMBER, re.IGNORECASE | re.MULTILINE
)
_SCORE_LABEL = re.compile(
    r"(?:^|(?<=[\n.;(\[*#>\"'`{]))\s*\**\s*(?:(?:my|the)\s+)?score\s*\**\s*[:：=]\s*\**\s*"
    + _NUMBER,
    re.IGNORECASE | re.MULTILINE,
)
_BARE_NUMBER = re.compile(r"^\s*\**\s*" + _NUMBER + r"\s*\**\s*[.。]?\s*$")
_REASONING_LINE = re.compile(r"^\W*(?:brief\s+)?reasoning\W*[:：]\s*(.+)$", re.I | re.M)


@dataclass(frozen=True)
class Subscore:
    """What an answer calls one sub-score: its id, its label in lines, its key in JSON."""

    id: str
    label: str
    key: str


def parse_subscores(
    text: str,
    subscores: list[Subscore],
    low: float,
    high: float,
    integer: bool = False,
    list_ok: bool = True,
) -> dict[str, Parsed]:
    """Each sub-score read from one answer on the scale [low, high], or why it cannot be.

    Where a sub-score can stand, in order (the first form that names any sub-score decides):
    1. a JSON object: `"score": [7, 5]` in the sub-scores' order (`list_ok`), `"score": 4` for
       a single one, or each sub-score's key (`"consistency_score": 4`);
    2. a bare list of as many numbers as there are sub-scores (`[7, 5]`, `list_ok`);
    3. a line per sub-score, `Prompt Compliance: 4` (its label or its key; `**` allowed);
    4. for a single sub-score: `Final Score: 4`, `Score: 4`, `4/<high>`, or the bare number.
    A sub-score missing from the deciding form, given twice with different values, off the
    scale or (when `integer`) not a whole number fails on its own; nothing is ever filled in.
    """
    folded = unicodedata.normalize("NFKC", text or "").replace("−", "-").strip()
    if not folded:
        return _all(subscores, Parsed(None, Status.UNPARSEABLE, "empty answer"))
    reasoning = _answer_reasoning(folded)
    readers = [_json_subscores, _list_subscores, _line_subscores, _single_subscore]
    if len(subscores) == 1:  # "Final Score: 4" decides before a line that names the sub-score
        readers = [_json_subscores, _single_subscore, _line_subscores]
    for reader in readers:
        found = reader(folded, subscores, high, list_ok)
        if found is not None:
            return {
                s.id: _check_value(found.get(s.id), s, low, high, integer, reasoning)
                for s in subscores
            }
    names = ", ".join(s.label for s in subscores)
    return _all(subscores, Parsed(None, Status.UNPARSEABLE, f"no score found for {names}"))


def _all(subscores: list[Subscore], parsed: Parsed) -> dict[str, Parsed]:
    return {s.id: parsed for s in subscores}


def _check_value(
    found, sub: Subscore, low: float, high: float, integer: bool, reasoning: str
) -> Parsed:
    """A found value (float), a failure already decided (Parsed), or None (missing)."""
    if isinstance(found, Parsed):
        return Parsed(found.score, found.status, found.reason, reasoning)
    if found is None:
        return Parsed(None, Status.UNPARSEABLE, f"no {sub.label} score in the answer", reasoning)
    if math.isnan(found) or not low <= found <= high or (integer and found != int(found)):
        what = "a whole number " if integer else ""
        return Parsed(
            None,
            Status.OUT_OF_RANGE,
            f"{sub.label} {found:g} is not {what}in [{low:g}, {high:g}]",
            reasoning,
        )
    return Parsed(float(found), Status.OK, "", reasoning)


def _numeric(value) -> float | Parsed:
    if isinstance(value, bool) or value is None:
        return Parsed(None, Status.UNPARSEABLE, f"JSON score is {value!r}, not a number")
    if isinstance(value, (int, float)):
        return float(value)
    match = re.fullmatch(r"\s*" + _NUMBER + r"\s*", str(value))
    if match is None:
        return Parsed(None, Status.UNPARSEABLE, f"JSON score {value!r} is not a number")
    return float(match.group(1))


def _json_objects(text: str):
    start = text.find("{")
    while start != -1:
        try:
            data, end = json.JSONDecoder().raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(data, dict):
            yield data
        start = text.find("{", end)


def _json_subscores(text: str, subscores: list[Subscore], high: float, list_ok: bool):
    for data in _json_objects(text):
        lowered = {str(k).strip().lower(): v for k, v in data.items()}
        keyed = {s.id: lowered[s.key.lower()] for s in subscores if s.key.lower() in lowered}
        if keyed:
            return {k: _numeric(v) for k, v in keyed.items()}
        if "score" not in lowered:
            continue
        value = lowered["score"]
        if isinstance(value, list):
            return _positional(value, subscores, "JSON score list") if list_ok else None
        if len(subscores) == 1:
            return {subscores[0].id: _numeric(value)}
        return _all(subscores, Parsed(None, Status.UNPARSEABLE, "one JSON score for several"))
    return None


def _positional(values: list, subscores: list[Subscore], where: str) -> dict:
    if len(values) != len(subscores):
        failure = Parsed(
            None,
            Status.UNPARSEABLE,
            f"{where} has {len(values)} values for {len(subscores)} sub-scores",
        )
        return _all(subscores, failure)
    return {s.id: _numeric(v) for s, v in zip(subscores, values, strict=True)}


def _list_subscores(text: str, subscores: list[Subscore], high: float, list_ok: bool):
    if not list_ok or len(subscores) < 2:
        return None
    pattern = r"\[\s*" + r"\s*,\s*".join([_NUMBER] * len(subscores)) + r"\s*\]"
    found = {tuple(m) for m in re.findall(pattern, text)}
    if not found:
        return None
    if len(found) > 1:
        return _all(subscores, Parsed(None, Status.UNPARSEABLE, "ambiguous: several score lists"))
    return _positional([float(v) for v in found.pop()], subscores, "score list")


def _line_subscores(text: str, subscores: list[Subscore], high: float, list_ok: bool):
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
            + _NUMBER,
            re.IGNORECASE | re.MULTILINE,
        )
        values = {float(v) for v in pattern.findall(text)}
        if len(values) > 1:
            shown = ", ".join(f"{v:g}" for v in sorted(values))
            found[sub.id] = Parsed(
                None, Status.UNPARSEABLE, f"ambiguous: {sub.label} given as {shown}"
            )
        elif values:
            found[sub.id] = values.pop()
    return found or None


def _single_subscore(text: str, subscores: list[Subscore], high: float, list_ok: bool):
    if len(subscores) != 1:
        return None
    out_of = re.compile(_NUMBER + r"\s*(?:/\s*|out\s+of\s+)" + f"{high:g}" + r"\b", re.I)
    for pattern in (_FINAL_SCORE, _SCORE_LABEL, out_of, _BARE_NUMBER):
        values = {float(v) for v in pattern.findall(text)}
        if len(values) > 1:
            shown = ", ".join(f"{v:g}" for v in sorted(values))
            failure = Parsed(None, Status.UNPARSEABLE, f"ambiguous: several scores ({shown})")
            return {subscores[0].id: failure}
        if values:
            return {subscores[0].id: values.pop()}
    return None


def _answer_reasoning(text: str) -> str:
    for data in _json_objects(text):
        reasoning = _reasoning(data)
        if reasoning:
            return reasoning
    match = _REASONING_LINE.search(text)
    if match:
        return match.group(1).strip()
    final = _FINAL_SCORE.search(text)
    return text[: final.start()].strip(" *#\n")[-500:] if final else ""
