"""People's ratings of a run's edits, read from JSON Lines or CSV and matched to the run's cases.

Two shapes, told apart by their columns:
- absolute: `case_id`, `dimension`, `score`, optional `rater`: one person's score of one edit,
  on the dimension's own scale (`scale()`);
- preference: `case_id`, `preferred` (`a`, `b` or `tie`), optional `dimension` (default O),
  optional `rater`: which of two runs' edits of the same case a person prefers.
A row names its case by case id or by test id (`物理-003`). Any problem is one error line that
names the file and row; a rated case the suite has but the run did not run is counted, not an
error.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench.errors import ConfigError, EditbenchError
from editbench.vocabulary import REPORTED_DIMENSIONS

ABSOLUTE, PREFERENCE = "absolute", "preference"
COLUMNS = {
    ABSOLUTE: ("case_id", "dimension", "score", "rater"),
    PREFERENCE: ("case_id", "preferred", "dimension", "rater"),
}
REQUIRED = {ABSOLUTE: ("case_id", "dimension", "score"), PREFERENCE: ("case_id", "preferred")}
PREFERRED = ("a", "b", "tie")
PREFERENCE_DIMENSION = "O"  # what a preference row without a dimension is about


def scale(dimension: str) -> tuple[float, float] | None:
    """The range a dimension is scored on, None where none is known (protocols add theirs here)."""
    return (0.0, 10.0) if dimension in REPORTED_DIMENSIONS else None


@dataclass(frozen=True)
class Row:
    where: str  # "<file>:<line>", for messages
    case: str
    dimension: str
    rater: str
    value: float | str  # a score (absolute) or "a" / "b" / "tie" (preference)


@dataclass(frozen=True)
class Ratings:
    path: Path
    kind: str
    rows: tuple[Row, ...]


def read_ratings(path: Path) -> Ratings:
    """Every row of a ratings file, checked for shape and values (not yet against a run)."""
    raw = _raw_rows(path)
    if not raw:
        raise ConfigError(
            f"{path}: no ratings in the file; write one row per rating "
            "(case_id, dimension, score[, rater])"
        )
    kind = _kind(*raw[0])
    return Ratings(path, kind, tuple(_row(where, item, kind) for where, item in raw))


def _raw_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such ratings file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            return [(f"{path}:{reader.line_num}", dict(item)) for item in reader]
    if suffix in (".jsonl", ".json"):
        return _json_lines(path)
    raise ConfigError(
        f"{path}: ratings must be JSON Lines (.jsonl) or CSV (.csv); rename or convert it"
    )


def _json_lines(path: Path) -> list[tuple[str, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}:{number}: not JSON ({exc.msg}); one JSON object per line"
            ) from None
        if not isinstance(item, dict):
            raise ConfigError(f"{path}:{number}: not a JSON object; write one object per line")
        rows.append((f"{path}:{number}", item))
    return rows


def _kind(where: str, item: dict[str, Any]) -> str:
    if ("score" in item) == ("preferred" in item):
        raise ConfigError(
            f"{where}: a rating has either `score` (absolute ratings) or `preferred` "
            "(a preference between two runs), not both or neither"
        )
    return ABSOLUTE if "score" in item else PREFERENCE


def _row(where: str, item: dict[str, Any], kind: str) -> Row:
    for column in item:
        if column is None:  # csv.DictReader's key for values past the header's columns
            raise ConfigError(
                f"{where}: more values than the header has columns; quote values "
                "that contain commas"
            )
        if column not in COLUMNS[kind]:
            raise ConfigError(
                f"{where}: unknown column {column!r}{_hint(column, COLUMNS[kind])} "
                f"({kind} ratings have "
                f"{', '.join(COLUMNS[kind])}); remove or rename it"
            )
    text = {k: "" if v is None else str(v).strip() for k, v in item.items()}
    for column in REQUIRED[kind]:
        if not text.get(column):
            raise ConfigError(
                f"{where}: `{column}` is missing or empty; every {kind} rating needs "
                f"{', '.join(REQUIRED[kind])}"
            )
    dimension = text.get("dimension") or PREFERENCE_DIMENSION
    value = (
        _score(where, item["score"]) if kind == ABSOLUTE else _preferred(where, text["preferred"])
    )
    return Row(where, text["case_id"], dimension, text.get("rater", ""), value)


def _score(where: str, value: Any) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: score {value!r} is not a number; write the score as a number "
            "such as 7 or 6.5"
        ) from None
    if not math.isfinite(number):
        raise ConfigError(
            f"{where}: score {value!r} is not a finite number; rate the edit or drop the row"
        )
    return number


def _preferred(where: str, value: str) -> str:
    if value.lower() not in PREFERRED:
        raise ConfigError(
            f"{where}: preferred {value!r} is not one of a, b, tie (a: the first "
            "run's edit, b: the second's)"
        )
    return value.lower()


# -- matching rows to a run -----------------------------------------------------------------------


@dataclass
class CaseNames:
    """Which case id a name stands for: case ids and test ids of the run's and the suite's cases."""

    run: dict[str, str]
    suite: dict[str, str] | None  # None: the suite could not be read, names are not checked
    label: str  # the run folder, for messages


def case_names(records: list[dict[str, Any]], meta: dict[str, Any], label: str) -> CaseNames:
    run: dict[str, str] = {}
    for record in records:
        for name in (record.get("test_id"), record["case_id"]):
            if name:
                run[str(name)] = str(record["case_id"])
    return CaseNames(run, _suite_names(meta), label)


def _suite_names(meta: dict[str, Any]) -> dict[str, str] | None:
    """Names of every case in the run's suite, when its path in run.json still loads."""
    from editbench.cases import load_suite  # only here: reading a report needs no suite otherwise

    suite = meta.get("suite") or {}
    if not suite.get("path"):
        return None
    try:
        loaded = load_suite(
            Path(suite["path"]), suite.get("format") or "auto", suite.get("language") or "en"
        )
    except (EditbenchError, OSError, ValueError):
        return None
    return {name: case.id for case in loaded.cases for name in (case.test_id, case.id)}


@dataclass
class Matched:
    """Ratings on the run's cases: values[dimension][case id][rater], plus what fell outside."""

    values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    not_in_run: set[str] = field(default_factory=set)
    raters: set[str] = field(default_factory=set)
    suite_checked: bool = True  # False: the suite was not readable, unknown names were counted

    @property
    def rated(self) -> set[str]:
        return {case for cases in self.values.values() for case in cases}


def match(ratings: Ratings, names: CaseNames, dimensions: list[str]) -> Matched:
    """Check every row against the run (case, dimension, scale, repeats) and group the values."""
    out, first_seen = Matched(suite_checked=names.suite is not None), {}
    for row in ratings.rows:
        case = _case(row, names)
        _check_dimension(row, dimensions, names.label)
        if case is None:
            out.not_in_run.add(row.case)
            continue
        key = (case, row.dimension, row.rater)
        if key in first_seen:
            raise ConfigError(
                f"{row.where}: case {case} is rated on {row.dimension} again by "
                f"rater {row.rater!r} (first at {first_seen[key]}); name each rater "
                "in a `rater` column or drop the repeat"
            )
        first_seen[key] = row.where
        out.values.setdefault(row.dimension, {}).setdefault(case, {})[row.rater] = row.value
        out.raters.add(row.rater)
    if not out.values:
        example = ratings.rows[0]
        raise ConfigError(
            f"{ratings.path}: no rated case is in the run {names.label} "
            f"({example.where} names {example.case!r}); rate this run's edits or "
            "pass the run that was rated"
        )
    return out


def _case(row: Row, names: CaseNames) -> str | None:
    """The run's case id for the row, None for a suite case the run did not run."""
    if row.case in names.run:
        return names.run[row.case]
    if names.suite is None or row.case in names.suite:
        return None
    raise ConfigError(
        f"{row.where}: unknown case {row.case!r}{_hint(row.case, names.suite)}: neither a case id nor a "
        f"test id of the suite of {names.label}; fix the id"
    )


def _check_dimension(row: Row, dimensions: list[str], label: str) -> None:
    if row.dimension not in dimensions:
        raise ConfigError(
            f"{row.where}: unknown dimension {row.dimension!r}"
            f"{_hint(row.dimension, dimensions)} (the judge of "
            f"{label} scored {', '.join(dimensions) or 'nothing'})"
        )
    bounds = scale(row.dimension)
    if bounds and isinstance(row.value, float) and not bounds[0] <= row.value <= bounds[1]:
        raise ConfigError(
            f"{row.where}: score {row.value:g} is outside the {row.dimension} scale "
            f"{bounds[0]:g}-{bounds[1]:g}; rate on the judge's scale"
        )


def _hint(value: str, choices: Any) -> str:
    """`; did you mean 'SC'?` for the closest choice, ignoring case, or nothing."""
    folded = {str(choice).casefold(): str(choice) for choice in choices}
    close = difflib.get_close_matches(str(value).casefold(), list(folded), n=1)
    return f"; did you mean {folded[close[0]]!r}?" if close else ""
