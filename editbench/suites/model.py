"""The case model every suite format is read into: categories, image references, cases, suites.

A case carries one or more source images (`sources`, in the order its instruction names them),
an optional reference image or reference text, tags (markers) and `extra`: the fields a
benchmark's scoring protocol needs (see `EXTRA_FIELDS`). Images are references, decoded only
when their case runs, so a large suite loads fast and lean in every process.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from editbench.errors import CaseError
from editbench.images import decode_png, read_image_file

LANGUAGES = ("en", "zh")

# The keys a reader may put in `Case.extra`, and what they hold (the judge protocols read them).
EXTRA_FIELDS = {
    "key": "the benchmark's own id of the case (GEdit key, ImgEdit key, KRIS id, RISE index)",
    "language": "the language code the benchmark gives the instruction (GEdit: en or cn)",
    "intersection": "GEdit: the case is in the intersection subset (Intersection_exist)",
    "task_type": "GEdit: the task type; ImgEdit: the edit type (also the category key)",
    "image_id": "ImgEdit: the source image's path under the image root",
    "explanation": "KRIS: explain_en, the knowledge the edit needs ('' when absent)",
    "dimension": "KRIS: one of the 7 knowledge dimensions (e.g. natural_science)",
    "meta_category": "KRIS: factual_knowledge, conceptual_knowledge or procedural_knowledge",
    "reference_key": "RISE: which key held the reference text (reference or reference_txt)",
    "subtask": "RISE (360-case release): the subtask name, e.g. 'Life Progression'",
    "reasoning_img": "RISE (360-case release): the reasoning judge must also see the input image",
    "consistency_free": "RISE: no appearance-consistency judgement for this case",
}


@dataclass(frozen=True)
class Category:
    key: str
    names: tuple[str, ...]
    criterion: str = ""

    @property
    def display(self) -> str:
        return self.names[0] if self.names else self.key


class RowImages(Protocol):
    """Images stored by row in a table (an Arrow data set), read one at a time."""

    def read(self, row: int, what: str) -> bytes:
        """The encoded image of `row`; raise CaseError naming `what` when it cannot."""


@dataclass(frozen=True)
class ImageRef:
    """Where one image comes from: a file inside the suite, base64 text, or a row of a table."""

    label: str
    path: Path | None = None
    b64: str | None = field(default=None, repr=False)
    table: RowImages | None = field(default=None, repr=False, compare=False)
    row: int | None = None

    def load(self):
        """Return (PIL image, original bytes); raise CaseError naming the case and file."""
        if self.path is not None:
            return read_image_file(self.path, self.label)
        if self.table is not None and self.row is not None:
            data = self.table.read(self.row, self.label)
            return decode_png(data, f"{self.label} (row {self.row})"), data
        try:
            data = base64.b64decode(_strip_data_url(self.b64 or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CaseError(
                f"{self.label}: invalid base64 image data ({exc}); "
                "re-encode the image with base64.b64encode"
            ) from None
        return decode_png(data, f"{self.label} (base64)"), data


@dataclass(frozen=True, eq=False)
class Case:
    """One benchmark case.

    `sources` are the input images in the order the instruction refers to them (one for most
    benchmarks, several for KRIS multi-element composition and temporal prediction).
    `reference` is a ground-truth image and `reference_text` a ground-truth description, when
    the benchmark gives them. `extra` holds the protocol fields listed in EXTRA_FIELDS;
    `metadata` is free-form suite data kept for the record. `output_stem` is where the
    benchmark's official scorer looks for this case's edit, relative to its output folder and
    without the file extension (None for native and base64 suites, which have no such layout).
    """

    id: str
    category: Category
    instruction: dict[str, str]
    sources: tuple[ImageRef, ...]
    description: dict[str, str] = field(default_factory=dict)
    reference: ImageRef | None = None
    reference_text: str = ""
    tags: tuple[str, ...] = ()
    difficulty: str | None = None
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    output_stem: str | None = None

    @property
    def source(self) -> ImageRef:
        """The first input image (the only one for single-image cases)."""
        return self.sources[0]

    @property
    def test_id(self) -> str:
        """The pytest id: the case id, prefixed with the category's display name if it lacks it."""
        prefixes = (self.category.display, self.category.key)
        return self.id if self.id.startswith(prefixes) else f"{self.category.display}-{self.id}"

    @property
    def pair_id(self) -> str:
        """The file stem `editor.replay_dir` looks for under a category folder.

        A base64 case's pair id is its `original_image_path` stem (`glass_edge` for the case
        `物理-glass_edge`); any other case's is `metadata.pair_id` if given, else its id
        (`物理-003`). So `DIR/物理/glass_edge.png` and `DIR/物理/物理-003.png`.
        """
        return str(self.metadata.get("pair_id") or self.id)

    def text(self, language: str) -> tuple[str, str]:
        """(instruction, description) in the chosen language."""
        return self.instruction[language], self.description.get(language, "")

    def language_for(self, preferences: tuple[str, ...]) -> str:
        """The first preferred language this case has; a CaseError naming what it has otherwise."""
        for language in preferences:
            if language in self.instruction:
                return language
        have = ", ".join(self.instruction) or "none"
        wanted = " or ".join(preferences)
        raise CaseError(
            f"case {self.id} has no {wanted} instruction (has {have}); add one, or list the "
            f"languages to fall back on in suite.language, e.g. [{', '.join((*preferences, *self.instruction))}]"
        )


@dataclass(frozen=True, eq=False)
class Suite:
    name: str
    version: str
    root: Path
    format: str
    language: str  # the first preferred language (`languages` holds the whole preference list)
    categories: tuple[Category, ...]
    cases: tuple[Case, ...]
    templates: Path | None = None
    languages: tuple[str, ...] = ()

    @property
    def preferences(self) -> tuple[str, ...]:
        return self.languages or (self.language,)

    @functools.cached_property
    def by_test_id(self) -> dict[str, Case]:
        return {case.test_id: case for case in self.cases}

    def counts(self) -> dict[str, int]:
        counts = {c.key: 0 for c in self.categories}
        for case in self.cases:
            counts[case.category.key] += 1
        return counts


def case_seed(run_seed: int, case: Case) -> int:
    """The seed of one case: its own if the suite gives one, else a hash of run seed and case id.

    Never the position, so `-n 1`, `-n 2` and any `-k` subset give the same seed per case.
    """
    if case.seed is not None:
        return case.seed
    digest = hashlib.sha256(f"{run_seed}:{case.id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def marker_name(text: str) -> str:
    """A marker-safe name for a category or tag (`-m` needs an identifier)."""
    name = re.sub(r"\W+", "_", text.strip(), flags=re.UNICODE).strip("_")
    return name if name and not name[0].isdigit() else f"t_{name}"


def _strip_data_url(text: str) -> str:
    return text.split(",", 1)[1] if text.startswith("data:") else text
