"""Synthetic records and run folders for the report tests (real PNGs, real report writers)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from editbench.images import encode_png
from editbench.reporting.rundir import write_reports
from editbench.reporting.runmeta import write_json

CATEGORIES = [("physical", "物理"), ("social", "社会"), ("causal", "因果")]


def record(
    case_id: str,
    category: str,
    sc: float | None,
    pq: float | None,
    status: str = "ok",
    reason: str = "",
    instruction: str = "do it",
) -> dict:
    name = dict(CATEGORIES).get(category, category)
    rec = {
        "case_id": case_id,
        "test_id": case_id,
        "category": category,
        "category_name": name,
        "status": status,
        "reason": reason,
        "instruction": {"en": instruction},
        "scores": {},
        "statuses": {},
        "reasoning": {},
        "images": {
            "source": f"images/{category}/{case_id}.source.png",
            "edited": f"images/{category}/{case_id}.edited.png",
        },
    }
    for dim, value in (("SC", sc), ("PQ", pq)):
        if value is None:
            rec["statuses"][dim] = "unparseable" if status != "ok" else "ok"
            rec["scores"][dim] = None
        else:
            rec["statuses"][dim], rec["scores"][dim] = "ok", value
            rec["reasoning"][dim] = f"{dim} reasoning for {case_id}"
    if sc is not None and pq is not None:
        rec["statuses"]["O"], rec["scores"]["O"] = "ok", (sc * pq) ** 0.5
    return rec


def sample_records() -> list[dict]:
    return [
        record("物理-001", "physical", 6, 8),
        record("物理-002", "physical", 7, 9),
        record("物理-003", "physical", 5, 7),
        record("物理-004", "physical", None, 6, "unparseable", "SC: no score in the answer"),
        record("社会-001", "social", 2, 4),
        record("社会-002", "social", 3, 5),
        record("因果-001", "causal", 9, 9),
        record("因果-002", "causal", None, None, "edit-error", "RuntimeError: boom"),
        record("因果-003", "causal", 8, 7),
        record("因果-004", "causal", 7, 8),
        record("因果-005", "causal", 9, 8),
    ]


def write_run(run_dir: Path, records: list[dict], meta: dict | None = None) -> dict:
    """A complete run folder: images, results.jsonl, run.json and every report."""
    for i, rec in enumerate(records):
        for kind, relative in rec["images"].items():
            path = run_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            colour = (40 * i % 256, 200 if kind == "edited" else 60, 90)
            path.write_bytes(encode_png(Image.new("RGB", (64, 48), colour)))
    with open(run_dir / "results.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    meta = meta or {
        "run_id": run_dir.name,
        "suite": {
            "name": "synthetic",
            "version": "1",
            "language": "en",
            "categories": [list(c) for c in CATEGORIES],
        },
        "config": {
            "suite": {},
            "editor": {"backend": "identity"},
            "judge": {"backend": "constant"},
        },
    }
    write_json(run_dir / "run.json", meta)
    return write_reports(run_dir, records, meta)
