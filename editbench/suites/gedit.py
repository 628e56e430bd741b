"""GEdit-Bench: the Hugging Face data set `stepfun-ai/GEdit-Bench` (split train), read with `datasets`.

Accepted: a `save_to_disk` folder (a Dataset, or a DatasetDict with a train split), a folder of
parquet or arrow files (or one such file), or `hf://datasets/<owner>/<name>` taken from the
local Hugging Face cache. Rows: `task_type` (11 values, the categories), `key`, `instruction`,
`instruction_language` (en or cn), `input_image` (the source), `Intersection_exist` (the
`intersection` tag). `suite.language: zh` selects the cn rows.

The data set stays memory-mapped Arrow: loading reads the small text columns only, and each
case keeps a row number; its image is read from the mapped file when the case runs. So every
xdist worker can load a 1,212-row data set without holding its images in memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from editbench.errors import CaseError, SuiteError
from editbench.suites.common import content_hash, find_fixed, fixed_categories, used_categories
from editbench.suites.model import Case, ImageRef, Suite

TASK_TYPES = (
    "background_change",
    "color_alter",
    "material_alter",
    "motion_change",
    "ps_human",
    "style_change",
    "subject-add",
    "subject-remove",
    "subject-replace",
    "text_change",
    "tone_transfer",
)
CATEGORIES = fixed_categories(TASK_TYPES)
TEXT_COLUMNS = ("task_type", "key", "instruction", "instruction_language", "Intersection_exist")
IMAGE_COLUMN = "input_image"
LANGUAGE_CODES = {"en": "en", "zh": "cn"}  # suite.language -> GEdit's instruction_language
FILE_SUFFIXES = (".parquet", ".arrow")


class ArrowImages:
    """One image column of a memory-mapped data set, read a row at a time."""

    def __init__(self, dataset, column: str, root: Path | None) -> None:
        self.rows = dataset.select_columns([column]).with_format("arrow")
        self.root = root

    def read(self, row: int, what: str) -> bytes:
        cell = self.rows[row].column(0)[0].as_py()
        if isinstance(cell, (bytes, bytearray)):
            return bytes(cell)
        if isinstance(cell, dict) and cell.get("bytes"):
            return bytes(cell["bytes"])
        if isinstance(cell, dict) and cell.get("path"):
            return self._file(cell["path"], what)
        raise CaseError(
            f"{what}: row {row} has no image data in column {IMAGE_COLUMN!r}; "
            "re-create the data set with the images embedded"
        )

    def _file(self, name: str, what: str) -> bytes:
        path = Path(name) if Path(name).is_absolute() or self.root is None else self.root / name
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CaseError(
                f"{what}: image file {path} named by the data set cannot be read "
                f"({exc.strerror}); add it or re-create the data set with embedded images"
            ) from None


def is_dataset_folder(path: Path) -> bool:
    """A save_to_disk folder, or a folder holding parquet/arrow files (at most two levels down)."""
    if any((path / name).is_file() for name in ("state.json", "dataset_dict.json")):
        return True
    return bool(_data_files(path))


def load(source: Path | str, language: str, name: str | None, templates: Path | None) -> Suite:
    dataset, root = open_dataset(source)
    where = f"GEdit-Bench data set {source}"
    _check_columns(dataset, where)
    texts = dataset.select_columns(list(TEXT_COLUMNS)).with_format("arrow")[:].to_pydict()
    images = ArrowImages(dataset, IMAGE_COLUMN, root)
    code = LANGUAGE_CODES[language]
    cases = [
        _case(texts, row, images, where, language)
        for row in range(len(texts["key"]))
        if texts["instruction_language"][row] == code
    ]
    if not cases:
        found = sorted({str(v) for v in texts["instruction_language"]})
        raise SuiteError(
            f"{where}: no rows with instruction_language {code!r} (found: "
            f"{', '.join(found) or 'none'}); set suite.language to en or zh"
        )
    _unique(cases, where)
    return Suite(
        name=name or "GEdit-Bench",
        version=_version(dataset),
        root=root or _cache_folder(dataset),
        format="gedit",
        language=language,
        categories=used_categories(CATEGORIES, cases),
        cases=tuple(cases),
        templates=templates,
    )


def _case(texts: dict[str, list], row: int, images: ArrowImages, where: str, language: str) -> Case:
    at = f"{where}: row {row}"
    task = find_fixed(CATEGORIES, texts["task_type"][row], at, "task type")
    key, instruction = texts["key"][row], texts["instruction"][row]
    if not isinstance(key, str) or not key or not isinstance(instruction, str) or not instruction:
        raise SuiteError(
            f"{at}: key and instruction must be non-empty strings (got {key!r}, {instruction!r})"
        )
    case_id = f"{task.key}-{key}"
    code = texts["instruction_language"][row]
    intersection = bool(texts["Intersection_exist"][row])
    return Case(
        id=case_id,
        category=task,
        instruction={language: instruction},
        sources=(ImageRef(f"case {case_id}", table=images, row=row),),
        tags=("intersection",) if intersection else (),
        metadata={"entry": f"row {row}", "row": row},
        extra={"key": key, "task_type": task.key, "language": code, "intersection": intersection},
        output_stem=f"fullset/{task.key}/{code}/{key}",
    )


def open_dataset(source: Path | str):
    """(memory-mapped Dataset, its folder or None) for a folder, a file, or a hub id."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    try:
        if isinstance(source, str):
            return datasets.load_dataset(source, split="train"), None
        if (source / "dataset_dict.json").is_file():
            return _train_split(datasets.load_from_disk(str(source)), source), source
        if (source / "state.json").is_file():
            return datasets.load_from_disk(str(source)), source
        files = [source] if source.is_file() else _data_files(source)
        if not files:
            raise SuiteError(
                f"suite {source}: no save_to_disk data set and no parquet or arrow "
                "files; point suite.path at the GEdit-Bench data set folder"
            )
        builder = "parquet" if files[0].suffix == ".parquet" else "arrow"
        dataset = datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train")
        return dataset, source if source.is_dir() else source.parent
    except SuiteError:
        raise
    except Exception as exc:  # datasets raises many types; the user needs one line
        raise SuiteError(_open_error(source, exc)) from None


def _open_error(source: Path | str, exc: Exception) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    if isinstance(source, str):
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
        hint = (
            "it is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; download it "
            f"first: python -c \"import datasets; datasets.load_dataset('{source}')\""
            if offline
            else "check the hub id and your network"
        )
        return f"suite.path hf://datasets/{source}: cannot load the data set ({hint}) [{type(exc).__name__}: {first}]"
    return f"suite {source}: cannot load it as a data set ({type(exc).__name__}: {first})"


def _train_split(dataset_dict, source: Path):
    if "train" not in dataset_dict:
        raise SuiteError(
            f"suite {source}: the DatasetDict has no train split (has: "
            f"{', '.join(dataset_dict)}); GEdit-Bench is published as split train"
        )
    return dataset_dict["train"]


def _data_files(folder: Path) -> list[Path]:
    for suffix in FILE_SUFFIXES:
        found = sorted(
            p for pattern in (f"*{suffix}", f"*/*{suffix}") for p in folder.glob(pattern)
        )
        if found:
            return found
    return []


def _check_columns(dataset, where: str) -> None:
    have = set(dataset.column_names)
    for column in (*TEXT_COLUMNS, IMAGE_COLUMN):
        if column not in have:
            raise SuiteError(
                f"{where}: no column {column!r} (has: {', '.join(sorted(have))}); "
                f"GEdit-Bench rows need {', '.join((*TEXT_COLUMNS, IMAGE_COLUMN))}"
            )


def _unique(cases: list[Case], where: str) -> None:
    seen: dict[str, Any] = {}
    for case in cases:
        if case.id in seen:
            raise SuiteError(
                f"{where}: duplicate key {case.extra['key']!r} in task type "
                f"{case.category.key} ({seen[case.id]} and {case.metadata['entry']}); "
                "keys must be unique per language"
            )
        seen[case.id] = case.metadata["entry"]


def _cache_folder(dataset) -> Path:
    files = dataset.cache_files
    return Path(files[0]["filename"]).parent if files else Path.cwd()


def _version(dataset) -> str:
    """A short hash of the data set's Arrow files (names and sizes): which copy was run."""
    files = [Path(f["filename"]) for f in dataset.cache_files]
    stamp = "\n".join(f"{p.name}:{p.stat().st_size}" for p in files if p.is_file())
    return "arrow-" + content_hash(stamp.encode())
