"""`editbench perf --real-size`: harness wall time vs model time per case, with real-size models on a GPU.

No network is needed: the models are built with random weights at their real sizes, directly on the
GPU in bf16 (a 20.4 B-parameter Qwen-Image-Edit transformer, a Qwen2.5-VL-7B text encoder and the
real VAE in the editor; a Qwen3-VL-8B judge in its own interpreter). Random weights cost the same
as trained ones: the same shapes run the same kernels for the same time; only the pixels and the
scores mean nothing. A handful of 1024x1024 cases run through the real harness (`pytest -n 1`, the
real runner, the gateway) and the harness's wall time per case is compared with the model time the
editor (pipeline call) and the judge (scoring call) report for the same cases, with `run.overlap`
off (overlap would hide the judge's time behind the editor's, not measure the harness). Goal:
<= 1.03x.

Stages, in order, each written to perf-realsize.json as it ends (`realsize_plan.Progress`), each
skipped when its estimate no longer fits in `--budget` (cases, steps and tokens are chosen from
the budget first, `realsize_plan.choose`):

1. harness: the ratio above;
2. decode: the generate judge's seconds per case, today's decode vs the fast decode (static KV
   cache, compiled step), in-process in the judge interpreter;
3. overlap: the same cases with the generate judge (fast decode), without and with run.overlap;
4. service: the random judge saved and served by `transformers serve --continuous-batching`, two
   workers' requests at once.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from editbench.cases import load_suite
from editbench.config import load_config
from editbench.errors import ConfigError
from editbench.judging.resolve import resolve_model
from perf.bench import REPO, Options, PerfError, ratio, run_bench, write_config
from perf.judge import check_serve, service_seconds
from perf.judgecalls import InProcess, judge_input, requests, scores_of
from perf.realsize_plan import COSTS, STAGES, Progress, choose
from perf.suite import replicate

JUDGE_FILE = Path(__file__).with_name("realsize_judge.py")
SIZE = 1024
SHRINK_SIZE, SHRINK_PIXELS = 64, 4096  # $EDITBENCH_PERF_REALSIZE_SHRINK: a CPU-sized wiring check
GOAL = 1.03
OVERLAP_DEFINITION = (
    "seconds per case = whole cycles from the 2nd case's test start to the last case's test "
    "start / their number, -n 1, the same cases and models with judge.method generate and the "
    "fast decode (a random judge's answer does not parse, so each case is asked twice); "
    "speedup = without run.overlap / with it"
)
DECODE_DEFINITION = (
    "seconds per case (3 dimensions in one request) of remote.handle() in the judge interpreter, "
    "greedy, median over the cases after one warm-up request (first_s: that request, the "
    "compile included); speedup = today / fast"
)
NOTE = (
    "random weights cost the same as trained ones: same shapes, same kernels, same time; only the "
    "pixels and scores are meaningless"
)


def main(args) -> int:
    out = (
        args.out or REPO / "reports" / f"perf-realsize-{time.strftime('%Y%m%d-%H%M%S')}"
    ).resolve()
    shrink = bool(os.environ.get("EDITBENCH_PERF_REALSIZE_SHRINK"))
    costs = COSTS["cpu" if shrink else "gpu"]
    plan = choose(args.budget, costs, args.cases, args.steps)
    size = SHRINK_SIZE if shrink else SIZE
    opts = Options(work=out / "work", judge_python=sys.executable, cases=plan.cases, sizes=(size,))
    opts.say("editbench perf --real-size: checking for a CUDA GPU")
    gpu = (
        "none: EDITBENCH_PERF_REALSIZE_SHRINK (toy widths on CPU, a wiring check)"
        if shrink
        else _gpu()
    )
    device = "cpu" if shrink else "cuda"
    shutil.rmtree(opts.work, ignore_errors=True)  # an earlier run's timings must not mix in
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(
        out / "perf-realsize.json", args.budget, plan, costs, gpu=gpu, size=size, note=NOTE
    )
    opts.say(
        f"GPU {gpu}; budget {args.budget:g} s: {plan.cases} cases at {size}x{size}, "
        f"{plan.steps} steps, true CFG 4, generate judge {plan.tokens} tokens; {NOTE}"
    )
    suite = replicate(opts.work / "suite", plan.cases, size)
    editor = {
        "backend": "perf-realsize",
        "model": "tiny:qwen-image-edit",
        "device": device,
        "dtype": "auto",
        "steps": plan.steps,
        "true_cfg_scale": 4.0,
        **({"size": "source"} if shrink else {}),  # else the pipeline picks ~1024² (area)
    }
    judge = {
        "backend": f"{JUDGE_FILE}:RealSizeJudge",
        "model": "tiny:qwen3-vl",
        "python": sys.executable,
        "method": "logit",
        "device": device,
        "dtype": "auto",
        "min_digit_mass": 0,  # random weights put little probability on score tokens
        **({"max_pixels": SHRINK_PIXELS} if shrink else {}),
    }
    stages = {
        "harness": lambda: harness(opts, suite, editor, judge),
        "decode": lambda: decode_pair(opts, suite, judge, plan.tokens),
        "overlap": lambda: overlap_pair(
            opts, suite, editor, judge, plan.tokens, "auto" if shrink else "on"
        ),
        "service": lambda: service(opts, suite, judge, plan.tokens),
    }
    chosen = stage_names(args.only)
    failed = False
    for name in STAGES:
        if name not in chosen:
            opts.say(f"stage {name}: SKIPPED, not in --only")
            progress.add(name, "skipped", why="not in --only")
            continue
        failed |= not run_stage(opts, progress, name, stages[name])
    progress.finish()
    opts.say(f"written: {progress.path} ({progress.data['elapsed_s']:.0f} s of {args.budget:g})")
    return 1 if failed else 0


def stage_names(only: str | None) -> tuple[str, ...]:
    """`--only` under --real-size names stages (a second lease measures what the first skipped)."""
    if not only:
        return STAGES
    names = tuple(n.strip() for n in only.split(",") if n.strip())
    unknown = [n for n in names if n not in STAGES]
    if unknown or not names:
        raise ConfigError(
            f"--only {only!r} with --real-size: choose stages from {', '.join(STAGES)}"
        )
    return names


def run_stage(opts: Options, progress: Progress, name: str, stage) -> bool:
    """Run one stage if its estimate fits in what is left of the budget; record it either way."""
    needed, left = progress.data["estimates_s"][name], progress.left()
    if needed > left:
        opts.say(f"stage {name}: SKIPPED, needs about {needed:.0f} s and {left:.0f} s are left")
        progress.add(name, "skipped", why=f"estimated {needed:.0f} s, {left:.0f} s left")
        return True
    opts.say(f"stage {name}: STARTED (estimated {needed:.0f} s, {left:.0f} s left)")
    start = time.monotonic()
    try:
        figures = stage()
    except Exception as exc:  # noqa: BLE001 - a failed stage is recorded; the next may still run
        opts.say(f"stage {name}: FAILED: {exc}")
        progress.add(name, "failed", error=str(exc)[-2000:], seconds=time.monotonic() - start)
        return False
    progress.add(name, "done", seconds=time.monotonic() - start, **figures)
    opts.say(f"stage {name}: DONE in {time.monotonic() - start:.0f} s")
    return True


def harness(opts: Options, suite: Path, editor: dict, judge: dict) -> dict:
    """Stage 1: harness wall time vs model time per case, logit judge, overlap off."""
    config = write_config(opts.work, suite, editor, judge)
    stats = {
        "EDITBENCH_EDITOR_STATS": str(opts.work / "editor.jsonl"),
        "EDITBENCH_PERF_JUDGE_STATS": str(opts.work / "judge.jsonl"),
    }
    opts.say("harness: pytest -n 1 on benchmarks/ (models are built on the first case)")
    run = run_bench(
        opts,
        config,
        opts.work / "run",
        1,
        extra_env=stats,
        timeout=600,
        plugins=("perf.realsize_editor",),
        live=True,
        args=("--eb-set=run.overlap=false",),  # harness overhead: no judge time hidden
    )
    result = summarize(
        run, _lines(stats["EDITBENCH_EDITOR_STATS"]), _lines(stats["EDITBENCH_PERF_JUDGE_STATS"])
    )
    met = result["ratio"] is not None and result["ratio"] <= GOAL
    opts.say(
        f"harness wall {result['harness_s_per_case']:.3f} s/case vs model "
        f"{result['model_s_per_case']:.3f} s/case = {result['ratio']:.4f}x (goal <= {GOAL}x): "
        f"{'met' if met else 'NOT MET'}"
    )
    return {**result, "met": met}


def decode_pair(opts: Options, suite: Path, judge: dict, tokens: int) -> dict:
    """Stage 2: the generate judge's seconds per case, today's decode vs the fast decode, timed
    in-process (`remote.handle`) in a judge interpreter of each, on the same requests."""
    config = load_config(write_config(opts.work / "decode", suite, {"backend": "identity"}, judge))
    cases = load_suite(suite)
    inputs = [judge_input(c, config.suite.language) for c in cases.cases]
    batch = requests(config, cases, inputs, "generate", max_new_tokens=tokens)
    options = {
        "method": "generate",
        "model": resolve_model(config),
        "revision": None,
        "dtype": "auto",
        "device": judge["device"],
        "max_pixels": config.judge.max_pixels,
        "scores": {},
    }
    result: dict = {"max_new_tokens": tokens, "definition": DECODE_DEFINITION}
    for fast in ("off", "on"):
        opts.say(f"decode: judge interpreter with judge.fast_decode={fast}, {tokens} tokens")
        local = InProcess(
            sys.executable, str(JUDGE_FILE) + ":RealSizeJudge", {**options, "fast_decode": fast}
        )
        try:
            warm = local.run(batch[:1])[0]["seconds"]
            timed = local.run(batch)
        finally:
            local.close()
        for answer in timed:
            scores_of(answer["reply"])
        name = "today" if fast == "off" else "fast"
        result[f"{name}_s_per_case"] = statistics.median(a["seconds"] for a in timed)
        result[f"{name}_first_s"] = warm
        result[f"{name}_info"] = (local.ready or {}).get("info")
        opts.say(
            f"decode {name}: {result[f'{name}_s_per_case']:.2f} s per case (first {warm:.1f} s)"
        )
    result["speedup"] = ratio(result["today_s_per_case"], result["fast_s_per_case"])
    return result


def service(opts: Options, suite: Path, judge: dict, tokens: int) -> dict:
    """Stage 4: the random judge saved, served by transformers serve --continuous-batching, and
    two workers' generate requests sent to it at once."""
    folder = opts.work / "service"
    checkpoint = folder / "judge"
    # the server runs where `transformers serve` can: the judge environment when one is named
    python = os.environ.get("EDITBENCH_JUDGE_PYTHON") or sys.executable
    check_serve(python)
    options = {"method": "generate", "model": None, "device": judge["device"], "dtype": "auto"}
    config = load_config(write_config(folder, suite, {"backend": "identity"}, judge))
    options["model"] = resolve_model(config)
    opts.say(f"service: saving the random judge to {checkpoint}")
    local = InProcess(sys.executable, str(JUDGE_FILE) + ":RealSizeJudge", options)
    try:
        local.channel.send({"save": str(checkpoint)})
        local.channel.receive(timeout=900)
    finally:
        local.close()
    served = {
        **judge,
        "model": str(checkpoint),
        "python": python,
        "method": "generate",
        "max_new_tokens": tokens,
    }
    config = load_config(write_config(folder, suite, {"backend": "identity"}, served))
    cases = load_suite(suite)
    inputs = [judge_input(c, config.suite.language) for c in cases.cases]
    batch = requests(config, cases, inputs, "generate", max_new_tokens=tokens)
    seconds = service_seconds(opts, config, cases, folder, batch)
    return {
        "max_new_tokens": tokens,
        "s_per_case": seconds,
        "workers": 2,
        "continuous_batching": True,
    }


def overlap_pair(
    opts: Options, suite: Path, editor: dict, judge: dict, tokens: int, fast: str
) -> dict:
    """Stage 3: the same cases with a `generate` judge (fast decode on a GPU) writing `tokens`
    tokens, without and with run.overlap (editor and judge on the one GPU): seconds per cycle."""
    folder = opts.work / "overlap"
    generate = {**judge, "method": "generate", "max_new_tokens": tokens, "fast_decode": fast}
    config = write_config(folder, suite, editor, generate)
    result = {"definition": OVERLAP_DEFINITION, "max_new_tokens": tokens, "fast_decode": fast}
    for overlap in ("false", "true"):
        name = "on" if overlap == "true" else "off"
        opts.say(f"overlap {name}: pytest -n 1, judge generate writing {tokens} tokens")
        run = run_bench(
            opts,
            config,
            folder / f"run-{name}",
            1,
            timeout=900,
            plugins=("perf.realsize_editor",),
            live=True,
            args=(f"--eb-set=run.overlap={overlap}",),
            ok_codes=(0, 1),  # a random judge's answers do not parse: those cases fail
        )
        seconds, count = run.cycles()
        result[f"s_per_case_{name}"] = seconds / count if count else None
    off, on = result["s_per_case_off"], result["s_per_case_on"]
    result["speedup"] = ratio(off, on) if off and on else None
    if result["speedup"] is not None:
        opts.say(
            f"overlap with a generate judge ({tokens} tokens): {off:.2f} s/case without, "
            f"{on:.2f} s/case with = {result['speedup']:.2f}x"
        )
    return result


def summarize(run, edits: list[dict], judged: list[dict]) -> dict:
    """Whole cycles from the 2nd case's call to the last case's call vs those cases' model time."""
    calls = sorted(run.calls(), key=lambda r: r["start"])
    if len(calls) < 3 or len(judged) != len(calls) or len(edits) != len(calls):
        raise PerfError(
            f"real-size run: {len(calls)} cases, {len(edits)} editor and {len(judged)} judge timings; "
            "expected equal counts and at least 3 cases"
        )
    timed = range(1, len(calls) - 1)
    wall = calls[-1]["start"] - calls[1]["start"]
    model = [edits[i]["seconds"] + judged[i]["seconds"] for i in timed]
    per_case = [
        {
            "case": edits[i]["case"],
            "edit_s": edits[i]["seconds"],
            "judge_s": judged[i]["seconds"],
            "judge_split": {k: v for k, v in judged[i].items() if k not in ("method", "seconds")},
            "cycle_s": calls[i + 1]["start"] - calls[i]["start"],
        }
        for i in timed
    ]
    return {
        "definition": "harness = wall time from the 2nd case's test call start to the last case's test call "
        "start (whole setup-call-teardown cycles, -n 1) / cases in between; model = the "
        "editor's pipeline call + the judge's scoring call for the same cases",
        "timed_cases": len(model),
        "harness_s_per_case": wall / len(model),
        "model_s_per_case": sum(model) / len(model),
        "ratio": ratio(wall, sum(model)),
        "goal": GOAL,
        "editor_load_s": edits[0].get("load_s"),
        "per_case": per_case,
        "run_wall_s": run.wall_s,
    }


def _gpu() -> str:
    try:
        import torch
    except ImportError:
        raise ConfigError(
            "--real-size needs torch with CUDA; install it in this environment"
        ) from None
    if not torch.cuda.is_available():
        raise ConfigError(
            "--real-size needs a CUDA GPU and none is visible (torch.cuda.is_available() is "
            "False); run it on a GPU machine, or run `editbench perf` without --real-size"
        )
    return torch.cuda.get_device_name()


def _lines(path: str) -> list[dict]:
    file = Path(path)
    if not file.is_file():
        return []
    return [
        json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
