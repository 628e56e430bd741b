"""Prompts of a protocol's asks: editbench's own templates, or a benchmark's prompt file as downloaded.

Our templates use `{name}` fields (`{{`/`}}` for a literal brace) from VARIABLES, checked at
startup like the suite templates of the editbench protocol. A benchmark's own prompt file is
sent as written, with its `<placeholders>` replaced by the variables the protocol maps them to;
under `logit` a last line asks for the one score the request reads.

`{answer_format}` says how to answer, from the ask's answer format, its sub-scores and scale:
`list` (a JSON object with "score": [a, b], as VIEScore asks), `lines` ("Prompt Compliance: 4",
as ImgEdit asks), `keys` (a JSON object with named keys, as KRIS asks), `final` ("Final Score: 4",
as RISEBench asks). Under `logit` every request asks for one bare number: the score of one
sub-score.
"""

from __future__ import annotations

import difflib
import string
from pathlib import Path

from editbench.errors import ConfigError

VARIABLES = {
    "instruction": "the edit instruction",
    "description": "the description of the source image ('(none given)' when absent)",
    "category": "the category's display name",
    "explanation": "the knowledge the edit needs (KRIS explain_en; '(none given)' when absent)",
    "reference_text": "the reference (ground-truth) description of the result, when given",
    "images": "which image is which, e.g. 'Image 1 is the source image...'",
    "answer_format": "how to answer, from the answer format, the sub-scores and the scale",
}
IMAGE_NAMES = {
    "source": "the source image before editing",
    "edited": "the edited image",
    "reference": "the reference image: what a correct result should look like",
}
NONE_GIVEN = "(none given)"


def check_text(text: str, where: str) -> str:
    """Every `{field}` of a template is a known variable; stray braces are refused."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigError(
            f"prompt template {where}: {exc} (a stray '{{' or '}}'); write {{{{ or }}}} for a "
            "literal brace"
        ) from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in VARIABLES:
            close = difflib.get_close_matches(name, list(VARIABLES), n=1)
            hint = f"; did you mean {{{close[0]}}}?" if close else ""
            raise ConfigError(
                f"prompt template {where}: unknown variable {{{name}}}{hint} "
                f"(known: {', '.join(sorted(VARIABLES))})"
            )
        if spec or conversion:
            raise ConfigError(f"prompt template {where}: use the plain {{{name}}} form")
    return text


def read_template(path: Path) -> str:
    return check_text(path.read_text(encoding="utf-8"), str(path))


def fill_prompt_file(text: str, placeholders: dict[str, str], values: dict[str, str]) -> str:
    """A benchmark's own prompt with each mapped `<placeholder>` replaced by its variable's value."""
    for token, variable in placeholders.items():
        text = text.replace(token, values[variable])
    return text


def describe_images(kinds: list[str]) -> str:
    """Which image is which, numbered in the order the judge sees them."""
    if len(kinds) == 1:
        return f"The image is {IMAGE_NAMES[kinds[0]]}."
    sources = kinds.count("source")
    parts, number = [], 1
    for index, kind in enumerate(kinds):
        if kind == "source" and sources > 1:
            if index == kinds.index("source"):
                parts.append(
                    f"Images {number}-{number + sources - 1} are the {sources} input images of "
                    "the edit, in the order the instruction refers to them."
                )
                number += sources
            continue
        parts.append(f"Image {number} is {IMAGE_NAMES[kind]}.")
        number += 1
    return " ".join(parts)


def range_text(low: float, high: float, integer: bool) -> str:
    if integer and (low, high) == (0, 1):
        return "0 or 1"
    kind = "whole number" if integer else "number"
    return f"a {kind} from {low:g} to {high:g}"


def answer_format(ask, method: str, subscore=None) -> str:
    """How to answer this ask (generate), or the one sub-score this request reads (logit)."""
    scale = ask.scale
    allowed = range_text(scale.low, scale.high, scale.integer_only or method == "logit")
    if method == "logit":
        if len(ask.subscores) == 1:
            return f"Answer with the score alone: {allowed}."
        return f"Give only the {subscore.label} score now. Answer with that score alone: {allowed}."
    labels = [s.label for s in ask.subscores]
    if ask.answer == "list":
        shown = ", ".join(f"<{label}>" for label in labels)
        return (
            'Answer with one JSON object and nothing else: {"score": [' + shown + "], "
            '"reasoning": "<one or two sentences>"}, each score ' + allowed + ", in this order."
        )
    if ask.answer == "lines":
        lines = "\n".join(f"{label}: <{allowed}>" for label in labels)
        return f"Answer in exactly this layout, one line each:\nBrief reasoning: <one sentence>\n{lines}"
    if ask.answer == "keys":
        keys = ", ".join(f'"{s.key}": <{allowed}>' for s in ask.subscores)
        return f'Answer with one JSON object and nothing else: {{{keys}, "reasoning": "<one or two sentences>"}}'
    return f"Explain your judgement step by step, then end with the line\nFinal Score: <{allowed}>"


def reminder(ask) -> str:
    """Appended for the one retry after an answer whose scores could not all be read."""
    names = ", ".join(s.label for s in ask.subscores)
    return (
        "\n\nYour previous answer could not be read: every score must be given, on its scale, "
        f"in the layout asked for ({names}). Answer again in exactly that layout."
    )
