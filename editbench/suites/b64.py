"""The base64 JSON format of existing benchmarks: a list of objects with the image inline.

Keys: `subset` (the category's display name), `src_img_b64`, `edit_instruction_en` /
`edit_instruction`, `original_description_en` / `original_description`, and optionally
`original_image_path`, `difficulty`, `tags`, `seed`. A case's id is `<subset>-<stem>`, the stem
of `original_image_path` (e.g. `物理-glass_edge`), else `<subset>-<ordinal>` (`物理-003`); the
stem alone is its pair id (what `editor.replay_dir` looks for under `<subset>/`).

The file carries no category definitions: the five reasoning categories are known by their
names, and the run config's `suite.categories` gives any subset its key, display names and
criterion (`{key, names, criterion}` entries, matched by key or any of the names).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from editbench.errors import SuiteError
from editbench.suites.common import read_json, seed
from editbench.suites.model import Case, Category, ImageRef, Suite, marker_name
from editbench.suites.native import check_languages

# The five reasoning categories of the sample suite, and the names other suites use for them.
KNOWN_CATEGORIES = {
    "physical": ("物理", "physical"),
    "environmental": ("环境", "environmental", "environment"),
    "social": ("社会", "social", "cultural"),
    "causal": ("因果", "causal"),
    "referential": ("指代", "referential", "reference"),
}
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


def load(
    file: Path,
    languages: tuple[str, ...],
    name: str | None,
    templates: Path | None,
    configured: tuple[Category, ...] = (),
) -> Suite:
    items = read_json(file, list, "a base64 suite is one JSON list of objects")
    categories: dict[str, Category] = {}
    cases, seen, per_category = [], {}, {}
    for index, item in enumerate(items):
        where = f"{file}: item {index}"
        if not isinstance(item, dict):
            raise SuiteError(f"{where}: expected a JSON object")
        for key in ("subset", "src_img_b64"):
            if key not in item:
                raise SuiteError(f"{where}: missing required key {key!r}")
        subset = str(item["subset"])
        category = categories.setdefault(subset, _category(subset, configured))
        per_category[category.key] = per_category.get(category.key, 0) + 1
        case = _case(item, where, category, per_category[category.key])
        if case.id in seen:
            raise SuiteError(
                f"{where}: duplicate case id {case.id!r} (first at item {seen[case.id]}); "
                "make original_image_path stems unique within a subset"
            )
        seen[case.id] = index
        cases.append(case)
    if not cases:
        raise SuiteError(f"{file}: no cases")
    check_languages(cases, languages, file)
    return Suite(
        name=name or file.stem,
        version="0",
        root=file.parent,
        format="b64",
        language=languages[0],
        languages=languages,
        categories=tuple(dict.fromkeys(categories.values())),
        cases=tuple(cases),
        templates=templates,
    )


def _category(subset: str, configured: tuple[Category, ...]) -> Category:
    for category in configured:
        if subset == category.key or subset in category.names:
            return category
    for key, names in KNOWN_CATEGORIES.items():
        if subset in names:
            return Category(key=key, names=(subset, *[n for n in names if n != subset]))
    return Category(key=marker_name(subset), names=(subset,))


def _case(item: dict, where: str, category: Category, ordinal: int) -> Case:
    """One case; `where` (`<file>: item <n>`) goes into its image's label, so errors name both."""
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
        sources=(ImageRef(f"case {case_id} ({where})", b64=str(item["src_img_b64"])),),
        tags=tags,
        difficulty=item.get("difficulty"),
        seed=seed(item.get("seed"), where),
        metadata=metadata,
    )
