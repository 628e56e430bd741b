"""One finished case as a JSON record, rebuilt on the controller from its test report.

The worker records flat, builtin-typed `user_properties` (see `CaseOutcome.properties`); the
controller adds the pytest outcome. A case whose worker died has no properties: it becomes a
record with status "crashed" and the crash message, never a score.
"""

from __future__ import annotations

from typing import Any

from editbench.cases import Case

DIMENSION_KEYS = ("SC", "PQ", "O", "criterion")


def record_from_report(report, case: Case) -> dict[str, Any]:
    props = dict(report.user_properties)
    record: dict[str, Any] = {
        "case_id": case.id, "test_id": case.test_id, "category": case.category.key,
        "category_name": case.category.display, "nodeid": report.nodeid,
        "outcome": report.outcome, "duration_s": round(float(report.duration or 0.0), 6),
        "worker": _worker(report),
    }
    if "eb.version" not in props:
        record.update(status=_status_without_outcome(report), reason=_short(report), scores={},
                      statuses={})
        return record
    record.update({k: v for k, v in props.items() if "." not in k})
    record["scores"] = {k[6:]: v for k, v in props.items() if k.startswith("score.")}
    record["statuses"] = {k[7:]: v for k, v in props.items() if k.startswith("status.")}
    for prefix in ("reasoning", "raw", "cached", "image"):
        found = {k[len(prefix) + 1:]: v for k, v in props.items() if k.startswith(prefix + ".")}
        if found:
            record[prefix if prefix != "image" else "images"] = found
    if report.failed and record.get("status") == "ok":
        record["status"], record["reason"] = "error", _short(report)
    return record


def _worker(report) -> str | None:
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    return getattr(gateway, "id", None)


def _status_without_outcome(report) -> str:
    text = str(report.longrepr or "")
    if report.when == "???" or "crashed" in text:
        return "crashed"
    if report.skipped:
        return "skipped"
    return "error"


def _short(report) -> str:
    text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""
