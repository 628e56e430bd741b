"""Suite formats: the native folder, the base64 JSON list, and four published benchmarks.

`load_suite` reads a suite into the case model of `editbench.suites.model`. Formats:
`native` (suite.yaml + cases.jsonl), `b64` (a JSON list with inline base64 images), `gedit`
(GEdit-Bench, a Hugging Face data set), `imgedit` (ImgEdit-Bench's basic_edit.json or UGE
file), `kris` (KRIS-Bench's folder of category folders) and `rise` (RISEBench's JSON list).
`auto` recognises each from what is on disk. Structural problems are `SuiteError`s raised at
load time; a problem with one image surfaces as a `CaseError` when that case runs.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from editbench.errors import SuiteError
from editbench.suites.model import LANGUAGES, Suite

FORMATS = ("native", "b64", "gedit", "imgedit", "kris", "rise")
HUB_PREFIX = "hf:/"  # hf://datasets/<owner>/<name> once it has been through pathlib


def load_suite(
    path: Path,
    fmt: str = "auto",
    language: str = "en",
    name: str | None = None,
    templates: Path | None = None,
    images: Path | None = None,
) -> Suite:
    """Read the suite at `path` (a folder, a file, or hf://datasets/<owner>/<name>).

    `images` is the image root of formats whose manifest names images relative to another
    folder (ImgEdit's origin_img_root, RISE's input folder); default: the manifest's folder.
    """
    if language not in LANGUAGES:
        raise SuiteError(f"suite.language {language!r}: expected one of {', '.join(LANGUAGES)}")
    hub = _hub_id(path)
    if hub is None and not path.exists():
        raise SuiteError(
            f"suite {path}: does not exist; set suite.path to a suite folder "
            "(with suite.yaml and cases.jsonl), a suite file, or "
            "hf://datasets/<owner>/<name> for a Hugging Face data set"
        )
    fmt = ("gedit" if hub else detect(path)) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise SuiteError(f"suite.format {fmt!r}: expected auto or one of {', '.join(FORMATS)}")
    if hub and fmt != "gedit":
        raise SuiteError(
            f"suite.path hf://datasets/{hub}: a hub data set is read as suite.format "
            "gedit only; for other formats point suite.path at the files"
        )
    reader = importlib.import_module(f"editbench.suites.{fmt}")
    if fmt == "native":
        return reader.load(path, language)
    if fmt == "gedit":
        return reader.load(hub or path, language, name, templates)
    if fmt == "b64":
        return reader.load(path, language, name, templates)
    return reader.load(path, language, name, templates, images)


def _hub_id(path: Path) -> str | None:
    text = path.as_posix()
    if not text.startswith(HUB_PREFIX):
        return None
    parts = text[len(HUB_PREFIX) :].strip("/").split("/")
    if len(parts) != 3 or parts[0] != "datasets" or not all(parts):
        raise SuiteError(
            f"suite.path {text}: expected hf://datasets/<owner>/<name>, "
            "e.g. hf://datasets/stepfun-ai/GEdit-Bench"
        )
    return f"{parts[1]}/{parts[2]}"


def detect(path: Path) -> str:
    """The format of what is at `path`, from its files (native for an unknown folder, b64 for a file)."""
    if path.is_dir():
        return _detect_folder(path) or "native"
    return _detect_file(path) or "b64"


def _detect_folder(path: Path) -> str | None:
    if (path / "suite.yaml").is_file():
        return "native"
    from editbench.suites.gedit import is_dataset_folder

    if is_dataset_folder(path):
        return "gedit"
    if any((child / "annotation.json").is_file() for child in path.iterdir() if child.is_dir()):
        return "kris"
    return None


def _detect_file(path: Path) -> str | None:
    if path.suffix in (".parquet", ".arrow"):
        return "gedit"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        if "src_img_b64" in data[0]:
            return "b64"
        if {"index", "category", "instruction", "image"} <= set(data[0]):
            return "rise"
    if isinstance(data, dict) and data:
        first = next(iter(data.values()))
        if isinstance(first, dict) and {"id", "prompt"} <= set(first):
            return "imgedit"
    return None
