"""Service mode's request and response contract with vLLM, against a local server in its format.

vLLM itself cannot be installed here (its wheels need CUDA): `vllm_format_server` answers as
vLLM's OpenAI-compatible server documents it. The vLLM engine stays unverified until a GPU check
has run it (README, service mode).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from vllm_format_server import AFTER_ONE, FIRST, MODEL, VLLMFormatServer

from editbench.cases import load_suite
from editbench.config import build_config
from editbench.judging import JudgeInput, WorkerInfo, client, launch
from editbench.judging.remote import expected_score, score_probs
from editbench.protocols import run_protocol
from support import SAMPLE_SUITE

SUITE = load_suite(SAMPLE_SUITE)
STATED = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty", "n", "seed", "max_tokens")


def vllm_config(url: str, method: str, **judge):
    return build_config(
        {
            "judge": {
                "backend": "qwen-vl",
                "mode": "service",
                "engine": "vllm",
                "url": url,
                "model": MODEL,
                "method": method,
                "max_pixels": 4096,
                **judge,
            },
            "run": {"cache": False},
        }
    )


def score_one(config, tmp_path: Path) -> dict:
    endpoint, _ = launch.prepare(config, tmp_path)
    judge = client.ServiceJudge(
        config, run_protocol(config, SUITE), WorkerInfo(0, "gw0", []), endpoint
    )
    case = SUITE.cases[0]
    _, png = case.source.load()
    instruction, description = case.text("en")
    try:
        return judge.score(JudgeInput(case, png, png, instruction, description, 0))
    finally:
        judge.close()


@pytest.mark.timeout(60)
def test_logit_reads_vllms_top_logprobs_and_states_every_sampling_parameter(tmp_path):
    with VLLMFormatServer() as server:
        results = score_one(vllm_config(server.url, "logit"), tmp_path)
    first = {t: p for t, p in FIRST.items() if t != "Sure"}
    want, mass, _ = expected_score(score_probs(first, {"1": AFTER_ONE}))
    for dimension, result in results.items():
        assert result["status"] == "ok", result
        assert result["score"] == pytest.approx(want)
        if dimension != "O":  # derived: read from no tokens
            assert result["mass"] == pytest.approx(mass)
    scored = [b for b in server.bodies if b["messages"][0]["content"] != "Say 7."]
    assert scored and all(set(STATED) <= set(b) for b in server.bodies)
    assert all(b["temperature"] == 0.0 and b["top_k"] == -1 and b["top_p"] == 1.0 for b in scored)
    assert all(b["logprobs"] is True and b["top_logprobs"] == 20 for b in scored)


@pytest.mark.timeout(60)
def test_generate_over_vllm_states_its_sampling_and_parses_the_answer(tmp_path):
    with VLLMFormatServer() as server:
        results = score_one(vllm_config(server.url, "generate", temperature=0.7), tmp_path)
    assert {r["score"] for r in results.values()} == {7.0}
    assert all(b["temperature"] == 0.7 and set(STATED) <= set(b) for b in server.bodies)


@pytest.mark.timeout(60)
def test_a_server_without_top_logprobs_is_refused_at_startup_in_one_line(tmp_path):
    with VLLMFormatServer(logprobs=False) as server, pytest.raises(launch.ServerError) as error:
        launch.prepare(vllm_config(server.url, "logit"), tmp_path)
    message = str(error.value)
    assert "\n" not in message and "top_logprobs" in message and server.url in message


def test_vllm_starts_from_judge_server_python_with_room_for_the_editor(tmp_path):
    python = tmp_path / "vllm-env" / "bin" / "python"
    config = build_config(
        {
            "judge": {
                "backend": "qwen-vl",
                "mode": "service",
                "engine": "vllm",
                "method": "logit",
                "server_python": str(python),
                "gpu_memory_utilization": 0.3,
                "max_model_len": 8192,
            }
        }
    )
    command = launch.server_command(launch.server_plan(config), "m", None, 8000, "k")
    assert command[0] == str(python.parent / "vllm")
    assert "--gpu-memory-utilization=0.3" in command and "--max-model-len=8192" in command
    assert "--generation-config=vllm" in command


def test_transformers_serve_is_started_with_continuous_batching_unless_turned_off():
    on = build_config({"judge": {"backend": "qwen-vl", "mode": "service", "method": "generate"}})
    off = build_config(
        {
            "judge": {
                "backend": "qwen-vl",
                "mode": "service",
                "method": "generate",
                "continuous_batching": False,
            }
        }
    )
    assert "--continuous-batching" in launch.server_command(
        launch.server_plan(on), "m", None, 1, "k"
    )
    assert "--continuous-batching" not in launch.server_command(
        launch.server_plan(off), "m", None, 1, "k"
    )


def test_a_missing_vllm_or_an_impossible_gpu_share_fails_at_startup_naming_the_key(tmp_path):
    from editbench.errors import ConfigError

    python = tmp_path / "env" / "bin" / "python"
    judge = {"backend": "qwen-vl", "mode": "service", "engine": "vllm", "method": "logit"}
    config = build_config({"judge": {**judge, "server_python": str(python)}})
    with pytest.raises(ConfigError, match="judge.server_python to the python of an environment"):
        client.check_vllm(config)
    (python.parent).mkdir(parents=True)
    (python.parent / "vllm").write_text("#!/bin/sh\n")
    with pytest.raises(ConfigError, match="judge.gpu_memory_utilization 1.5"):
        client.check_vllm(
            build_config(
                {"judge": {**judge, "server_python": str(python), "gpu_memory_utilization": 1.5}}
            )
        )
    client.check_vllm(config)  # present and sane: no error
