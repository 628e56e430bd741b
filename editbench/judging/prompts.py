"""Prompt templates: one file per dimension (sc.txt, pq.txt, criterion.txt) with named variables.

A suite names its template folder in suite.yaml (`templates:`); a suite without one uses the
templates shipped in editbench/judging/templates/. Templates use `{name}` fields (`{{`/`}}` for
a literal brace); every field must be one of VARIABLES, checked at startup.
"""

from __future__ import annotations

import difflib
import string
from dataclasses import dataclass
from pathlib import Path

from editbench.cases import Case, Suite
from editbench.errors import ConfigError

PACKAGED = Path(__file__).resolve().parent / "templates"
FILES = {"SC": "sc.txt", "PQ": "pq.txt", "criterion": "criterion.txt"}
VARIABLES = {
    "instruction": "the edit instruction",
    "description": "the description of the source image (may be empty)",
    "category": "the category's display name (物理)",
    "criterion": "the category's criterion (suite.yaml `criterion:`, or suite.categories for base64)",
    "images": "which image is which, e.g. 'Image 1 is the source image...'",
    "answer_format": "how to answer, set by judge.method (logit: a bare integer; generate: JSON)",
}
# Used when a category gives no criterion (suite.yaml or, for base64 suites, suite.categories).
DEFAULT_CRITERIA = {
    "physical": "physical and geometric consistency",
    "environmental": "lighting and environment realism",
    "social": "social and cultural appropriateness",
    "causal": "causal correctness",
    "referential": "the right referent",
}
ANSWER_FORMATS = {
    "logit": "Answer with the score alone: one integer from 0 to 10.",
    "generate": (
        "Answer with one JSON object and nothing else: "
        '{"score": <a number from 0 to 10>, "reasoning": "<one or two sentences>"}'
    ),
}
REMINDER = (
    "\n\nYour previous answer could not be read as a score. Reply with exactly one JSON object "
    'and nothing else, for example {"score": 6, "reasoning": "..."}; the score is a number from 0 to 10.'
)
IMAGE_NAMES = {"source": "the source image before editing", "edited": "the edited image"}


@dataclass(frozen=True)
class Templates:
    texts: dict[str, str]
    files: dict[str, Path]

    def render(
        self,
        dimension: str,
        case: Case,
        instruction: str,
        description: str,
        images: list[str],
        method: str,
    ) -> str:
        values = {
            "instruction": instruction,
            "description": description or "(none given)",
            "category": case.category.display,
            "criterion": criterion_of(case),
            "images": describe_images(images),
            "answer_format": ANSWER_FORMATS[method],
        }
        return self.texts[dimension].format(**values)


def criterion_of(case: Case) -> str:
    return case.category.criterion or DEFAULT_CRITERIA.get(case.category.key, "")


def describe_images(images: list[str]) -> str:
    """Which image is which; several "source" entries (a case with several inputs) are one group."""
    if len(images) == 1:
        return f"The image is {IMAGE_NAMES[images[0]]}."
    sources = images.count("source")
    if sources <= 1:
        return " ".join(
            f"Image {i} is {IMAGE_NAMES[name]}." for i, name in enumerate(images, start=1)
        )
    first = images.index("source") + 1
    parts = [
        f"Image {i} is {IMAGE_NAMES[name]}."
        for i, name in enumerate(images, start=1)
        if name != "source"
    ]
    parts.insert(
        first - 1,
        f"Images {first}-{first + sources - 1} are the {sources} source images "
        "before editing (the inputs of the edit, in the order the instruction "
        "refers to them).",
    )
    return " ".join(parts)


def template_folder(suite: Suite) -> Path:
    return suite.templates if suite.templates is not None else PACKAGED


def load_templates(suite: Suite, dimensions: list[str], source: Path | None = None) -> Templates:
    """Read and check the templates of the configured dimensions; errors name the file and the fix.

    `source`: the file or folder suite.path named, for messages (a suite's root is a folder).
    """
    folder = template_folder(suite)
    texts, files = {}, {}
    for dimension in dimensions:
        path = folder / FILES[dimension]
        if not path.is_file():
            raise ConfigError(
                f"prompt template {path}: missing; dimension {dimension} needs it "
                f"(write it, or drop {dimension} from judge.dimensions)"
            )
        texts[dimension] = check_template(path.read_text(encoding="utf-8"), path)
        files[dimension] = path
    if "criterion" in dimensions:
        for category in suite.categories:
            if not (category.criterion or DEFAULT_CRITERIA.get(category.key)):
                raise ConfigError(
                    f"suite {suite_file(suite, source)}: category {category.key} "
                    f"({category.display}) has no criterion; {where_criteria(suite, category)}"
                )
    return Templates(texts=texts, files=files)


def suite_file(suite: Suite, source: Path | None) -> Path:
    """The file that defines a suite's categories: suite.yaml, or the file suite.path names."""
    if suite.format == "native":
        return suite.root / "suite.yaml"
    return source if source is not None else suite.root


def where_criteria(suite: Suite, category) -> str:
    """Where a category's criterion is given, in the words of the suite's format: the fix."""
    drop = "or drop criterion from judge.dimensions"
    if suite.format == "native":
        return f"add `criterion:` to category {category.key} in {suite.root / 'suite.yaml'}, {drop}"
    if suite.format == "b64":
        return (
            "give it one in the run config's suite.categories, e.g. suite: {categories: "
            f"[{{key: {category.key}, names: [{category.display}], criterion: ...}}]}}, {drop}"
        )
    name = suite.format
    return (
        f"the {name} benchmark defines no criterion: score it under its own protocol, "
        f"--eb-set=judge.protocol={name} or --eb-config=benchmarks/{name}.yaml (its run config)"
    )


def check_template(text: str, path: Path) -> str:
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigError(
            f"prompt template {path}: {exc} (a stray '{{' or '}}'); write {{{{ or }}}} "
            "for a literal brace"
        ) from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier():
            raise ConfigError(
                f"prompt template {path}: stray brace around {{{name}{':' + spec if spec else ''}}}; "
                "write {{ and }} for literal braces (JSON examples included)"
            )
        if name not in VARIABLES:
            close = difflib.get_close_matches(name, list(VARIABLES), n=1)
            hint = f"; did you mean {{{close[0]}}}?" if close else ""
            raise ConfigError(
                f"prompt template {path}: unknown variable {{{name}}}{hint} "
                f"(known: {', '.join(sorted(VARIABLES))})"
            )
        if spec or conversion:
            raise ConfigError(
                f"prompt template {path}: {{{name}}} has a format spec or conversion; "
                "use the plain {name} form"
            )
    return text
