"""Logit scores on real tiny judges: both modes read the same scores, a bad vocabulary is refused,
and too little probability on score tokens fails with its own status.

The judges are tiny random Qwen3-VL checkpoints (the tiny judge's architecture) with tokenizers of
other digit shapes, built here offline (`support.build_score_judge`); the gateway runs them in the
real judge virtualenv.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest

from editbench.cases import load_suite
from editbench.config import build_config
from editbench.judging import JudgeInput, WorkerInfo, chat_api
from editbench.judging.gateway import JudgeStartError
from editbench.judging.modes import open_judge
from editbench.judging.remote import (
    ONE_TEXTS,
    SCORE_TEXTS,
    QwenVLBackend,
    expected_score,
    score_probs,
)
from editbench.protocols import run_protocol
from support import REPO, build_score_judge, read_results, run_bench, write_config

SUITE = load_suite(REPO / "fixtures" / "sample_suite")
WORKER = WorkerInfo(index=0, id="gw0", gpus=[])


def judge_section(python: str, model, **extra) -> dict:
    return {
        "backend": "qwen-vl",
        "model": str(model),
        "python": python,
        "method": "logit",
        "device": "cpu",
        "dtype": "float32",
        "max_pixels": 65536,
        **extra,
    }


def item(index: int) -> JudgeInput:
    case = SUITE.cases[index]
    _, png = case.source.load()
    instruction, description = case.text("en")
    return JudgeInput(case, png, png, instruction, description, seed=index)


def as_reply(backend: QwenVLBackend, probs) -> dict:
    """The whole next-token distribution as an endpoint's top_logprobs (k = the vocabulary)."""
    texts = backend.tokenizer.convert_ids_to_tokens(list(range(len(probs))))
    decoded = [backend.tokenizer.convert_tokens_to_string([t]) if t else "" for t in texts]
    top = [
        {"token": text, "logprob": math.log(p)} for text, p in zip(decoded, probs, strict=True) if p
    ]
    return {"choices": [{"logprobs": {"content": [{"top_logprobs": top}]}}]}


def service_reading(backend: QwenVLBackend, request_item: dict) -> float:
    """What service mode computes for this item, from unbatched forward passes of the model."""
    torch = backend.torch

    def next_token(prefix: str) -> dict:
        inputs = backend._inputs([request_item])
        extra = backend.tokenizer.encode(prefix, add_special_tokens=False) if prefix else []
        tail = torch.tensor([extra], dtype=inputs["input_ids"].dtype)
        inputs["input_ids"] = torch.cat([inputs["input_ids"], tail], dim=1)
        inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
        with torch.inference_mode():
            logits = backend.model(**backend._with_type_ids(inputs)).logits[0, -1].float()
        probs = torch.softmax(logits, dim=-1).tolist()
        return chat_api.score_texts(chat_api.top_logprobs(as_reply(backend, probs)))

    first = next_token("")
    after = {one: next_token(one) for one in ONE_TEXTS if one in first}
    assert chat_api.unseen_scores(first, after) == []  # the whole vocabulary was returned
    return expected_score(score_probs(first, after))[0]


@pytest.mark.timeout(300)
def test_gateway_and_service_read_the_same_scores_with_space_digits_and_single_ten(
    tmp_path, judge_python
):
    model = build_score_judge(tmp_path / "judge", space_digits=True, ten=True)
    config = build_config(
        {"judge": judge_section(judge_python, model, min_digit_mass=0), "run": {"cache": False}}
    )
    judge = open_judge(config, run_protocol(config, SUITE), WORKER)
    try:
        judge.start()  # the interpreter starts lazily, on the first request: start it to read it
        info = judge.describe()["info"]
        assert sorted(info["score_tokens"]) == sorted(SCORE_TEXTS)  # all 22 read, none folded
        cases = [item(0), item(6)]
        gateway = [judge.score(case) for case in cases]
        requests = [judge.scorer.items(case) for case in cases]
    finally:
        judge.close()
    backend = QwenVLBackend({"model": str(model), "device": "cpu", "dtype": "float32"})
    for scored, request in zip(gateway, requests, strict=True):
        for dimension, wire in request.items():  # every asked dimension (O is derived)
            result = scored[dimension]
            assert result["status"] == "ok", result
            assert result["score"] == pytest.approx(service_reading(backend, wire), abs=1e-5), (
                dimension
            )


@pytest.mark.timeout(300)
def test_a_vocabulary_that_splits_digits_is_refused_at_startup_naming_the_model(
    tmp_path, judge_python
):
    model = build_score_judge(tmp_path / "judge", prefix_space=True)
    config = build_config({"judge": judge_section(judge_python, model), "run": {"cache": False}})
    with pytest.raises(JudgeStartError, match=rf"judge model {model}: .*one token"):
        open_judge(config, run_protocol(config, SUITE), WORKER).start()
    generate = build_config(
        {"judge": judge_section(judge_python, model, method="generate"), "run": {"cache": False}}
    )
    written = open_judge(generate, run_protocol(generate, SUITE), WORKER)
    written.start()  # written answers do not need digit tokens: it starts
    written.close()


@pytest.mark.timeout(600)
def test_too_little_probability_on_score_tokens_fails_with_its_own_status(
    tmp_path, judge_python, tiny_judge
):
    """The tiny random judge at the default floor (0.5): every logit dimension fails, mass kept."""
    config = write_config(tmp_path, judge=judge_section(judge_python, tiny_judge))
    run_dir = tmp_path / "run"
    result = run_bench(config, "-k", "物理-001", run_dir=run_dir, timeout=500)
    assert result.returncode == 1, result.stdout[-3000:]
    (record,) = read_results(run_dir)
    assert record["status"] == "low-digit-mass"
    assert {record["statuses"][d] for d in ("SC", "PQ", "criterion")} == {"low-digit-mass"}
    assert record["statuses"]["O"] == "missing-input"
    assert all(record["scores"][d] is None for d in ("SC", "PQ", "criterion", "O"))
    for dimension in ("SC", "PQ", "criterion"):
        assert 0.0 < record["mass"][dimension] < 0.5
        assert "below judge.min_digit_mass 0.5" in record["reasoning"][dimension]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["micro"]["failures"] == {"low-digit-mass": 1}
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.count('class="mass"') == 3 and "low-digit-mass" in page


@pytest.mark.timeout(300)
@pytest.mark.skipif(
    shutil.which("nvidia-smi") is not None, reason="here the judge would really run on GPU 0"
)
def test_a_judge_on_another_device_than_its_cache_key_assumed_is_refused(judge_python, tiny_judge):
    """Given GPU 0, `device: auto` keys scores as cuda/bfloat16; this judge runs on the CPU."""
    judge = judge_section(judge_python, tiny_judge, device="auto", dtype="auto", min_digit_mass=0)
    config = build_config({"judge": judge, "run": {"cache": False}})
    with pytest.raises(JudgeStartError, match="runs on cpu in float32, but .* cuda in bfloat16"):
        open_judge(
            config, run_protocol(config, SUITE), WorkerInfo(index=0, id="gw0", gpus=["0"])
        ).start()
