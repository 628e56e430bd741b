"""The base64 JSON format of existing benchmarks: a list of objects with the image inline.

Keys: `subset` (the category's display name), `src_img_b64`, `edit_instruction_en` /
`edit_instruction`, `original_description_en` / `original_description`, and optionally
`original_image_path` (its stem becomes the case id), `difficulty`, `tags`, `seed`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from editbench.errors import SuiteError
from editbench.suites.common import read_json, seed
from editbench.suites.model import Case, Category, ImageRef, Suite, marker_name
from editbench.suites.native import require_language

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


def load(file: Path, language: str, name: str | None, templates: Path | None) -> Suite:
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
        category = categories.setdefault(str(item["subset"]), _category(str(item["subset"])))
        per_category[category.key] = per_category.get(category.key, 0) + 1
        case = _case(item, where, category, per_category[category.key], language)
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


def _category(subset: str) -> Category:
    for key, names in KNOWN_CATEGORIES.items():
        if subset in names:
            return Category(key=key, names=(subset, *[n for n in names if n != subset]))
    return Category(key=marker_name(subset), names=(subset,))


def _case(item: dict, where: str, category: Category, ordinal: int, language: str) -> Case:
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
    require_language(instruction, language, where, case_id)
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
        sources=(ImageRef(f"case {case_id}", b64=str(item["src_img_b64"])),),
        tags=tags,
        difficulty=item.get("difficulty"),
        seed=seed(item.get("seed"), where),
        metadata=metadata,
    )
