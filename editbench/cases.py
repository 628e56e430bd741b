"""Suites and cases: the native folder format and the base64 JSON format used in this field.

Structural problems (unknown category, duplicate id, malformed line, a path that leaves the
suite folder) are `SuiteError`s raised at load time; problems with one image (missing,
corrupt, bad base64) surface as a `CaseError` when that case runs, so the others still score.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from editbench.errors import CaseError, SuiteError
from editbench.images import decode_png, read_image_file

# The five reasoning categories of the sample suite, and the names other suites use for them.
KNOWN_CATEGORIES = {
    "physical": ("物理", "physical"),
    "environmental": ("环境", "environmental", "environment"),
    "social": ("社会", "social", "cultural"),
    "causal": ("因果", "causal"),
    "referential": ("指代", "referential", "reference"),
}
LANGUAGES = ("en", "zh")
_CASE_KEYS = {
    "id",
    "category",
    "instruction",
    "description",
    "source",
    "reference",
    "tags",
    "difficulty",
    "seed",
    "metadata",
}
_SUITE_KEYS = {"name", "version", "description", "templates", "categories"}
_CATEGORY_KEYS = {"key", "names", "criterion"}


@dataclass(frozen=True)
class Category:
    key: str
    names: tuple[str, ...]
    criterion: str = ""

    @property
    def display(self) -> str:
        return self.names[0] if self.names else self.key


@dataclass(frozen=True)
class ImageRef:
    """Where a case's image comes from: a file inside the suite, or base64 text."""

    label: str
    path: Path | None = None
    b64: str | None = field(default=None, repr=False)

    def load(self):
        """Return (PIL image, original bytes); raise CaseError naming the case and file."""
        if self.path is not None:
            return read_image_file(self.path, self.label)
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
    id: str
    category: Category
    instruction: dict[str, str]
    source: ImageRef
    description: dict[str, str] = field(default_factory=dict)
    reference: ImageRef | None = None
    tags: tuple[str, ...] = ()
    difficulty: str | None = None
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def test_id(self) -> str:
        """The pytest id: the case id, prefixed with the category's display name if it lacks it."""
        prefixes = (self.category.display, self.category.key)
        return self.id if self.id.startswith(prefixes) else f"{self.category.display}-{self.id}"

    @property
    def pair_id(self) -> str:
        return str(self.metadata.get("pair_id") or self.id)

    def text(self, language: str) -> tuple[str, str]:
        """(instruction, description) in the chosen language."""
        return self.instruction[language], self.description.get(language, "")


@dataclass(frozen=True, eq=False)
class Suite:
    name: str
    version: str
    root: Path
    format: str
    language: str
    categories: tuple[Category, ...]
    cases: tuple[Case, ...]
    templates: Path | None = None

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


def load_suite(
    path: Path,
    fmt: str = "auto",
    language: str = "en",
    name: str | None = None,
    templates: Path | None = None,
) -> Suite:
    """Load a native suite folder or a base64 JSON file."""
    if language not in LANGUAGES:
        raise SuiteError(f"suite.language {language!r}: expected one of {', '.join(LANGUAGES)}")
    if not path.exists():
        raise SuiteError(
            f"suite {path}: does not exist; set suite.path to a suite folder "
            "(with suite.yaml and cases.jsonl) or a base64 JSON file"
        )
    if fmt == "auto":
        fmt = "native" if path.is_dir() else "b64"
    if fmt == "native":
        return _load_native(path, language)
    return _load_b64(path, language, name, templates)


# -- native format -------------------------------------------------------------------------------


def _load_native(root: Path, language: str) -> Suite:
    manifest = root / "suite.yaml"
    if not manifest.is_file():
        raise SuiteError(
            f"suite {root}: no suite.yaml; a native suite folder needs suite.yaml and cases.jsonl"
        )
    try:
        meta = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SuiteError(
            f"{manifest}: not valid YAML ({str(exc).splitlines()[0]}); "
            "safe loading only: python tags are refused"
        ) from None
    _reject_unknown(meta, _SUITE_KEYS, str(manifest))
    categories = tuple(
        _category(item, manifest, i) for i, item in enumerate(meta.get("categories") or [])
    )
    if not categories:
        raise SuiteError(
            f"{manifest}: no categories; list them under `categories:` with key and names"
        )
    templates = meta.get("templates")
    template_dir = _inside(root, templates, f"{manifest}: templates") if templates else None
    cases = _native_cases(root, categories, language)
    return Suite(
        name=str(meta.get("name") or root.name),
        version=str(meta.get("version") or "0"),
        root=root,
        format="native",
        language=language,
        categories=categories,
        cases=cases,
        templates=template_dir,
    )


def _category(item: Any, manifest: Path, index: int) -> Category:
    where = f"{manifest}: categories[{index}]"
    if not isinstance(item, dict) or "key" not in item:
        raise SuiteError(f"{where}: expected a mapping with key, names and criterion")
    _reject_unknown(item, _CATEGORY_KEYS, where)
    names = item.get("names") or [item["key"]]
    names = (names,) if isinstance(names, str) else tuple(str(n) for n in names)
    return Category(key=str(item["key"]), names=names, criterion=str(item.get("criterion") or ""))


def _native_cases(root: Path, categories: tuple[Category, ...], language: str) -> tuple[Case, ...]:
    file = root / "cases.jsonl"
    if not file.is_file():
        raise SuiteError(f"suite {root}: no cases.jsonl; write one case per line as JSON")
    lookup = _category_lookup(categories)
    cases, seen = [], {}
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{file}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SuiteError(
                f"{where}: malformed JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one JSON object"
            ) from None
        case = _native_case(item, where, root, lookup, language)
        if case.id in seen:
            raise SuiteError(
                f"{where}: duplicate case id {case.id!r} (first on line {seen[case.id]}); "
                "give every case its own id"
            )
        seen[case.id] = number
        cases.append(case)
    if not cases:
        raise SuiteError(f"{file}: no cases")
    return tuple(cases)


def _native_case(item: Any, where: str, root: Path, lookup: dict, language: str) -> Case:
    if not isinstance(item, dict):
        raise SuiteError(f"{where}: expected a JSON object per line")
    _reject_unknown(item, _CASE_KEYS, where)
    for key in ("id", "category", "instruction", "source"):
        if not item.get(key):
            raise SuiteError(f"{where}: missing required key {key!r}")
    case_id = str(item["id"])
    category = _find_category(lookup, item["category"], f"{where} (case {case_id})")
    label = f"case {case_id}"
    instruction = _texts(item["instruction"], f"{where}: instruction")
    _require_language(instruction, language, where, case_id)
    reference = item.get("reference")
    return Case(
        id=case_id,
        category=category,
        instruction=instruction,
        description=_texts(item.get("description") or {}, f"{where}: description"),
        source=ImageRef(
            label, path=_inside(root, item["source"], f"{where} (case {case_id}): source")
        ),
        reference=ImageRef(
            label + " reference", path=_inside(root, reference, f"{where}: reference")
        )
        if reference
        else None,
        tags=tuple(str(t) for t in item.get("tags") or ()),
        difficulty=item.get("difficulty"),
        seed=_seed(item.get("seed"), where),
        metadata=dict(item.get("metadata") or {}),
    )


def _texts(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict) and all(
        k in LANGUAGES and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise SuiteError(f"{where}: expected a string or a mapping of en/zh to strings")


def _require_language(texts: dict, language: str, where: str, case_id: str) -> None:
    if language not in texts:
        have = ", ".join(texts) or "none"
        raise SuiteError(
            f"{where}: case {case_id} has no {language} instruction (has {have}); "
            f"add it or set suite.language to one it has"
        )


def _inside(root: Path, relative: Any, where: str) -> Path:
    """Resolve a suite-relative path, refusing absolute paths and any path that leaves the suite."""
    text = str(relative)
    if (
        PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).is_absolute()
        or PureWindowsPath(text).drive
    ):
        raise SuiteError(
            f"{where}: absolute path {text!r} refused; paths must be relative to the suite folder"
        )
    base = root.resolve()
    target = (base / text).resolve()
    if not target.is_relative_to(base):
        raise SuiteError(
            f"{where}: path {text!r} leaves the suite folder {root}; "
            "keep images inside the suite folder"
        )
    return target


# -- base64 JSON format --------------------------------------------------------------------------

_B64_KEYS = {
    "subset",
    "src_img_b64",
    "edit_instruction_en",
    "edit_instruction",
    "original_description_en",
    "original_description",
    "original_image_path",
    "difficulty",
    "tags",
    "seed",
}


def _load_b64(file: Path, language: str, name: str | None, templates: Path | None) -> Suite:
    try:
        items = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"{file}: malformed JSON ({exc.msg} at line {exc.lineno}); "
            "a base64 suite is one JSON list of objects"
        ) from None
    if not isinstance(items, list):
        raise SuiteError(f"{file}: expected a JSON list of cases")
    categories: dict[str, Category] = {}
    cases, seen, per_category = [], {}, {}
    for index, item in enumerate(items):
        where = f"{file}: item {index}"
        if not isinstance(item, dict):
            raise SuiteError(f"{where}: expected a JSON object")
        for key in ("subset", "src_img_b64"):
            if key not in item:
                raise SuiteError(f"{where}: missing required key {key!r}")
        category = categories.setdefault(str(item["subset"]), _b64_category(str(item["subset"])))
        per_category[category.key] = per_category.get(category.key, 0) + 1
        case = _b64_case(item, where, category, per_category[category.key], language)
        if case.id in seen:
            raise SuiteError(
                f"{where}: duplicate case id {case.id!r} (first at item {seen[case.id]}); "
                "make original_image_path stems unique within a subset"
            )
        seen[case.id] = index
        cases.append(case)
    if not cases:
        raise SuiteError(f"{file}: no cases")
    return Suite(
        name=name or file.stem,
        version="0",
        root=file.parent,
        format="b64",
        language=language,
        categories=tuple(categories.values()),
        cases=tuple(cases),
        templates=templates,
    )


def _b64_category(subset: str) -> Category:
    for key, names in KNOWN_CATEGORIES.items():
        if subset in names:
            return Category(key=key, names=(subset, *[n for n in names if n != subset]))
    return Category(key=marker_name(subset), names=(subset,))


def _b64_case(item: dict, where: str, category: Category, ordinal: int, language: str) -> Case:
    path = item.get("original_image_path")
    stem = PurePosixPath(str(path).replace("\\", "/")).stem if path else f"{ordinal:03d}"
    case_id = stem if stem.startswith(category.display) else f"{category.display}-{stem}"
    instruction = {
        k: str(item[f])
        for k, f in (("en", "edit_instruction_en"), ("zh", "edit_instruction"))
        if item.get(f)
    }
    description = {
        k: str(item[f])
        for k, f in (("en", "original_description_en"), ("zh", "original_description"))
        if item.get(f)
    }
    if not instruction:
        raise SuiteError(f"{where}: no edit_instruction_en or edit_instruction")
    _require_language(instruction, language, where, case_id)
    tags = item.get("tags") or ()
    tags = (tags,) if isinstance(tags, str) else tuple(str(t) for t in tags)
    metadata = {
        k: v
        for k, v in item.items()
        if k not in _B64_KEYS and isinstance(v, (str, int, float, bool))
    }
    metadata["pair_id"] = stem
    if path:
        metadata["original_image_path"] = str(path)
    return Case(
        id=case_id,
        category=category,
        instruction=instruction,
        description=description,
        source=ImageRef(f"case {case_id}", b64=str(item["src_img_b64"])),
        tags=tags,
        difficulty=item.get("difficulty"),
        seed=_seed(item.get("seed"), where),
        metadata=metadata,
    )


# -- shared helpers ------------------------------------------------------------------------------


def _category_lookup(categories: tuple[Category, ...]) -> dict[str, Category]:
    lookup = {}
    for category in categories:
        for name in (category.key, *category.names):
            lookup[name] = category
    return lookup


def _find_category(lookup: dict, value: Any, where: str) -> Category:
    if str(value) in lookup:
        return lookup[str(value)]
    keys = sorted({c.key for c in lookup.values()})
    raise SuiteError(
        f"{where}: unknown category {value!r}; known categories: {', '.join(keys)} "
        "(declare new ones in suite.yaml)"
    )


def _reject_unknown(item: dict, known: set, where: str) -> None:
    unknown = sorted(set(item) - known)
    if unknown:
        raise SuiteError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}"
        )


def _seed(value: Any, where: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise SuiteError(f"{where}: seed must be an integer, got {value!r}")


def _strip_data_url(text: str) -> str:
    return text.split(",", 1)[1] if text.startswith("data:") else text
