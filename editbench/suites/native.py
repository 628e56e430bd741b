"""The native suite: a folder with suite.yaml (name, version, categories, templates) and cases.jsonl.

A case names one input image (`source`) or several (`sources`, a list in the order its
instruction refers to them); image paths are relative to the suite folder and never leave it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from editbench.errors import SuiteError
from editbench.suites.common import inside, reject_unknown, seed
from editbench.suites.model import LANGUAGES, Case, Category, ImageRef, Suite

_CASE_KEYS = {
    "id",
    "category",
    "instruction",
    "description",
    "source",
    "sources",
    "reference",
    "tags",
    "difficulty",
    "seed",
    "metadata",
}
_SUITE_KEYS = {"name", "version", "description", "templates", "categories"}
_CATEGORY_KEYS = {"key", "names", "criterion"}


def load(root: Path, languages: tuple[str, ...]) -> Suite:
    manifest = root / "suite.yaml"
    if not manifest.is_file():
        raise SuiteError(
            f"suite {root}: no suite.yaml; a native suite folder needs suite.yaml and "
            "cases.jsonl (for a published benchmark set suite.format: gedit, imgedit, "
            "kris or rise)"
        )
    try:
        meta = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SuiteError(
            f"{manifest}: not valid YAML ({str(exc).splitlines()[0]}); "
            "safe loading only: python tags are refused"
        ) from None
    reject_unknown(meta, _SUITE_KEYS, str(manifest))
    categories = tuple(
        _category(item, manifest, i) for i, item in enumerate(meta.get("categories") or [])
    )
    if not categories:
        raise SuiteError(
            f"{manifest}: no categories; list them under `categories:` with key and names"
        )
    templates = meta.get("templates")
    template_dir = inside(root, templates, f"{manifest}: templates") if templates else None
    cases = _cases(root, categories)
    check_languages(cases, languages, root / "cases.jsonl")
    return Suite(
        name=str(meta.get("name") or root.name),
        version=str(meta.get("version") or "0"),
        root=root,
        format="native",
        language=languages[0],
        languages=languages,
        categories=categories,
        cases=cases,
        templates=template_dir,
    )


def _category(item: Any, manifest: Path, index: int) -> Category:
    where = f"{manifest}: categories[{index}]"
    if not isinstance(item, dict) or "key" not in item:
        raise SuiteError(f"{where}: expected a mapping with key, names and criterion")
    reject_unknown(item, _CATEGORY_KEYS, where)
    names = item.get("names") or [item["key"]]
    names = (names,) if isinstance(names, str) else tuple(str(n) for n in names)
    return Category(key=str(item["key"]), names=names, criterion=str(item.get("criterion") or ""))


def _cases(root: Path, categories: tuple[Category, ...]) -> tuple[Case, ...]:
    file = root / "cases.jsonl"
    if not file.is_file():
        raise SuiteError(f"suite {root}: no cases.jsonl; write one case per line as JSON")
    lookup = category_lookup(categories)
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
        case = _case(item, where, root, lookup)
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


def _case(item: Any, where: str, root: Path, lookup: dict) -> Case:
    if not isinstance(item, dict):
        raise SuiteError(f"{where}: expected a JSON object per line")
    reject_unknown(item, _CASE_KEYS, where)
    for key in ("id", "category", "instruction"):
        if not item.get(key):
            raise SuiteError(f"{where}: missing required key {key!r}")
    case_id = str(item["id"])
    category = find_category(lookup, item["category"], f"{where} (case {case_id})")
    label = f"case {case_id}"
    instruction = texts(item["instruction"], f"{where}: instruction")
    reference = item.get("reference")
    return Case(
        id=case_id,
        category=category,
        instruction=instruction,
        description=texts(item.get("description") or {}, f"{where}: description"),
        sources=_sources(item, where, root, case_id),
        reference=ImageRef(
            label + " reference", path=inside(root, reference, f"{where}: reference")
        )
        if reference
        else None,
        tags=tuple(str(t) for t in item.get("tags") or ()),
        difficulty=item.get("difficulty"),
        seed=seed(item.get("seed"), where),
        metadata=dict(item.get("metadata") or {}),
    )


def _sources(item: dict, where: str, root: Path, case_id: str) -> tuple[ImageRef, ...]:
    """`source: PATH` or `sources: [PATH, ...]` (not both): the case's input images, in order."""
    if "source" in item and "sources" in item:
        raise SuiteError(f"{where} (case {case_id}): give either source or sources, not both")
    paths = item.get("sources") if "sources" in item else [item.get("source")]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        raise SuiteError(
            f"{where} (case {case_id}): missing required key 'source' (one image path) "
            "or 'sources' (a non-empty list of image paths)"
        )
    label = f"case {case_id}"
    return tuple(
        ImageRef(
            label if i == 0 else f"{label} input {i + 1}",
            path=inside(root, p, f"{where} (case {case_id}): source"),
        )
        for i, p in enumerate(paths)
    )


def texts(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict) and all(
        k in LANGUAGES and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise SuiteError(f"{where}: expected a string or a mapping of en/zh to strings")


def check_languages(
    cases: tuple[Case, ...] | list[Case], languages: tuple[str, ...], where
) -> None:
    """A suite none of whose cases has a preferred language cannot run at all: one startup error.

    A single case without one fails alone, as `case-error`, when it runs (`Case.language_for`).
    """
    if any(language in case.instruction for case in cases for language in languages):
        return
    found = sorted({language for case in cases for language in case.instruction})
    raise SuiteError(
        f"{where}: no case has a {' or '.join(languages)} instruction (the suite has "
        f"{', '.join(found) or 'none'}); set suite.language to one of those"
    )


def category_lookup(categories: tuple[Category, ...]) -> dict[str, Category]:
    lookup = {}
    for category in categories:
        for name in (category.key, *category.names):
            lookup[name] = category
    return lookup


def find_category(lookup: dict, value: Any, where: str) -> Category:
    if str(value) in lookup:
        return lookup[str(value)]
    keys = sorted({c.key for c in lookup.values()})
    raise SuiteError(
        f"{where}: unknown category {value!r}; known categories: {', '.join(keys)} "
        "(declare new ones under `categories:` in suite.yaml)"
    )
