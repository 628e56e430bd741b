"""KRIS-Bench: a folder of category folders, each with `annotation.json` and its images.

`annotation.json` is an object keyed "1".."N"; each value has `ori_img` (one file name or a
list: several input images for multi-element_composition and temporal_prediction), `gt_img`
(a ground-truth image, "" when absent), `ins_en` (the instruction) and `explain_en` (the
knowledge the edit needs, "" when absent). The 20 category folders are the categories; each
case is also tagged with its knowledge dimension (7) and meta-category (3), so
`-m natural_science` and `-m procedural_knowledge` select them. English only. The official
output is `<root>/<category>/<id>.<ext>`.
"""

from __future__ import annotations

from pathlib import Path

from editbench.errors import SuiteError
from editbench.suites.common import (
    content_hash,
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
from editbench.suites.model import Case, Category, ImageRef, Suite

DIMENSIONS = {
    "attribute_perception": (
        "count_change",
        "color_change",
        "size_adjustment",
        "part_completion",
        "anomaly_correction",
    ),
    "spatial_perception": ("viewpoint_change", "position_movement"),
    "temporal_prediction": ("temporal_prediction",),
    "social_science": ("humanities", "practical_knowledge"),
    "natural_science": ("biology", "chemistry", "geography", "medicine", "mathematics", "physics"),
    "logical_reasoning": ("abstract_reasoning", "rule-based_reasoning"),
    "instruction_decomposition": ("multi-element_composition", "multi-instruction_execution"),
}
META_CATEGORIES = {
    "factual_knowledge": ("attribute_perception", "spatial_perception", "temporal_prediction"),
    "conceptual_knowledge": ("social_science", "natural_science"),
    "procedural_knowledge": ("logical_reasoning", "instruction_decomposition"),
}
DIMENSION_OF = {category: dim for dim, members in DIMENSIONS.items() for category in members}
META_OF = {dim: meta for meta, dims in META_CATEGORIES.items() for dim in dims}
CATEGORIES = fixed_categories(tuple(DIMENSION_OF))
ANNOTATION = "annotation.json"


def load(
    root: Path, language: str, name: str | None, templates: Path | None, images: Path | None
) -> Suite:
    require_english(language, "KRIS-Bench", root)
    if not root.is_dir():
        raise SuiteError(
            f"suite {root}: KRIS-Bench is a folder of category folders; point suite.path at it"
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise SuiteError(
            f"suite {root}: no category folders; point suite.path at the KRIS_Bench folder"
        )
    cases, annotations = [], []
    for folder in folders:
        category = _category(folder, root)
        annotations.append(folder / ANNOTATION)
        cases.extend(_folder_cases(folder, category))
    if not cases:
        raise SuiteError(f"suite {root}: no cases in any {ANNOTATION}")
    unique_ids(cases, root)
    return Suite(
        name=name or "KRIS-Bench",
        version=content_hash(*annotations),
        root=root,
        format="kris",
        language="en",
        categories=used_categories(CATEGORIES, cases),
        cases=tuple(cases),
        templates=templates,
    )


def _category(folder: Path, root: Path) -> Category:
    if folder.name not in CATEGORIES:
        raise SuiteError(
            f"suite {root}: unknown category folder {folder.name!r}; known: "
            f"{', '.join(CATEGORIES)} (move other folders out of the KRIS-Bench folder)"
        )
    if not (folder / ANNOTATION).is_file():
        raise SuiteError(
            f"{folder}: no {ANNOTATION}; every KRIS-Bench category folder needs its "
            "annotation file (re-download the category or remove the folder)"
        )
    return CATEGORIES[folder.name]


def _folder_cases(folder: Path, category: Category) -> list[Case]:
    file = folder / ANNOTATION
    entries = read_json(file, dict, 'a KRIS-Bench annotation file is one object keyed "1".."N"')
    return [_case(file, folder, category, str(key), entry) for key, entry in entries.items()]


def _case(file: Path, folder: Path, category: Category, key: str, entry: object) -> Case:
    where = f"{file}: entry {key!r}"
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: expected an object with ori_img, gt_img, ins_en and explain_en")
    require(entry, ("ori_img", "ins_en"), where)
    case_id = f"{category.key}-{key}"
    label = f"case {case_id}"
    names = entry["ori_img"] if isinstance(entry["ori_img"], list) else [entry["ori_img"]]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise SuiteError(f"{where}: ori_img must be a file name or a non-empty list of file names")
    sources = tuple(
        ImageRef(
            label if i == 0 else f"{label} input {i + 1}",
            path=inside(folder, n, f"{where}: ori_img"),
        )
        for i, n in enumerate(names)
    )
    gt = entry.get("gt_img")
    reference = (
        ImageRef(f"{label} ground truth", path=inside(folder, gt, f"{where}: gt_img"))
        if present(gt)
        else None
    )
    dimension = DIMENSION_OF[category.key]
    explanation = entry.get("explain_en") if present(entry.get("explain_en")) else ""
    return Case(
        id=case_id,
        category=category,
        instruction={"en": text_of(entry, "ins_en", where)},
        sources=sources,
        reference=reference,
        tags=(dimension, META_OF[dimension]),
        metadata={"entry": f"{category.key} entry {key!r}"},
        extra={
            "key": key,
            "explanation": str(explanation),
            "dimension": dimension,
            "meta_category": META_OF[dimension],
        },
        output_stem=f"{category.key}/{key}",
    )
