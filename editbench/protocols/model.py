"""A scoring protocol as data: what the judge is asked, on which scale, and how answers become numbers.

A protocol file (YAML, `yaml.safe_load`, unknown keys refused) names:

- `asks`: the judge requests of one case. Each ask yields one dimension (or, with
  `combine: each`, one dimension per sub-score) and says when it applies (`when`), which images
  the judge sees (`images`), its prompt template, its scale, its sub-scores with the labels and
  JSON keys an answer names them by (`subscores`), the answer format (`answer`) and how the
  sub-scores combine (`combine`: min, mean, single, each). Several asks may yield the same
  dimension when their `when` never hold together (ImgEdit's nine edit types).
- `derived`: dimensions computed per case from others (GEdit's O = sqrt(SC*PQ), RISE's weighted
  score and its "complete" flag).
- `aggregate`: the headline numbers: rows (per category, per case fact, overall, subsets) ×
  columns (a mean, a macro mean over categories, or a share of cases), named as the benchmark
  names them.
  A protocol without headline numbers (the editbench protocol: its per-category table is the
  whole report) leaves `aggregate` out.
- `dimensions`: the order reports show the dimensions in, when not asked-then-derived.
- `judge_chooses`: which of `judge.dimensions` (the asks to send) and `judge.images` (the images
  of the asks marked `judge_images`) a run config may set; refused for any other protocol.
- `image_names`: how `{images}` words each image kind (`sources`: several inputs as one group).
- `official`: how the benchmark's own scorer treats an answer it cannot read (for the report),
  and which published arithmetic (`arithmetic`: gedit, imgedit, kris, rise) gives the
  published-comparable number beside each headline number (reporting/official.py).

Every scale is a `vocabulary.Scale` (low, high, integer_only): the one the parser reads answers
on and the intervals size their variance floor by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench.vocabulary import Scale

IMAGE_KINDS = ("sources", "source", "edited", "reference")
ANSWERS = ("score", "list", "lines", "keys", "final")
COMBINES = ("single", "min", "mean", "each")
DERIVED_OPS = ("geometric_mean", "mean", "min", "weighted", "all_at_max")
COLUMN_KINDS = ("mean", "macro", "share")
TRANSFORMS = ("none", "percent")  # percent: 25 * (s - 1), a 1-5 score as 0-100
# case facts a `when` or a row may name (see editbench.protocols.facts)
FACTS = (
    "language",
    "intersection",
    "dimension",
    "meta_category",
    "subtask",
    "consistency_free",
    "reasoning_img",
    "reference_image",
    "reference_text",
    "explanation",
)
FAILURE_RULES = ("filled", "dropped", "counted-wrong", "kept")
ARITHMETICS = ("gedit", "imgedit", "kris", "rise")  # reporting/official.py: a benchmark's own
JUDGE_CHOICES = ("dimensions", "images")  # the judge.* keys a protocol may leave to the run config


@dataclass(frozen=True)
class When:
    """Conditions on a case: its category in / not in lists, case facts present or absent."""

    category: tuple[str, ...] = ()
    not_category: tuple[str, ...] = ()
    has: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()

    def holds(self, category: str, facts: dict[str, Any]) -> bool:
        if self.category and category not in self.category:
            return False
        if category in self.not_category:
            return False
        if any(not facts.get(name) for name in self.has):
            return False
        return not any(facts.get(name) for name in self.lacks)


@dataclass(frozen=True)
class Subscore:
    id: str
    label: str  # how a named line calls it ("Prompt Compliance")
    key: str  # the JSON key that holds it ("consistency_score")


@dataclass(frozen=True)
class PromptFile:
    """A benchmark's own prompt file as the user downloaded it: a text file or one key of a JSON object."""

    path: Path
    key: str | None  # the JSON object's key ("replace"), None for a plain text file
    placeholders: dict[str, str]  # "<edit_prompt>" -> a template variable ("instruction")


@dataclass(frozen=True)
class SuiteTemplate:
    """A template the suite gives (its `templates:` folder), else the packaged one of that name."""

    file: str  # "sc.txt"


@dataclass(frozen=True)
class Ask:
    id: str
    dimension: str
    template: Path | PromptFile | SuiteTemplate
    images: tuple[str, ...]
    subscores: tuple[Subscore, ...]
    scale: Scale
    answer: str = "final"
    combine: str = "single"
    when: When = field(default_factory=When)
    resize_edited: bool = False  # the edited image resized to the first source's size (GEdit)
    report_as: tuple[float, float] | None = None  # a linear map of the scale, e.g. 0/1 -> 1/5
    judge_images: bool = False  # judge.images replaces `images` (where the protocol lets it)

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The dimensions this ask yields: its own, or one per sub-score (combine: each)."""
        if self.combine == "each":
            return tuple(s.id for s in self.subscores)
        return (self.dimension,)

    @property
    def template_file(self) -> Path | None:
        """The file its prompt is read from; None for a suite's template not yet chosen."""
        if isinstance(self.template, PromptFile):
            return self.template.path
        return self.template if isinstance(self.template, Path) else None

    @property
    def reported_scale(self) -> Scale:
        if self.report_as is None:
            return self.scale
        return Scale(float(self.report_as[0]), float(self.report_as[1]))


@dataclass(frozen=True)
class Variant:
    """One weighting of a `weighted` derived dimension, for the cases its `when` holds on."""

    weights: dict[str, float]
    when: When = field(default_factory=When)


@dataclass(frozen=True)
class Penalty:
    """RISE's rule: when `dimension` reads `equals`, multiply by `factor`, not below `floor`."""

    dimension: str
    equals: float
    factor: float
    floor: float


@dataclass(frozen=True)
class Derived:
    dimension: str
    op: str
    of: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()
    penalty: Penalty | None = None


@dataclass(frozen=True)
class Row:
    """A row of the headline table: per category, per value of a case fact, or one labelled set."""

    by: str | None = None  # "category" or a fact name: one row per value
    label: str | None = None  # a single row over the cases `where` selects (all when empty)
    where: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    name: str
    of: tuple[str, ...]
    kind: str = "mean"
    transform: str = "none"
    percent: bool = False  # a share shown as a percentage
    official: str | None = None  # "failures-as-wrong": also shown with failed cases counted wrong


@dataclass(frozen=True)
class Aggregate:
    rows: tuple[Row, ...] = ()
    columns: tuple[Column, ...] = ()
    headline_row: str = ""


@dataclass(frozen=True)
class Official:
    """How the benchmark's own scorer treats a case it could not score, per failure status."""

    failures: dict[str, str]  # status (or "default") -> one of FAILURE_RULES
    text: str = ""
    reference: str = ""
    arithmetic: str = ""  # one of ARITHMETICS: the published code's numbers (reporting/official.py)

    def rule(self, status: str) -> str:
        return self.failures.get(status, self.failures.get("default", "dropped"))


@dataclass(frozen=True)
class Protocol:
    name: str
    title: str
    source: str  # the file it was read from, or "builtin:<name>"
    sha256: str  # of the protocol file and every template it names
    asks: tuple[Ask, ...]
    derived: tuple[Derived, ...]
    aggregate: Aggregate
    official: Official
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    order: tuple[str, ...] = ()  # the report order, when not asked-then-derived
    judge_chooses: tuple[str, ...] = ()  # JUDGE_CHOICES a run config may set
    image_names: dict[str, str] = field(default_factory=dict)  # beside prompts.IMAGE_NAMES

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Every dimension a case can have, in report order (`order`, else asked, then derived)."""
        names: list[str] = []
        for ask in self.asks:
            names += [d for d in ask.dimensions if d not in names]
        names += [d.dimension for d in self.derived if d.dimension not in names]
        ordered = [d for d in self.order if d in names]
        return (*ordered, *(d for d in names if d not in ordered))

    @property
    def has_headline(self) -> bool:
        """Whether the protocol names headline numbers of its own (a benchmark's table)."""
        return bool(self.aggregate.columns)

    @property
    def keeps_facts(self) -> bool:
        """Whether records keep their case facts: its headline rows or its conditions read them."""
        conditional = any(a.when != When() for a in self.asks)
        varied = any(v.when != When() for d in self.derived for v in d.variants)
        return self.has_headline or conditional or varied

    def asks_for(self, category: str, facts: dict[str, Any]) -> list[Ask]:
        return [ask for ask in self.asks if ask.when.holds(category, facts)]

    def scale_of(self, dimension: str) -> Scale:
        for ask in self.asks:
            if dimension in ask.dimensions:
                return ask.reported_scale
        for derived in self.derived:
            if derived.dimension == dimension:
                if derived.op == "all_at_max":
                    return Scale(0.0, 1.0, True)
                return self.scale_of((derived.of or tuple(derived.variants[0].weights))[0])
        raise KeyError(dimension)

    def applicable(self, dimension: str, category: str, facts: dict[str, Any]) -> bool:
        """Would a case with these facts have this dimension (read from the judge or derived)?"""
        if any(dimension in a.dimensions for a in self.asks_for(category, facts)):
            return True
        for derived in self.derived:
            if derived.dimension != dimension:
                continue
            inputs = derived_inputs(derived, category, facts)
            present = [self.applicable(d, category, facts) for d in inputs]
            return any(present) if derived.op == "all_at_max" else bool(inputs) and all(present)
        return False


def chosen_variant(derived: Derived, category: str, facts: dict[str, Any]) -> Variant | None:
    """The weighting a `weighted` derived dimension uses for one case (the first that holds)."""
    return next((v for v in derived.variants if v.when.holds(category, facts)), None)


def derived_inputs(derived: Derived, category: str, facts: dict[str, Any]) -> tuple[str, ...]:
    """The dimensions a derived dimension reads for one case (a weighted one: its variant's)."""
    if derived.op != "weighted":
        return derived.of
    chosen = chosen_variant(derived, category, facts)
    return tuple(chosen.weights) if chosen else ()
