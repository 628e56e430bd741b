"""Prompts: the template variables, the one template checker, and how each answer format is asked.

A protocol's ask names its template: one of editbench's own (`{name}` fields, `{{`/`}}` for a
literal brace, every field one of VARIABLES, checked at startup), a suite's template (the
editbench protocol reads `sc.txt`, `pq.txt` and `criterion.txt` from the suite's `templates:`
folder, else from the packaged ones), or a benchmark's own prompt file as downloaded, sent as
written with its `<placeholders>` replaced by the variables the protocol maps them to; under
`logit` a last line asks for the one score the request reads.

`{answer_format}` says how to answer, from the ask's answer format, its sub-scores and scale:
`score` (a JSON object with one "score" and a "reasoning", the editbench protocol's), `list` (a
JSON object with "score": [a, b], as VIEScore asks), `lines` ("Prompt Compliance: 4", as ImgEdit
asks), `keys` (a JSON object with named keys, as KRIS asks), `final` ("Final Score: 4", as
RISEBench asks). Under `logit` every request asks for one bare number: the score of one
sub-score.
"""

from __future__ import annotations

import difflib
import json
import string
from pathlib import Path

from editbench.errors import ConfigError
from editbench.suites.model import Case

VARIABLES = {
    "instruction": "the edit instruction",
    "description": "the description of the source image ('(none given)' when absent)",
    "category": "the category's display name (物理)",
    "criterion": "the category's criterion (suite.yaml `criterion:`, or suite.categories for base64)",
    "explanation": "the knowledge the edit needs (KRIS explain_en; '(none given)' when absent)",
    "reference_text": "the reference (ground-truth) description of the result, when given",
    "images": "which image is which, e.g. 'Image 1 is the source image...'",
    "answer_format": "how to answer, from the answer format, the sub-scores and the scale",
}
IMAGE_NAMES = {
    "source": "the source image before editing",
    "edited": "the edited image",
    "reference": "the reference image: what a correct result should look like",
    # several input images of one case, shown together (a protocol may word it its own way)
    "sources": "the {count} input images of the edit, in the order the instruction refers to them",
}
NONE_GIVEN = "(none given)"
# Used when a category gives no criterion (suite.yaml or, for base64 suites, suite.categories).
DEFAULT_CRITERIA = {
    "physical": "physical and geometric consistency",
    "environmental": "lighting and environment realism",
    "social": "social and cultural appropriateness",
    "causal": "causal correctness",
    "referential": "the right referent",
}


def criterion_of(case: Case) -> str:
    return case.category.criterion or DEFAULT_CRITERIA.get(case.category.key, "")


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
        if not name.isidentifier():
            raise ConfigError(
                f"prompt template {where}: stray brace around {{{name}{':' + spec if spec else ''}}}; "
                "write {{ and }} for literal braces (JSON examples included)"
            )
        if name not in VARIABLES:
            close = difflib.get_close_matches(name, list(VARIABLES), n=1)
            hint = f"; did you mean {{{close[0]}}}?" if close else ""
            raise ConfigError(
                f"prompt template {where}: unknown variable {{{name}}}{hint} "
                f"(known: {', '.join(sorted(VARIABLES))})"
            )
        if spec or conversion:
            raise ConfigError(
                f"prompt template {where}: {{{name}}} has a format spec or conversion; "
                "use the plain {name} form"
            )
    return text


def uses(text: str, variable: str) -> bool:
    """Whether a checked template names this variable."""
    return any(name == variable for _, name, _, _ in string.Formatter().parse(text))


def prompt_file_text(prompt) -> str:
    """The prompt text of a benchmark's own file (`model.PromptFile`): the whole text file, or one
    key of a JSON object."""
    text = prompt.path.read_text(encoding="utf-8")
    if prompt.key is None:
        return text
    return str(json.loads(text)[prompt.key])


def read_template(path: Path) -> str:
    return check_text(path.read_text(encoding="utf-8"), str(path))


def fill_prompt_file(text: str, placeholders: dict[str, str], values: dict[str, str]) -> str:
    """A benchmark's own prompt with each mapped `<placeholder>` replaced by its variable's value."""
    for token, variable in placeholders.items():
        text = text.replace(token, values[variable])
    return text


def describe_images(kinds: list[str], names: dict[str, str] = IMAGE_NAMES) -> str:
    """Which image is which, numbered in the order the judge sees them; several source images
    are one group, worded by `names["sources"]`."""
    if len(kinds) == 1:
        return f"The image is {names[kinds[0]]}."
    sources = kinds.count("source")
    parts, number = [], 1
    for index, kind in enumerate(kinds):
        if kind == "source" and sources > 1:
            if index == kinds.index("source"):
                group = names["sources"].format(count=sources)
                parts.append(f"Images {number}-{number + sources - 1} are {group}.")
                number += sources
            continue
        parts.append(f"Image {number} is {names[kind]}.")
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
    if ask.answer == "score":
        if method == "logit":
            return f"Answer with the score alone: one integer from {scale.low:g} to {scale.high:g}."
        allowed = range_text(scale.low, scale.high, scale.integer_only)
        return (
            'Answer with one JSON object and nothing else: {"score": <'
            + allowed
            + '>, "reasoning": "<one or two sentences>"}'
        )
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
    if ask.answer == "score":
        allowed = range_text(ask.scale.low, ask.scale.high, ask.scale.integer_only)
        return (
            "\n\nYour previous answer could not be read as a score. Reply with exactly one JSON "
            'object and nothing else, for example {"score": 6, "reasoning": "..."}; the score is '
            f"{allowed}."
        )
    names = ", ".join(s.label for s in ask.subscores)
    return (
        "\n\nYour previous answer could not be read: every score must be given, on its scale, "
        f"in the layout asked for ({names}). Answer again in exactly that layout."
    )
