"""`editbench perf --real-size`: harness wall time vs model time per case, with real-size models on a GPU.

No network is needed: the models are built with random weights at their real sizes, directly on the
GPU in bf16 (a 20.4 B-parameter Qwen-Image-Edit transformer, a Qwen2.5-VL-7B text encoder and the
real VAE in the editor; a Qwen3-VL-8B judge in its own interpreter). Random weights cost the same
as trained ones: the same shapes run the same kernels for the same time; only the pixels and the
scores mean nothing. A handful of 1024x1024 cases run through the real harness (`pytest -n 1`, the
real runner, the gateway) and the harness's wall time per case is compared with the model time the
editor (pipeline call) and the judge (scoring call) report for the same cases, with `run.overlap`
off (overlap would hide the judge's time behind the editor's, not measure the harness). Goal:
<= 1.03x. Then the same cases run twice more with a `generate` judge writing 256 tokens, without
and with `run.overlap`, and the speedup overlap gives on one GPU is printed (a figure, no goal).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from editbench.errors import ConfigError
from perf.bench import REPO, Options, PerfError, ratio, run_bench, write_config
from perf.suite import replicate

JUDGE_FILE = Path(__file__).with_name("realsize_judge.py")
SIZE = 1024
GOAL = 1.03
OVERLAP_TOKENS = 256
OVERLAP_DEFINITION = (
    "seconds per case = whole cycles from the 2nd case's test start to the last case's test "
    "start / their number, -n 1, the same cases and models with judge.method generate "
    "(max_new_tokens 256; a random judge's answer does not parse, so each case is asked twice); "
    "speedup = without run.overlap / with it"
)
NOTE = (
    "random weights cost the same as trained ones: same shapes, same kernels, same time; only the "
    "pixels and scores are meaningless"
)


def main(args) -> int:
    out = (
        args.out or REPO / "reports" / f"perf-realsize-{time.strftime('%Y%m%d-%H%M%S')}"
    ).resolve()
    opts = Options(
        work=out / "work", judge_python=sys.executable, cases=args.cases or 6, sizes=(SIZE,)
    )
    opts.say("editbench perf --real-size: checking for a CUDA GPU")
    shrink = bool(os.environ.get("EDITBENCH_PERF_REALSIZE_SHRINK"))
    gpu = (
        "none: EDITBENCH_PERF_REALSIZE_SHRINK (toy widths on CPU, a wiring check)"
        if shrink
        else _gpu()
    )
    device = "cpu" if shrink else "cuda"
    steps = args.steps or 10
    shutil.rmtree(
        opts.work, ignore_errors=True
    )  # timings and results of an earlier run must not mix in
    out.mkdir(parents=True, exist_ok=True)
    opts.say(f"GPU {gpu}; {opts.cases} cases at {SIZE}x{SIZE}, {steps} steps, true CFG 4; {NOTE}")
    suite = replicate(opts.work / "suite", opts.cases, SIZE)
    editor = {
        "backend": "perf-realsize",
        "model": "tiny:qwen-image-edit",
        "device": device,
        "dtype": "auto",
        "steps": steps,
        "true_cfg_scale": 4.0,
    }
    judge = {
        "backend": f"{JUDGE_FILE}:RealSizeJudge",
        "model": "tiny:qwen3-vl",
        "python": sys.executable,
        "method": "logit",
        "device": device,
        "dtype": "auto",
        "min_digit_mass": 0,  # random weights put little probability on score tokens
    }
    config = write_config(opts.work, suite, editor, judge)
    stats = {
        "EDITBENCH_EDITOR_STATS": str(opts.work / "editor.jsonl"),
        "EDITBENCH_PERF_JUDGE_STATS": str(opts.work / "judge.jsonl"),
    }
    opts.say("starting pytest -n 1 on benchmarks/ (models are built on the first case)")
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
    result["overlap"] = overlap_pair(opts, suite, editor, judge)
    result.update(gpu=gpu, steps=steps, size=SIZE, note=NOTE, log=opts.log)
    (out / "perf-realsize.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    met = result["ratio"] is not None and result["ratio"] <= GOAL
    opts.say(
        f"harness wall {result['harness_s_per_case']:.3f} s/case vs model {result['model_s_per_case']:.3f} "
        f"s/case = {result['ratio']:.4f}x (goal <= {GOAL}x): {'met' if met else 'NOT MET'}"
    )
    opts.say(f"written: {out / 'perf-realsize.json'}")
    return 0 if met else 1


def overlap_pair(opts: Options, suite: Path, editor: dict, judge: dict) -> dict:
    """The same cases with a `generate` judge writing OVERLAP_TOKENS tokens, without and with
    run.overlap (editor and judge on the one GPU): seconds per whole cycle, and the speedup."""
    folder = opts.work / "overlap"
    generate = {**judge, "method": "generate", "max_new_tokens": OVERLAP_TOKENS}
    config = write_config(folder, suite, editor, generate)
    result = {"definition": OVERLAP_DEFINITION, "max_new_tokens": OVERLAP_TOKENS}
    for overlap in ("false", "true"):
        name = "on" if overlap == "true" else "off"
        opts.say(f"overlap {name}: pytest -n 1, judge generate writing {OVERLAP_TOKENS} tokens")
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
            f"overlap with a generate judge ({OVERLAP_TOKENS} tokens): {off:.2f} s/case without, "
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
