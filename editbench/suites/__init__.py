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
from editbench.suites.model import LANGUAGES, Category, Suite

FORMATS = ("native", "b64", "gedit", "imgedit", "kris", "rise")
HUB_PREFIX = "hf:/"  # hf://datasets/<owner>/<name> once it has been through pathlib


def load_suite(
    path: Path,
    fmt: str = "auto",
    language: str | list[str] | tuple[str, ...] = "en",
    name: str | None = None,
    templates: Path | None = None,
    images: Path | None = None,
    categories: list[dict] | None = None,
) -> Suite:
    """Read the suite at `path` (a folder, a file, or hf://datasets/<owner>/<name>).

    `language` is one language or a preference list: each case of a bilingual format uses the
    first it has. `images` is the image root of formats whose manifest names images relative to
    another folder (ImgEdit's origin_img_root, RISE's input folder); default: the manifest's
    folder. `categories` (the run config's suite.categories) defines a base64 suite's categories.
    """
    languages = preferences(language)
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
    if categories and fmt != "b64":
        raise SuiteError(
            f"suite.categories: defines the categories of a base64 suite only; this suite is "
            f"read as {fmt} ({'its suite.yaml lists them' if fmt == 'native' else 'the benchmark fixes them'}); "
            "remove suite.categories from the run config"
        )
    reader = importlib.import_module(f"editbench.suites.{fmt}")
    if fmt == "native":
        return reader.load(path, languages)
    if fmt == "b64":
        return reader.load(
            path, languages, name, templates, configured_categories(categories or [])
        )
    if fmt == "gedit":  # one language per row: the first preference picks the rows
        return reader.load(hub or path, languages[0], name, templates)
    return reader.load(path, _english(languages, fmt), name, templates, images)


def preferences(language: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """suite.language as a preference tuple, each entry a known language, each once."""
    chosen = (language,) if isinstance(language, str) else tuple(language)
    bad = [lang for lang in chosen if lang not in LANGUAGES]
    if not chosen or bad or len(set(chosen)) != len(chosen):
        raise SuiteError(
            f"suite.language {language!r}: expected one of {', '.join(LANGUAGES)}, or a "
            f"preference list of them, each once (e.g. [en, zh])"
        )
    return chosen


def _english(languages: tuple[str, ...], fmt: str) -> str:
    """The English-only benchmarks run when English is among the preferences."""
    return "en" if "en" in languages else languages[0]


def configured_categories(entries: list[dict]) -> tuple[Category, ...]:
    """The run config's suite.categories: `{key, names, criterion}` mappings, checked one by one."""
    out = []
    for index, entry in enumerate(entries):
        where = f"suite.categories[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or not entry["key"]:
            raise SuiteError(
                f"{where}: expected a mapping with key, names and criterion, e.g. "
                "{key: lighting, names: [光照, lighting], criterion: plausible light}"
            )
        unknown = sorted(set(entry) - {"key", "names", "criterion"})
        if unknown:
            raise SuiteError(
                f"{where}: unknown key {unknown[0]!r}; known keys: criterion, key, names"
            )
        names = entry.get("names") or [entry["key"]]
        names = (names,) if isinstance(names, str) else tuple(str(n) for n in names)
        out.append(
            Category(key=entry["key"], names=names, criterion=str(entry.get("criterion") or ""))
        )
    return tuple(out)


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
