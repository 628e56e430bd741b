"""The fast decode and stop-at-answer on the tiny random Qwen3-VL judge, in the judge interpreter.

Tolerance: on the CPU in float32 the compiled static-cache decode writes exactly the plain
decode's greedy text (asserted here). In bf16 on a GPU compiled kernels may round differently;
the README states what a GPU check compares there.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from editbench.cases import load_suite
from editbench.config import build_config
from editbench.judging import JudgeInput, WorkerInfo
from editbench.judging import remote as remote_module
from editbench.judging.modes import open_judge
from editbench.judging.parsing import JSON_KEYS, parse_score
from editbench.protocols import run_protocol
from support import REPO

SUITE = load_suite(REPO / "fixtures" / "sample_suite")
WORKER = WorkerInfo(index=0, id="gw0", gpus=[])


def item(index: int) -> JudgeInput:
    case = SUITE.cases[index]
    _, png = case.source.load()
    instruction, description = case.text("en")
    return JudgeInput(case, png, png, instruction, description, index)


def generated(judge_python, tiny_judge, fast: str) -> tuple[dict, dict]:
    config = build_config(
        {
            "judge": {
                "backend": "qwen-vl",
                "model": str(tiny_judge),
                "python": judge_python,
                "method": "generate",
                "max_pixels": 65536,
                "max_new_tokens": 24,
                "min_digit_mass": 0,
                "fast_decode": fast,
            },
            "run": {"cache": False},
        }
    )
    judge = open_judge(config, run_protocol(config, SUITE), WORKER)
    try:
        raws = {(i, d): r["raw"] for i in (0, 1) for d, r in judge.score(item(i)).items()}
        return raws, judge.describe()["info"]
    finally:
        judge.close()


@pytest.mark.timeout(600)
def test_the_fast_decode_writes_the_plain_decodes_greedy_text(judge_python, tiny_judge):
    plain, plain_info = generated(judge_python, tiny_judge, "off")
    fast, fast_info = generated(judge_python, tiny_judge, "on")
    assert plain_info["fast_decode"].startswith("off")
    assert fast_info["fast_decode"].startswith("on:"), fast_info  # it ran, it did not fall back
    assert fast == plain


ANSWERS = [
    '{"score": 10, "reasoning": "the edit is done"}',
    'Here it is: {"reasoning": "a } inside", "score": 1}',
    "Looks right.\nFinal Score: 10\nThanks",
]

JUDGE_SIDE = """
import importlib.util, json, sys
import torch
spec = importlib.util.spec_from_file_location("remote", sys.argv[1])
remote = importlib.util.module_from_spec(spec); spec.loader.exec_module(remote)
backend = remote.QwenVLBackend({"model": sys.argv[2], "device": "cpu", "method": "generate"})
answers, stops = json.loads(sys.argv[3]), json.loads(sys.argv[4])
kept = []
for text, stop in zip(answers, stops):
    ids = backend.tokenizer.encode(text, add_special_tokens=False)
    prompt = [backend.tokenizer.pad_token_id] * 3
    check = backend._answer_complete([stop], len(prompt))
    for n in range(1, len(ids) + 1):
        done = check(torch.tensor([prompt + ids[:n]]), None)
        if bool(done[0]):
            kept.append(remote._cut(backend.tokenizer.decode(ids[:n]), stop))
            break
    else:
        kept.append(None)
print(json.dumps(kept))
"""


@pytest.mark.timeout(300)
def test_the_judges_stopping_criterion_never_cuts_off_a_score(judge_python, tiny_judge):
    """Token by token with the judge's own tokenizer ("10" is two tokens there, "1" then "0")."""
    stops = [{"json": [list(JSON_KEYS)]}] * 2 + [{"lines": [["Final Score"]]}]
    done = subprocess.run(
        [
            judge_python,
            "-c",
            JUDGE_SIDE,
            remote_module.__file__,
            str(tiny_judge),
            json.dumps(ANSWERS),
            json.dumps(stops),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    kept = json.loads(done.stdout.strip().splitlines()[-1])
    assert kept[2] == "Looks right.\nFinal Score: 10\n"
    for whole, short, score in zip(ANSWERS, kept, (10.0, 1.0, 10.0), strict=True):
        assert short is not None and whole.startswith(short)
        assert parse_score(short).score == parse_score(whole).score == score
