"""Helpers every suite reader shares: safe paths, JSON reading, categories, one-line errors."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from editbench.errors import SuiteError
from editbench.suites.model import Category


def inside(root: Path, relative: Any, where: str) -> Path:
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


def read_json(file: Path, shape: type, what: str) -> Any:
    """A JSON file's content, which must be a `shape` (dict or list); errors name the file and fix."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"{file}: malformed JSON ({exc.msg} at line {exc.lineno}); {what}"
        ) from None
    except OSError as exc:
        raise SuiteError(f"{file}: cannot read ({exc.strerror})") from None
    if not isinstance(data, shape):
        raise SuiteError(f"{file}: expected a JSON {'object' if shape is dict else 'list'}; {what}")
    return data


def reject_unknown(item: dict, known: set, where: str) -> None:
    unknown = sorted(set(item) - known)
    if unknown:
        raise SuiteError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}"
        )


def require(item: dict, keys: tuple[str, ...], where: str) -> None:
    for key in keys:
        if key not in item or item[key] in (None, ""):
            raise SuiteError(f"{where}: missing required key {key!r}")


def text_of(item: dict, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SuiteError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value


def present(value: Any) -> bool:
    """False for the ways a JSON export writes 'no value': null, '', NaN."""
    if value is None or value == "":
        return False
    return not (isinstance(value, float) and math.isnan(value))


def fixed_categories(keys: tuple[str, ...]) -> dict[str, Category]:
    return {key: Category(key=key, names=(key,)) for key in keys}


def find_fixed(categories: dict[str, Category], value: Any, where: str, what: str) -> Category:
    """The category named `value`, or a SuiteError listing the known ones."""
    if isinstance(value, str) and value in categories:
        return categories[value]
    raise SuiteError(
        f"{where}: unknown {what} {value!r}; known: {', '.join(categories)} "
        "(this reader knows the benchmark's published categories only)"
    )


def seed(value: Any, where: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise SuiteError(f"{where}: seed must be an integer, got {value!r}")


def require_english(language: str, benchmark: str, where: Path | str) -> None:
    if language != "en":
        raise SuiteError(
            f"{where}: {benchmark} has English instructions only; set suite.language: en "
            "(or include en in its preference list)"
        )


def used_categories(known: dict[str, Category], cases: tuple) -> tuple[Category, ...]:
    """The known categories that have cases, in the benchmark's own order."""
    used = {case.category.key for case in cases}
    return tuple(c for key, c in known.items() if key in used)


def unique_ids(cases: list, where: Path | str) -> None:
    seen: dict[str, str] = {}
    for case in cases:
        if case.id in seen:
            raise SuiteError(
                f"{where}: duplicate case id {case.id!r} ({seen[case.id]} and "
                f"{case.metadata.get('entry')}); every entry needs its own key"
            )
        seen[case.id] = str(case.metadata.get("entry"))


def content_hash(*parts: bytes | Path) -> str:
    """A short hash of files' or bytes' content: the suite version of a published benchmark."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes() if isinstance(part, Path) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:12]
