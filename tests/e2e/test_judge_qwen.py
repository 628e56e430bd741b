"""The qwen-vl backend on the tiny random Qwen3-VL judge, in the judge virtualenv (transformers 5.x)."""

from __future__ import annotations

import json

import pytest

from editbench.cases import load_suite
from editbench.config import build_config
from editbench.judging import JudgeInput, WorkerInfo
from editbench.judging.modes import open_judge
from editbench.judging.parsing import parse_score
from editbench.protocols import run_protocol
from support import REPO

SUITE = load_suite(REPO / "fixtures" / "sample_suite")
WORKER = WorkerInfo(index=0, id="gw0", gpus=[])


@pytest.fixture
def judge_config(judge_python, tiny_judge):
    """A config of the tiny Qwen3-VL judge in the real judge interpreter, plus `judge` overrides."""

    def make(**judge):
        data = {
            "backend": "qwen-vl",
            "model": str(tiny_judge),
            "python": judge_python,
            "max_pixels": 65536,
            "max_new_tokens": 16,
            "min_digit_mass": 0,  # random weights: little probability on score tokens
            **judge,
        }
        return build_config({"judge": data, "run": {"cache": False}})

    return make


def item(index: int) -> JudgeInput:
    case = SUITE.cases[index]
    _, png = case.source.load()
    instruction, description = case.text("en")
    return JudgeInput(
        case=case,
        source_png=png,
        edited_png=png,
        instruction=instruction,
        description=description,
        seed=index,
    )


def test_tiny_judge_is_reproducible(tmp_path):
    from editbench.tiny.judge import build_tiny_judge

    build_tiny_judge(tmp_path / "a", seed=0)
    build_tiny_judge(tmp_path / "b", seed=0)
    build_tiny_judge(tmp_path / "c", seed=1)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    } <= set(names)
    assert all(
        (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names
    )
    assert (tmp_path / "a" / "model.safetensors").read_bytes() != (
        tmp_path / "c" / "model.safetensors"
    ).read_bytes()


@pytest.mark.timeout(300)
def test_logit_scores_in_range_deterministic_batch_equals_single(judge_config):
    judge = open_judge(judge_config(), run_protocol(judge_config(), SUITE), WORKER)
    try:
        assert judge.describe()["started"] is False  # the model loads on the first request
        first = judge.score(item(0))
        assert judge.describe()["info"]["class"] == "Qwen3VLForConditionalGeneration"
        second = judge.score(item(0))
        scorer = judge.scorer
        items = scorer.items(item(0))
        singles = {
            d: judge.request([i], "logit", scorer.decoding(0))["results"][0]["score"]
            for d, i in items.items()
        }
    finally:
        judge.close()
    assert set(first) == {"SC", "PQ", "criterion", "O"}  # O derived by the protocol
    for name, result in first.items():
        assert result["status"] == "ok" and 0.0 <= result["score"] <= 10.0
        assert result["score"] == second[name]["score"]  # bit-identical
        if name == "O":
            continue  # derived, never asked
        assert singles[name] == pytest.approx(
            result["score"], abs=1e-5
        )  # batch (left padded) == single


def answers(raw: str) -> list[str]:
    """The texts a generate result kept: one answer, or the answer and its retry (a JSON list)."""
    try:
        texts = json.loads(raw)
    except json.JSONDecodeError:
        return [raw]
    return texts if isinstance(texts, list) and all(isinstance(t, str) for t in texts) else [raw]


@pytest.mark.timeout(300)
def test_generate_gives_a_score_or_an_explicit_failure(judge_config):
    judge = open_judge(
        judge_config(method="generate"),
        run_protocol(judge_config(method="generate"), SUITE),
        WORKER,
    )
    try:
        results = judge.score(item(1))
        again = judge.score(item(1))
    finally:
        judge.close()
    for name, result in results.items():
        if name == "O":
            assert result["status"] in ("ok", "missing-input")  # derived from SC and PQ
            continue
        assert result["raw"]  # the judge's own text is kept
        texts = answers(result["raw"])
        final = parse_score(texts[-1])  # the answer that decided (the retry's, after a failure)
        assert (result["status"], result["score"]) == (final.status.value, final.score), result
        assert len(texts) == (1 if parse_score(texts[0]).ok else 2)  # one retry, only on failure
        assert (again[name]["raw"], again[name]["status"]) == (
            result["raw"],
            result["status"],
        )  # greedy
