"""Measurement 6: overlap of edit and judge (`run.overlap`), throughput with it vs without, -n 1.

The tiny diffusers Qwen-Image-Edit pipeline edits (output at the source's size), cache off, one
torch thread per process (editor in the worker, judge in its own interpreter: the 2 cores hold
one each). The tiny edit's time is measured first, in this process on one thread (median of up
to four edits after a warm-up). Three judges, each run without overlap and with it:

- zero-cost: the `constant` judge (gateway); overlap must cost at most 2 % of throughput. Both
  runs go at the same time (each needs one core), so both see the same load from the rest of a
  shared machine; one after the other, that load's swings were ten times the effect measured;
- latency-bound: service mode against `perf/delay_server.py`, a local OpenAI-compatible server
  that answers each request after a fixed delay equal to the tiny edit's time; goal: >= 1.8x;
- CPU-bound: the tiny Qwen3-VL judge (gateway) writing `generate` answers, `max_new_tokens` set
  so that judging a case takes about as long as editing it (two token counts timed in the judge
  interpreter first, a line fitted through them; a random model's answer does not parse, so
  each case is asked twice, the retry included); goal: >= 1.5x.

Seconds per case: whole setup-call-teardown cycles of the worker, from its second test's start
to its last test's start, divided by their number (the first case loads the models and has no
edit ahead of it; the last teardown closes the judge). Throughput is its inverse.

The CPU-bound ratio needs a second core free. Beside it goes the headroom measured just before
and after its runs: how much faster two busy processes end side by side than one after the
other (about 2 on an idle 2-core machine; about 1 when other work holds both cores, and then no
overlap can gain: with Linux's autogroup scheduling, a busy machine shares its CPUs between
sessions, so a second thread in the same session gets no more CPU than one).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from editbench import editors
from editbench.cases import load_suite
from editbench.config import load_config
from editbench.judging.parsing import parse_score
from perf.bench import BenchRun, Options, PerfError, constant_judge, ratio, run_bench, write_config
from perf.delay_server import MODEL, DelayServer
from perf.judgecalls import InProcess, cpu_options, judge_input, requests, tiny_judge
from perf.scaling import tiny_editor
from perf.suite import replicate

SIZE = 256
PROBE_TOKENS = (16, 64)
DEFINITION = (
    "seconds per case = whole cycles from the worker's 2nd test start to its last test start / "
    "their number, at -n 1, cache off, 1 torch thread per process; tiny diffusers editor; "
    "speedup = (s/case without overlap) / (s/case with overlap); cost = its inverse - 1. "
    "Judges: constant (zero-cost); service mode against a local server answering after the "
    "tiny edit's median time (latency-bound); tiny Qwen3-VL generate with max_new_tokens fitted "
    "to the edit's time (CPU-bound); the zero-cost pair runs side by side, the others in turn"
)


def editor() -> dict:
    return {**tiny_editor(), "size": "source"}


def measure(opts: Options) -> dict:
    cases, size = opts.pick(8, 3, 3), opts.size(SIZE)
    folder = opts.work / "overlap"
    suite = replicate(folder / "suite", cases, size)
    out: dict = {"definition": DEFINITION, "cases": cases, "size": size}

    edit_s = out["edit_s"] = edit_seconds(folder, suite)
    opts.say(f"overlap: a tiny edit takes {edit_s:.2f} s here, alone on one thread")

    opts.say(f"overlap: zero-cost judge (constant), {cases} tiny edits without and with overlap")
    out["constant"] = pair(opts, folder / "constant", suite, constant_judge(opts), together=True)

    opts.say(f"overlap: latency-bound judge, service mode, each answer after {edit_s:.2f} s")
    with DelayServer(edit_s) as server:
        judge = {"backend": "qwen-vl", "model": MODEL, "mode": "service", "url": server.url}
        out["latency"] = pair(opts, folder / "latency", suite, {**judge, "method": "generate"})
        out["latency"]["delay_s"] = edit_s
        out["latency"]["server_requests"] = server.requests

    tokens, fit = fitted_tokens(opts, folder, suite, edit_s)
    opts.say(f"overlap: CPU-bound judge, tiny Qwen3-VL generate, max_new_tokens={tokens}")
    judge = {**tiny_judge(opts, "generate"), "max_new_tokens": tokens}
    loops = opts.pick(4_000_000, 4_000_000, 100_000)
    headroom = [parallel_headroom(loops)]
    out["cpu"] = pair(opts, folder / "cpu", suite, judge, failures_ok=True)
    headroom.append(parallel_headroom(loops))
    out["cpu"] |= {"max_new_tokens": tokens, **fit, "headroom_before_after": headroom}
    out["cpu_headroom"] = statistics.fmean(headroom)

    out["constant_cost"] = _cost(out["constant"])
    out["latency_speedup"] = out["latency"]["speedup"]
    out["cpu_speedup"] = out["cpu"]["speedup"]
    return out


def pair(
    opts: Options, folder, suite, judge: dict, failures_ok: bool = False, together: bool = False
) -> dict:
    """The same cases without overlap and with it; per-case seconds of each, and the ratio.

    One after the other, or `together` (both runs at once, so both see the same load from the
    rest of the machine: used where each needs only one core, the zero-cost judge)."""
    config = write_config(folder, suite, editor(), judge)

    def one(name: str) -> dict:
        run = run_bench(
            opts,
            config,
            folder / f"run-{name}",
            1,
            args=(f"--eb-set=run.overlap={'true' if name == 'on' else 'false'}",),
            ok_codes=(0, 1) if failures_ok else (0,),
        )
        return figures(run, failures_ok)

    if together:
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = dict(zip(("off", "on"), pool.map(one, ("off", "on")), strict=True))
    else:
        runs = {name: one(name) for name in ("off", "on")}
    result = {f"{key}_{name}": value for name, got in runs.items() for key, value in got.items()}
    result["speedup"] = ratio(runs["off"]["s_per_case"], runs["on"]["s_per_case"])
    result["together"] = together
    return result


def figures(run: BenchRun, failures_ok: bool) -> dict:
    """Per-case seconds of one run, and its edit and judge medians (first case left out)."""
    seconds, count = run.cycles()
    if not count:
        raise PerfError(f"{run.run_dir.name}: too few cases for a whole cycle")
    records = run.records[1:]  # in the order they finished: -n 1 runs them one by one
    bad = {r["status"] for r in run.records} - ({"ok", "unparseable"} if failures_ok else {"ok"})
    if bad:
        raise PerfError(f"{run.run_dir.name}: cases failed with {sorted(bad)}")
    return {
        "s_per_case": seconds / count,
        "cycles": count,
        "edit_s_median": statistics.median(r["edit_s"] for r in records),
        "judge_s_median": statistics.median(r["judge_s"] for r in records),
        "test_phase_s": run.test_phase_s(),
        "run_wall_s": run.wall_s,
    }


def edit_seconds(folder, suite_dir, edits: int = 5) -> float:
    """The tiny edit's median time in this process, one torch thread, after one warm-up edit."""
    import torch

    from editbench.editors import EditRequest

    torch.set_num_threads(1)
    config = load_config(write_config(folder / "edit", suite_dir, editor(), {"backend": "none"}))
    editor_ = editors.create(config, "cpu")
    times = []
    for case in load_suite(suite_dir).cases[:edits]:
        image, png = case.source.load()
        request = EditRequest(case, image, case.text("en")[0], 0, png)
        start = time.perf_counter()
        editor_.edit(request)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def fitted_tokens(opts: Options, folder, suite_dir, edit_s: float) -> tuple[int, dict]:
    """max_new_tokens for which judging one case (retry included) takes about `edit_s`."""
    config = load_config(write_config(folder / "fit", suite_dir, editor(), tiny_judge(opts)))
    suite = load_suite(suite_dir)
    inputs = [judge_input(c, config.suite.language) for c in suite.cases[:2]]
    options = cpu_options(config)
    local = InProcess(opts.judge_python, "qwen-vl", options)
    try:
        timed = {}
        for tokens in opts.pick(PROBE_TOKENS, PROBE_TOKENS, (2, 4)):
            batch = requests(config, suite, inputs, "generate", max_new_tokens=tokens)
            local.run(batch[:1])  # warm up
            answers = local.run(batch)
            timed[tokens] = statistics.median(a["seconds"] for a in answers)
    finally:
        local.close()
    asked = 2 if _unparsed(answers) else 1  # the Scorer asks again when an answer does not parse
    (t0, s0), (t1, s1) = timed.items()
    per_token = max((s1 - s0) / (t1 - t0), 1e-6)
    fixed = s0 - per_token * t0
    tokens = int(round((edit_s / asked - fixed) / per_token))
    tokens = min(max(tokens, 8), opts.pick(2048, 2048, 8))
    fit = {"probe_s": {str(t): s for t, s in timed.items()}, "requests_per_case": asked}
    return tokens, fit


def parallel_headroom(loops: int = 4_000_000) -> float:
    """How much faster two single-thread busy processes end side by side than one after the
    other, right now: about 2 with two free cores, about 1 when other work holds them (a shared
    machine). A CPU-bound judge can gain from overlap only as far as this allows."""
    command = [sys.executable, "-c", f"x = 0\nfor i in range({loops}): x += i"]
    start = time.perf_counter()
    for _ in range(2):
        subprocess.run(command, check=True)
    one_by_one = time.perf_counter() - start
    start = time.perf_counter()
    for process in [subprocess.Popen(command) for _ in range(2)]:
        process.wait()
    return one_by_one / (time.perf_counter() - start)


def _unparsed(answers: list[dict]) -> bool:
    texts = [t for a in answers for r in a["reply"]["results"] for t in r["texts"]]
    return any(not parse_score(t).ok for t in texts)


def _cost(result: dict) -> float | None:
    speedup = result.get("speedup")
    return None if not speedup else 1.0 / speedup - 1.0
