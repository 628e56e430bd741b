"""Measurement 2: the tiny judge over the gateway vs in-process vs the old subprocess-per-batch way.

Same cases, same rendered requests, same server code (`server.handle`) in all three; the gateway and
in-process ways are timed in alternating rounds so that the machine's load hits both alike.
"""

from __future__ import annotations

import statistics
import time

from editbench.cases import load_suite
from editbench.config import load_config
from editbench.perf.bench import Options, ratio, write_config
from editbench.perf.judgecalls import (
    InProcess,
    judge_input,
    old_way_batch,
    open_gateway,
    requests,
    scores_of,
    tiny_judge,
)
from editbench.perf.suite import replicate

SIZE = 256
BATCH = 4
TINY_JUDGE_NAME = "qwen-vl on tiny:qwen3-vl"
DEFINITION = (
    "seconds per case, 3 dimensions per case in one request; gateway = GatewayJudge.score() in the calling "
    "process (prompt rendering, execnet round trip, parsing; cache off); in-process = server.handle() timed "
    "inside a judge interpreter; the two alternate case by case over {rounds} rounds, median per case of each; old way = "
    "a fresh judge interpreter per batch of 4 cases reading base64 images from JSON, loading the model, "
    "scoring with server.handle and writing JSON, wall time per batch / 4 (mean over {batches} batches)"
)


def measure(opts: Options) -> dict:
    cases, rounds, batches = (4, 2, 1) if opts.quick else (12, 3, 3)
    folder = opts.work / "transport"
    suite_dir = replicate(folder / "suite", max(cases, BATCH * batches), SIZE)
    config = load_config(write_config(folder, suite_dir, {"backend": "identity"}, tiny_judge(opts)))
    suite = load_suite(suite_dir)
    inputs = [judge_input(c, config.suite.language) for c in suite.cases]
    reqs = requests(config, suite, inputs, "logit")
    opts.say(f"transport: starting the gateway judge and an in-process judge ({TINY_JUDGE_NAME})")
    gateway = open_gateway(config, suite)
    local = InProcess(opts.judge_python, gateway.backend, gateway.options)
    try:
        gateway.score(inputs[0]), local.run(reqs[:1])  # warm up both
        via_gateway, in_process, same = _rounds(
            gateway, local, inputs[:cases], reqs[:cases], rounds
        )
    finally:
        gateway.close()
        local.close()
    opts.say(
        f"transport: old way, {batches} batch(es) of {BATCH} cases, one fresh interpreter each"
    )
    old = [
        old_way_batch(
            opts.judge_python,
            gateway.backend,
            gateway.options,
            reqs[i * BATCH : (i + 1) * BATCH],
            folder / f"old-{i}",
        )[0]
        / BATCH
        for i in range(batches)
    ]
    gw, ip, ow = (
        statistics.median(via_gateway),
        statistics.median(in_process),
        statistics.fmean(old),
    )
    return {
        "definition": DEFINITION.format(rounds=rounds, batches=batches),
        "cases": cases,
        "size": SIZE,
        "gateway_s_per_case": gw,
        "in_process_s_per_case": ip,
        "old_way_s_per_case": ow,
        "gateway_vs_in_process": ratio(gw, ip),
        "old_way_vs_gateway": ratio(ow, gw),
        "gateway_scores_equal_in_process": same,
    }


def _rounds(gateway, local, inputs, reqs, rounds: int) -> tuple[list[float], list[float], bool]:
    """Case by case, the gateway then the in-process judge, so the machine's load hits both alike."""
    via_gateway, in_process, same = [], [], True
    for _ in range(rounds):
        for item, request in zip(inputs, reqs, strict=True):
            start = time.perf_counter()
            results = gateway.score(item)
            via_gateway.append(time.perf_counter() - start)
            answer = local.run([request])[0]
            in_process.append(answer["seconds"])
            same = same and [results[d]["score"] for d in results] == scores_of(answer["reply"])
    return via_gateway, in_process, same
