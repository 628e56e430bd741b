"""Overlap changes when a case is edited, never what it gets: the real tiny models, three runs.

The tiny Qwen-Image-Edit pipeline edits and the tiny Qwen3-VL judge scores by logits, each run
with its cache off so every edit and score is computed: without overlap at `-n 1`, with it at
`-n 1` and `-n 2` (three cases, so one `-n 2` worker has two and edits its second while the
first is judged). Per-case seeds, edited PNG bytes, logit scores and every other field of each
record and JUnit property are identical; only timings and the worker's name differ. (Without
overlap, `-n 1` and `-n 2` already agree: tests/e2e/test_seeds.py and test_judge_e2e.py.)
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from support import read_results, run_bench, tiny_logit_judge, write_config

pytest.importorskip("diffusers")

CASES = ["物理-001", "物理-002", "物理-003"]
TIMINGS = {"edit_s", "judge_s", "judge_load_s", "duration_s", "worker", "eb.worker"}


def junit_properties(path) -> dict[str, dict[str, str]]:
    cases = {}
    for testcase in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in testcase.iter("property")}
        cases[props["case_id"]] = {k: v for k, v in props.items() if k not in TIMINGS}
    return cases


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_overlap_gives_byte_identical_edits_and_scores(
    tmp_path, tmp_path_factory, judge_python, tiny_judge
):
    env = {"EDITBENCH_TINY_DIR": str(tmp_path_factory.getbasetemp() / "tiny-shared")}
    config = write_config(
        tmp_path,
        run={"cache": False},
        editor={"backend": "diffusers", "model": "tiny:qwen-image-edit", "steps": 2},
        judge=tiny_logit_judge(judge_python, tiny_judge),
    )
    runs = {"off-n1": ("false", "1"), "on-n1": ("true", "1"), "on-n2": ("true", "2")}
    seen = {}
    for name, (overlap, workers) in runs.items():
        run_dir = tmp_path / name
        result = run_bench(
            config,
            "-n",
            workers,
            "-k",
            " or ".join(CASES),
            f"--eb-set=run.overlap={overlap}",
            f"--junitxml={tmp_path / (name + '.xml')}",
            "-o",
            "junit_family=xunit1",  # every property of each case, in its <testcase>
            run_dir=run_dir,
            env=env,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        assert meta["overlap"]["workers"] == ("on" if overlap == "true" else "off")
        records = {r["case_id"]: r for r in read_results(run_dir)}
        assert sorted(records) == CASES and {r["status"] for r in records.values()} == {"ok"}
        if name == "on-n2":
            assert sorted(Counter(r["worker"] for r in records.values()).values()) == [1, 2]
        seen[name] = {
            "records": {
                c: {k: v for k, v in r.items() if k not in TIMINGS} for c, r in records.items()
            },
            "pngs": {c: (run_dir / records[c]["images"]["edited"]).read_bytes() for c in CASES},
            "junit": junit_properties(tmp_path / (name + ".xml")),
        }
    baseline = seen.pop("off-n1")
    assert len(set(baseline["pngs"].values())) == len(CASES)  # different cases, different pixels
    for name, run in seen.items():
        assert run["pngs"] == baseline["pngs"], name  # byte for byte
        assert run["records"] == baseline["records"], name  # seeds, logit scores, probs, paths
        assert run["junit"] == baseline["junit"], name
