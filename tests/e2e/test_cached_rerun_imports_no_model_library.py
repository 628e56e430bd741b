"""A fully cached rerun imports no model library in any process, and starts no judge.

The tiny diffusers editor and the constant judge (in the real judge interpreter) run two cases at
`-n 2`; the first run edits, so its workers import torch and diffusers (the probe sees them); the
unchanged rerun takes every edit and score from the cache, and neither its controller nor its
workers import torch, diffusers or transformers, nor does any worker start its judge. The
libraries are seen by the `eb_imported` probe plugin (tests/probes).
"""

from __future__ import annotations

import json

import pytest

from support import (
    TINY_EDITOR,
    constant_judge,
    imported_libraries,
    probe_imports,
    run_bench,
    write_config,
)

pytest.importorskip("diffusers")

MODEL_LIBRARIES = {"torch", "diffusers", "transformers"}


@pytest.mark.timeout(600)
def test_a_fully_cached_rerun_imports_no_model_library_and_starts_no_judge(tmp_path, judge_python):
    config = write_config(tmp_path, editor=TINY_EDITOR, judge=constant_judge(judge_python))
    seen = {}
    for name in ("first", "rerun"):
        folder = tmp_path / f"imported-{name}"
        result = run_bench(
            config,
            "-p",
            "eb_imported",
            "-n",
            "2",
            "-k",
            "物理-001 or 物理-002",
            run_dir=tmp_path / name,
            env=probe_imports(folder),
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        seen[name] = imported_libraries(folder)
    assert set(seen["first"]) == set(seen["rerun"]) == {"controller", "gw0", "gw1"}
    assert {"torch", "diffusers"} <= set(seen["first"]["gw0"]) | set(seen["first"]["gw1"])
    assert all(not MODEL_LIBRARIES & set(found) for found in seen["rerun"].values()), seen
    records = [json.loads(line) for line in (tmp_path / "rerun" / "results.jsonl").open()]
    assert len(records) == 2 and all(r["edit_cached"] for r in records)
    workers = json.loads((tmp_path / "rerun" / "run.json").read_text(encoding="utf-8"))["workers"]
    assert workers and not any(w["judge"]["started"] for w in workers.values())
