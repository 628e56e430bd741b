"""One finished case as a JSON record, rebuilt on the controller from its test report.

The worker records flat, builtin-typed properties (`editbench.schema.to_properties`) on the case's
call report, as its `eb_properties` attribute (it crosses xdist with the report); the controller
adds the pytest outcome. They are pytest `user_properties` too where the JUnit family allows
per-testcase properties (see reporting/junit.py). A case whose worker died has no properties: it becomes a
record with status "crashed" and the crash message, never a score.

A worker adds one `eb.worker` property (JSON text: editor and judge descriptions, versions and
devices on its side) to its first case; the controller lifts it out of the record into run.json.
The record's keys, and how properties read back into them, are written down in `editbench.schema`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from editbench.cases import Case
from editbench.schema import VERSION_PROPERTY, Record, from_properties
from editbench.schema import WORKER_KEY as WORKER_KEY  # the controller lifts it out of a record
from editbench.vocabulary import Status

PROPERTIES_ATTRIBUTE = "eb_properties"  # the call report's attribute that carries them


def case_properties(report) -> dict[str, Any]:
    """The properties a worker recorded for the case of this report ({} for none).

    Reports that lack the attribute (hand-made ones, older editbench) carry them as
    user_properties."""
    props = getattr(report, PROPERTIES_ATTRIBUTE, None)
    return dict(props if props is not None else getattr(report, "user_properties", ()))


def record_from_report(report, case: Case) -> Record:
    props = case_properties(report)
    record: Record = {
        "case_id": case.id,
        "test_id": case.test_id,
        "category": case.category.key,
        "category_name": case.category.display,
        "nodeid": report.nodeid,
        "outcome": report.outcome,
        "duration_s": round(float(report.duration or 0.0), 6),
        "worker": _worker(report),
        "instruction": dict(case.instruction),
    }
    if VERSION_PROPERTY not in props:
        record.update(
            status=_status_without_outcome(report), reason=_short(report), scores={}, statuses={}
        )
        return record
    record.update(from_properties(props))
    if report.failed and record.get("status") == Status.OK:
        record["status"], record["reason"] = Status.ERROR.value, _short(report)
    return record


def is_scored(record: dict[str, Any]) -> bool:
    return record.get("status") == Status.OK


def score(record: dict[str, Any], dimension: str) -> float | None:
    """The dimension's score if the case and the dimension were scored, else None."""
    if not is_scored(record) or record.get("statuses", {}).get(dimension) != Status.OK:
        return None
    value = record.get("scores", {}).get(dimension)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def read_results(path: Path) -> list[dict[str, Any]]:
    """Records of a results.jsonl; a truncated last line (a crash mid-write) is ignored."""
    records = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise ValueError(f"{path}:{number}: not a JSON record; the file is damaged") from None
    return records


def latest_per_case(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per case, the latest winning, in the order the kept records arrived.

    A run folder that a rerun continued (the same `--eb-run-dir`) may hold a case more than once
    until that rerun ends and rewrites the file; every reader keeps the newest line.
    """
    latest: dict[Any, dict[str, Any]] = {}
    for record in records:
        latest.pop(record.get("case_id"), None)
        latest[record.get("case_id")] = record
    return list(latest.values())


def canonical_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records sorted by case id: statistics do not depend on arrival order or sharding."""
    return sorted(records, key=lambda r: (str(r.get("category")), str(r.get("case_id"))))


def _worker(report) -> str | None:
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    return getattr(gateway, "id", None)


def _status_without_outcome(report) -> str:
    text = str(report.longrepr or "")
    if report.when == "???" or "crashed" in text:
        return Status.CRASHED.value
    if report.skipped:
        return Status.SKIPPED.value
    return Status.ERROR.value


def _short(report) -> str:
    text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""
