"""RISEBench: one JSON list of entries (the 64-case file in the repository, or the 360-case release).

Keys: `index` (e.g. temporal_reasoning_1), `category` (temporal_reasoning, causal_reasoning,
spatial_reasoning, logical_reasoning: the categories), `instruction`, `image` (relative to the
image root: `suite.images`, else the JSON file's folder), and optionally `reference` or
`reference_txt` (reference text), `reference_img` (a ground-truth image, checked at load),
and in the 360-case release `subtask` (a tag, e.g. `-m life_progression`), `reasoning_img` and
`consistency_free`. null, "" and NaN mean absent. Any other scalar key is kept in `extra`.
English only. The official output is `<root>/images/<category>/<index>.<png|jpg|jpeg>`.
"""

from __future__ import annotations

from pathlib import Path

from editbench.errors import SuiteError
from editbench.suites.common import (
    content_hash,
    find_fixed,
    fixed_categories,
    inside,
    present,
    read_json,
    require,
    require_english,
    text_of,
    unique_ids,
    used_categories,
)
from editbench.suites.model import Case, ImageRef, Suite, marker_name

CATEGORIES = fixed_categories(
    ("temporal_reasoning", "causal_reasoning", "spatial_reasoning", "logical_reasoning")
)
_OWN_KEYS = {
    "index",
    "category",
    "instruction",
    "image",
    "reference",
    "reference_txt",
    "reference_img",
}


def load(
    file: Path, language: str, name: str | None, templates: Path | None, images: Path | None
) -> Suite:
    require_english(language, "RISEBench", file)
    items = read_json(file, list, "RISEBench's data file is one JSON list of entries")
    root = images or file.parent
    if not root.is_dir():
        raise SuiteError(
            f"suite.images {root}: not a folder; set it to the folder the entries' "
            "image paths are relative to (RISEBench's data folder)"
        )
    cases = [_case(file, number, item, root) for number, item in enumerate(items)]
    if not cases:
        raise SuiteError(f"{file}: no entries")
    unique_ids(cases, file)
    return Suite(
        name=name or "RISEBench",
        version=content_hash(file),
        root=root,
        format="rise",
        language="en",
        categories=used_categories(CATEGORIES, cases),
        cases=tuple(cases),
        templates=templates,
    )


def _case(file: Path, number: int, item: object, root: Path) -> Case:
    where = f"{file}: entry {number}"
    if not isinstance(item, dict):
        raise SuiteError(f"{where}: expected an object with index, category, instruction and image")
    require(item, ("index", "category", "instruction", "image"), where)
    index = str(item["index"])
    where = f"{file}: entry {number} (index {index})"
    category = find_fixed(CATEGORIES, item["category"], where, "category")
    case_id = index if index.startswith(category.key) else f"{category.key}-{index}"
    label = f"case {case_id}"
    extra = _extra(item, index)
    return Case(
        id=case_id,
        category=category,
        instruction={"en": text_of(item, "instruction", where)},
        sources=(ImageRef(label, path=inside(root, text_of(item, "image", where), where)),),
        reference=_reference_image(item, root, where, label),
        reference_text=_reference_text(item, extra),
        tags=(marker_name(str(extra["subtask"]).lower()),) if "subtask" in extra else (),
        metadata={"entry": f"entry {number}"},
        extra=extra,
        output_stem=f"images/{category.key}/{index}",
    )


def _extra(item: dict, index: str) -> dict:
    """The protocol fields: subtask, reasoning_img, consistency_free and any other scalar key."""
    extra = {"key": index}
    for key, value in item.items():
        if key not in _OWN_KEYS and present(value) and isinstance(value, (str, int, float, bool)):
            extra[key] = value
    return extra


def _reference_text(item: dict, extra: dict) -> str:
    for key in ("reference", "reference_txt"):
        if present(item.get(key)):
            extra["reference_key"] = key
            return str(item[key])
    return ""


def _reference_image(item: dict, root: Path, where: str, label: str) -> ImageRef | None:
    value = item.get("reference_img")
    if not present(value):
        return None
    path = inside(root, value, f"{where}: reference_img")
    if not path.is_file():
        raise SuiteError(
            f"{where}: reference_img {value!r} points nowhere ({path} does not exist); "
            "fix the path, set suite.images to RISEBench's data folder, or remove the key"
        )
    return ImageRef(f"{label} reference", path=path)
