"""Measurement 5: logit vs generate (16 new tokens) per case on the tiny judge, and logit determinism.

Both methods are timed in-process in the judge interpreter (`remote.handle`, no transport), on the
same cases with the prompts each method renders. Logit scores are computed twice, in two separate
judge interpreters, and compared bit for bit (Python floats, which carry the full float64 value).
"""

from __future__ import annotations

import statistics

from editbench.cases import load_suite
from editbench.config import load_config
from perf.bench import Options, ratio, write_config
from perf.judgecalls import InProcess, cpu_options, judge_input, requests, scores_of, tiny_judge
from perf.suite import replicate

SIZE = 256
NEW_TOKENS = 16
DEFINITION = (
    "seconds per case (3 dimensions in one request) of remote.handle() inside the judge interpreter, "
    "median over the cases after one warm-up; generate: greedy, max_new_tokens=16 (a random model seldom "
    "stops early); logit bit-identical: every score and probability equal across two fresh judge "
    "interpreters"
)


def measure(opts: Options) -> dict:
    cases, size, tokens = opts.pick(10, 2, 2), opts.size(SIZE), opts.pick(NEW_TOKENS, NEW_TOKENS, 4)
    folder = opts.work / "method"
    suite_dir = replicate(folder / "suite", cases, size)
    config = load_config(write_config(folder, suite_dir, {"backend": "identity"}, tiny_judge(opts)))
    suite = load_suite(suite_dir)
    inputs = [judge_input(c, config.suite.language) for c in suite.cases]
    logit = requests(config, suite, inputs, "logit")
    generate = requests(config, suite, inputs, "generate", max_new_tokens=tokens)
    options = cpu_options(config)
    answers = []
    for run in (1, 2):
        opts.say(
            f"method: judge interpreter {run} of 2: logit" + (" and generate" if run == 1 else "")
        )
        local = InProcess(opts.judge_python, "qwen-vl", options)
        try:
            local.run(logit[:1] + generate[:1])  # warm up
            answers.append(local.run(logit))
            if run == 1:
                timed_generate = local.run(generate)
        finally:
            local.close()
    logit_s = statistics.median(a["seconds"] for a in answers[0])
    generate_s = statistics.median(a["seconds"] for a in timed_generate)
    first, second = ([_exact(a["reply"]) for a in run] for run in answers)
    return {
        "definition": DEFINITION,
        "cases": cases,
        "size": size,
        "max_new_tokens": tokens,
        "logit_s_per_case": logit_s,
        "generate_s_per_case": generate_s,
        "generate_vs_logit": ratio(generate_s, logit_s),
        "logit_bit_identical": first == second,
        "generated_chars_per_answer": statistics.fmean(
            len(t) for a in timed_generate for r in a["reply"]["results"] for t in r["texts"]
        ),
    }


def _exact(reply: dict) -> list:
    scores_of(reply)  # raises on an error reply
    return [(r["score"], r["probs"]) for r in reply["results"]]
