"""ImgEdit-Bench: `basic_edit.json` (or the UGE file), a JSON object keyed by numeric strings.

Each value is `{"id": <image path under the image root>, "prompt": ..., "edit_type": ...}`;
the image root (the official `--origin_img_root`) is `suite.images`, else the JSON file's
folder, and its folder names may contain spaces. The 9 edit types become the categories; the
UGE file has no edit type, so all its cases go to category `uge`. English only. The official
scorer reads the edit of entry `<key>` from `<result folder>/<key>.png`.
"""

from __future__ import annotations

from pathlib import Path

from editbench.errors import SuiteError
from editbench.suites.common import (
    content_hash,
    find_fixed,
    fixed_categories,
    inside,
    read_json,
    require,
    require_english,
    text_of,
    unique_ids,
    used_categories,
)
from editbench.suites.model import Case, ImageRef, Suite

EDIT_TYPES = (
    "add",
    "adjust",
    "extract",
    "replace",
    "remove",
    "background",
    "style",
    "compose",
    "action",
)
UGE = "uge"
BASIC = fixed_categories(EDIT_TYPES)
CATEGORIES = {**BASIC, **fixed_categories((UGE,))}


def load(
    file: Path, language: str, name: str | None, templates: Path | None, images: Path | None
) -> Suite:
    require_english(language, "ImgEdit-Bench", file)
    entries = read_json(
        file, dict, "ImgEdit-Bench's edit file is one JSON object keyed by entry number"
    )
    root = images or file.parent
    if not root.is_dir():
        raise SuiteError(
            f"suite.images {root}: not a folder; set it to the folder the entries' ids "
            "are relative to (ImgEdit's origin_img_root)"
        )
    uge = not any(isinstance(v, dict) and "edit_type" in v for v in entries.values())
    cases = [_case(file, str(key), entry, root, uge) for key, entry in entries.items()]
    if not cases:
        raise SuiteError(f"{file}: no entries")
    unique_ids(cases, file)
    _check_image_root(cases, file, root, images is None)
    return Suite(
        name=name or ("ImgEdit-Bench UGE" if uge else "ImgEdit-Bench"),
        version=content_hash(file),
        root=root,
        format="imgedit",
        language="en",
        categories=used_categories(CATEGORIES, cases),
        cases=tuple(cases),
        templates=templates,
    )


def _case(file: Path, key: str, entry: object, root: Path, uge: bool) -> Case:
    where = f"{file}: entry {key!r}"
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: expected an object with id, prompt and edit_type")
    require(entry, ("id", "prompt") if uge else ("id", "prompt", "edit_type"), where)
    category = CATEGORIES[UGE] if uge else find_fixed(BASIC, entry["edit_type"], where, "edit type")
    case_id = f"{category.key}-{key}"
    image_id = text_of(entry, "id", where)
    return Case(
        id=case_id,
        category=category,
        instruction={"en": text_of(entry, "prompt", where)},
        sources=(ImageRef(f"case {case_id}", path=inside(root, image_id, where)),),
        metadata={"entry": f"entry {key!r}"},
        extra={"key": key, "task_type": category.key, "image_id": image_id},
        output_stem=key,
    )


def _check_image_root(cases: list[Case], file: Path, root: Path, default: bool) -> None:
    """A wrong image root stops the run at startup, naming suite.images, rather than fail every
    case; one missing image (the others there) stays that case's own failure."""
    if any(case.sources[0].path.is_file() for case in cases):
        return
    where = f"not set, so they are looked for beside {file}" if default else f"is {root}"
    raise SuiteError(
        f"suite.images {where}: none of the {len(cases)} images of {file.name} is there (e.g. "
        f"{cases[0].sources[0].path}); set suite.images to the folder the entries' ids are "
        "relative to (ImgEdit's origin_img_root), e.g. --eb-set=suite.images=DIR"
    )
