"""Measurement 2: the tiny judge over the gateway vs in-process vs the old subprocess-per-batch way.

Same cases, same rendered requests, same server code (`remote.handle`) in all three; the gateway and
in-process ways are timed in alternating rounds so that the machine's load hits both alike. The
target ratio adds to the in-process time what the gateway adds to a call, measured within the
call (its wall time less the judging inside it), because two judge interpreters taking turns on a
shared machine differ by more than the transport costs (either may come out ahead; 0.88x and 1.20x
were seen); `gateway_ms` splits a call into the calling process, the wire and the judging.
"""

from __future__ import annotations

import statistics
import time

from editbench.cases import load_suite
from editbench.config import load_config
from editbench.images import decode_png, encode_png
from perf.bench import Options, ratio, write_config
from perf.judgecalls import (
    InProcess,
    judge_input,
    old_way_batch,
    open_gateway,
    requests,
    scores_of,
    tiny_judge,
)
from perf.suite import replicate

SIZE = 256
BATCH = 4
TINY_JUDGE_NAME = "qwen-vl on tiny:qwen3-vl"
DEFINITION = (
    "seconds per case, 3 dimensions per case in one request; gateway = GatewayJudge.score() in the calling "
    "process (prompt rendering, execnet round trip, parsing; cache off); in-process = remote.handle() timed "
    "inside a judge interpreter; the two alternate case by case over {rounds} rounds, median per case of each; "
    "gateway_vs_in_process = (in-process + the gateway's overhead) / in-process, the overhead being a "
    "gateway call's wall time less the judging inside it (remote.handle's own seconds, in its reply): "
    "measured within each call, so the load on two judge interpreters' turns does not enter it "
    "(gateway_wall_vs_in_process_wall compares the two interpreters' medians directly); gateway_ms: "
    "where the same gateway calls' time went (medians; judging_ms: the gateway interpreter's own "
    "remote.handle seconds); old way = "
    "a fresh judge interpreter per batch of 4 cases reading base64 images from JSON, loading the model, "
    "scoring with server.handle and writing JSON, wall time per batch / 4 (mean over {batches} batches)"
)


def measure(opts: Options) -> dict:
    cases, rounds, batches = opts.pick((12, 3, 3), (4, 2, 1), (2, 1, 1))
    folder = opts.work / "transport"
    suite_dir = replicate(folder / "suite", max(cases, BATCH * batches), opts.size(SIZE))
    config = load_config(write_config(folder, suite_dir, {"backend": "identity"}, tiny_judge(opts)))
    suite = load_suite(suite_dir)
    inputs = [judge_input(c, config.suite.language) for c in suite.cases]
    reqs = requests(config, suite, inputs, "logit")
    opts.say(f"transport: starting the gateway judge and an in-process judge ({TINY_JUDGE_NAME})")
    gateway = open_gateway(config, suite)
    local = InProcess(opts.judge_python, gateway.backend, gateway.options)
    try:
        gateway.score(inputs[0]), local.run(reqs[:1])  # warm up both
        timed = TimedSend(gateway.scorer.send)
        gateway.scorer.send = timed
        via_gateway, in_process, same = _rounds(
            gateway, local, inputs[:cases], reqs[:cases], rounds
        )
        split = breakdown(gateway, inputs[:cases], via_gateway, timed.calls)
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
        "size": opts.size(SIZE),
        "gateway_s_per_case": gw,
        "in_process_s_per_case": ip,
        "old_way_s_per_case": ow,
        "gateway_vs_in_process": ratio(ip + split["overhead_ms"] / 1000.0, ip),
        "gateway_wall_vs_in_process_wall": ratio(gw, ip),
        "gateway_ms": split,
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
            asked = [i["dimension"] for i in request["items"]]  # O is derived, never asked
            same = same and [results[d]["score"] for d in asked] == scores_of(answer["reply"])
    return via_gateway, in_process, same


class TimedSend:
    """The gateway's transport with a clock around it: each request's round trip and the judge's
    own seconds inside it (`remote.handle`, in the reply), so a call's wall time splits into what
    the calling process does, the wire, and the judging."""

    def __init__(self, send) -> None:
        self.send, self.calls = send, []

    def __call__(self, items, method, decoding):
        start = time.perf_counter()
        reply = self.send(items, method, decoding)
        self.calls.append((time.perf_counter() - start, float(reply["seconds"])))
        return reply


def breakdown(gateway, inputs, totals: list[float], calls: list[tuple[float, float]]) -> dict:
    """Where the gateway calls' time went, in ms per case (medians): the calling process's share
    (prompt rendering; image hashes and cache keys; reading the answers), the wire (execnet:
    serialising, the pipe both ways, the threads handing the message on) and the judging itself.
    Rendering and the edited image's PNG encoding are timed apart, after the calls; the runner
    encodes each edit once, to save it, whatever the judge."""
    renders, encodes = [], []
    for item in inputs:
        start = time.perf_counter()
        gateway.scorer.items(item)
        renders.append(time.perf_counter() - start)
        image = decode_png(item.edited_png, "edited image")
        start = time.perf_counter()
        encode_png(image)
        encodes.append(time.perf_counter() - start)

    def ms(values) -> float:
        return 1000.0 * statistics.median(values)

    return {
        "call_ms": ms(totals),
        "judging_ms": ms([handle for _, handle in calls]),
        "wire_ms": ms([trip - handle for trip, handle in calls]),
        "calling_process_ms": ms([t - trip for t, (trip, _) in zip(totals, calls, strict=True)]),
        "rendering_ms": ms(renders),
        "overhead_ms": ms([t - handle for t, (_, handle) in zip(totals, calls, strict=True)]),
        "png_encode_ms": ms(encodes),
    }
