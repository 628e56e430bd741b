"""The score cache keys a local judge model by its content fingerprint, never by its path.

Both runs in this process (`support.run_in_process`), the faulty judge in the real judge
interpreter: what is proven is the cache key, not the pytest process around it.
"""

from __future__ import annotations

import json
import shutil

import pytest

from support import read_results, run_in_process


@pytest.mark.timeout(300)
def test_the_same_judge_in_another_folder_reuses_every_score(fault_run):
    """The same checkpoint reached through another folder: same fingerprint, no case re-scored."""
    first = fault_run.tmp_path / "models" / "judge-a"
    first.mkdir(parents=True)
    (first / "config.json").write_text(json.dumps({"model_type": "stand-in"}), "utf-8")
    second = fault_run.tmp_path / "elsewhere" / "judge-b"
    shutil.copytree(first, second)
    runs = []
    for name, model in (("first", first), ("second", second)):
        config = fault_run.config(
            judge={**fault_run.judge, "model": str(model)}, editor={"backend": "identity"}
        )
        run_dir = fault_run.tmp_path / name
        done = run_in_process(
            config,
            run_dir=run_dir,
            select=lambda c: c.category.key == "physical",
            env=fault_run.env(),
        )
        assert done.returncode == 0
        runs.append(read_results(run_dir))
        meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        assert meta["judge"]["model_fingerprint"]  # both runs name the same content
    assert len(runs[1]) == 5 and not any(r["cached"]["SC"] for r in runs[0])
    assert all(r["cached"]["SC"] and r["cached"]["PQ"] for r in runs[1]), runs[1]
