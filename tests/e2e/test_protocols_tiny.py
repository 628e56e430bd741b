"""RISEBench's protocol on the tiny Qwen3-VL judge: logit read over each scale's own digits.

The real model, in its own interpreter, answers every request; a 1-5 dimension is the expected
score over P(1..5) and a logical 0/1 dimension over P(0), P(1), mapped to 1-5. Every case is
scored on its scales, and the headline table is printed with its intervals.
"""

from __future__ import annotations

import json

import pytest
from benchdata import write_rise

from support import read_results, run_bench, tiny_logit_judge, write_config

SCALES = {"consistency": (1, 5), "reasoning": (1, 5), "plausibility": (1, 5), "score": (1, 5)}


@pytest.mark.timeout(600)
def test_rise_protocol_on_the_tiny_judge(tmp_path, judge_python, tiny_judge):
    data = write_rise(tmp_path / "rise", release=360)
    config = write_config(
        tmp_path,
        suite={"path": str(data), "format": "rise"},
        judge=tiny_logit_judge(judge_python, tiny_judge, protocol="rise"),
    )
    selection = "logical or causal"  # 0/1 and 1-5 scales, a consistency-free case
    result = run_bench(config, "-k", selection, run_dir=tmp_path / "run", timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    records = read_results(tmp_path / "run")
    assert len(records) == 3
    for record in records:
        for dimension, (low, high) in SCALES.items():
            if dimension in record["scores"]:
                assert low <= record["scores"][dimension] <= high, (record["case_id"], dimension)
        assert record["scores"]["complete"] in (0.0, 1.0)
        # each request read the probabilities of its own scale's scores only
        probs = json.loads(record["raw"]["reasoning"])["probs"]
        assert len(probs) == (2 if record["category"] == "logical_reasoning" else 5)
        assert sum(probs) == pytest.approx(1.0)
    assert "consistency" not in {r["case_id"]: r for r in records}["causal_reasoning_1"]["scores"]
    block = json.loads((tmp_path / "run" / "summary.json").read_text())["protocol"]
    overall = {n["column"]: n for n in block["numbers"] if n["row"] == "Overall"}
    assert overall["Accuracy"]["n"] == 3 and overall["Reasoning"]["n"] == 3
    assert overall["Reasoning"]["ci_low"] is None  # no interval below 5 cases (stats.MIN_N)
    assert "RISEBench headline numbers (protocol rise):" in result.stdout
