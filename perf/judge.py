"""Measurement 7: a generate judge's seconds per case, today's decode against the faster ways.

The tiny judge, the editbench protocol under `judge.method: generate` (3 dimensions: one gateway
request of 3 items, or 3 service requests), `max_new_tokens` NEW_TOKENS, greedy:

- today: the gateway's `generate` with a dynamic KV cache (`judge.fast_decode: off`), to the end;
- fast decode: a static KV cache and the compiled decode step (`judge.fast_decode: on`, which on
  a CPU asks transformers to compile anyway);
- stop-at-answer: the fast decode that also stops once the answer's JSON object is complete;
- service: `transformers serve --continuous-batching` started by the harness (`launch`), two
  workers (threads, each a `ServiceJudge`) sending their cases' requests at the same time.

The gateway ways are timed in-process (`remote.handle`, no transport) in two judge interpreters
side by side, case by case alternately so that a change in the machine's load falls on both; the
service way is wall time over all cases / cases. Each is a ratio to today's figure.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from editbench.cases import load_suite
from editbench.config import load_config
from editbench.judging import WorkerInfo, client, launch
from editbench.protocols import run_protocol
from perf.bench import Options, PerfError, ratio, write_config
from perf.judgecalls import InProcess, cpu_options, judge_input, requests, scores_of, tiny_judge
from perf.suite import replicate

SIZE = 256
NEW_TOKENS = 64
DEFINITION = (
    "judge seconds per case: the editbench protocol under generate (3 dimensions), tiny judge, "
    f"greedy, max_new_tokens={NEW_TOKENS}; gateway ways: remote.handle() in the judge "
    "interpreter, median over the cases after warm-up (the compile included in none); service: "
    "wall time for all cases with 2 workers sending at once / cases; ratio = today / that way"
)


def measure(opts: Options) -> dict:
    cases, tokens = opts.pick(6, 2, 2), opts.pick(NEW_TOKENS, NEW_TOKENS, 4)
    folder = opts.work / "judge"
    suite_dir = replicate(folder / "suite", cases, opts.size(SIZE))
    judge = {**tiny_judge(opts, "generate"), "max_new_tokens": tokens}
    config = load_config(write_config(folder, suite_dir, {"backend": "identity"}, judge))
    suite = load_suite(suite_dir)
    inputs = [judge_input(c, config.suite.language) for c in suite.cases]
    stopping = requests(config, suite, inputs, "generate")
    plain = [_without_stop(r) for r in stopping]
    gateway = _gateway(opts, config, plain, stopping)
    today = gateway["today_s_per_case"]
    result = {"definition": DEFINITION, "cases": cases, "max_new_tokens": tokens, **gateway}
    try:
        result["service_s_per_case"] = service_seconds(opts, config, suite, folder, plain)
    except Exception as exc:  # noqa: BLE001 - the gateway figures stand without it
        opts.say(f"judge: service mode FAILED: {exc}")
        result["service_error"] = str(exc)[-1500:]
    for way in ("fast", "stop", "service"):
        seconds = result.get(f"{way}_s_per_case")
        result[f"{way}_vs_today"] = ratio(today, seconds) if seconds else None
    result["best_vs_today"] = max(
        (v for k, v in result.items() if k.endswith("_vs_today") and v), default=None
    )
    return result


def _without_stop(request: dict) -> dict:
    return {
        **request,
        "items": [{k: v for k, v in i.items() if k != "stop"} for i in request["items"]],
    }


def _gateway(opts: Options, config, plain: list, stopping: list) -> dict:
    options = cpu_options(config, method="generate")
    opts.say("judge: two judge interpreters (fast decode off / on); compiling the decode step")
    judges = {
        fast: InProcess(opts.judge_python, "qwen-vl", {**options, "fast_decode": fast})
        for fast in ("off", "on")
    }
    seconds: dict[str, list] = {"today": [], "fast": [], "stop": []}
    texts: dict[str, list] = {"today": [], "fast": []}
    try:
        judges["off"].run(plain[:1])
        judges["on"].run(plain[:1] + stopping[:1])  # the first call compiles
        info = {fast: local.ready.get("info") for fast, local in judges.items()}
        for index in range(len(plain)):
            for way, fast, batch in (
                ("today", "off", plain),
                ("fast", "on", plain),
                ("stop", "on", stopping),
            ):
                (answer,) = judges[fast].run(batch[index : index + 1])
                scores_of(answer["reply"])
                seconds[way].append(answer["seconds"])
                if way in texts:
                    texts[way].append([r["texts"] for r in answer["reply"]["results"]])
    finally:
        for local in judges.values():
            local.close()
    opts.say("judge: " + ", ".join(f"{w} {statistics.median(s):.3f} s" for w, s in seconds.items()))
    return {
        **{f"{way}_s_per_case": statistics.median(s) for way, s in seconds.items()},
        "fast_same_greedy_text": texts["today"] == texts["fast"],
        "judge_load": info,
    }


def service_seconds(opts: Options, config, suite, folder, plain: list) -> float:
    """Wall seconds per case of `plain`'s generate requests sent by two workers (threads) at once
    to `transformers serve --continuous-batching`, started on the config's judge model."""
    check_serve(config.judge.python)
    judge = dataclasses.replace(
        config.judge, mode="service", engine="transformers", continuous_batching=True
    )
    service = dataclasses.replace(config, judge=judge)
    opts.say(f"judge: starting transformers serve --continuous-batching on {config.judge.model}")
    server = launch.start_server(service, folder / "server")
    try:
        judges = [
            client.ServiceJudge(
                service, run_protocol(service, suite), WorkerInfo(i, f"gw{i}", []), server.endpoint
            )
            for i in (0, 1)
        ]
        send = [lambda r, j=j: j.request(r["items"], "generate", r["decoding"]) for j in judges]
        send[0](plain[0])  # warm-up
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:  # a failed request raises here
            list(pool.map(lambda w: [send[w](r) for r in plain[w::2]], (0, 1)))
        wall = time.perf_counter() - start
        for j in judges:
            j.close()
    finally:
        server.stop()
    opts.say(f"judge: service, 2 workers: {wall / len(plain):.3f} s per case")
    return wall / len(plain)


def check_serve(python: str | None) -> None:
    """`transformers serve` needs its server's packages; say which are missing."""
    import subprocess

    code = "import importlib.util as u; print(*[m for m in ('fastapi', 'uvicorn') if not u.find_spec(m)])"
    done = subprocess.run([python or sys.executable, "-c", code], capture_output=True, text=True)
    missing = done.stdout.split()
    if done.returncode != 0 or missing:
        raise PerfError(
            f"transformers serve cannot run in {python}: missing {', '.join(missing) or done.stderr[-300:]}"
            " (pip install 'transformers[serving]')"
        )
