"""Measurement 3: a CPU-bound tiny editor at `-n 1` vs `-n 2` (speedup).

The tiny diffusers Qwen-Image-Edit pipeline with one torch thread per worker (OMP_NUM_THREADS=1 and
MKL_NUM_THREADS=1 in every worker's environment), no judge, cache off. Throughput = cases / test-phase
wall time (the first test call's start to the last report's end, any worker), so interpreter start,
collection and pipeline loading are left out of both.
"""

from __future__ import annotations

from perf.bench import Options, ratio, run_bench, write_config
from perf.suite import replicate

SIZE = 256
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
DEFINITION = (
    "throughput = cases / test-phase wall (first test call start to last report end, any worker); tiny "
    "diffusers QwenImageEditPipeline, 1 torch thread per worker (OMP_NUM_THREADS=1), judge none, cache off; "
    "speedup = throughput at -n 2 / throughput at -n 1"
)


def tiny_editor(steps: int = 2) -> dict:
    return {
        "backend": "diffusers",
        "model": "tiny:qwen-image-edit",
        "device": "cpu",
        "steps": steps,
    }


def measure(opts: Options) -> dict:
    cases, size = opts.pick(6, 2, 2), opts.size(SIZE)
    folder = opts.work / "scaling"
    suite = replicate(folder / "suite", cases, size)
    config = write_config(folder, suite, tiny_editor(), {"backend": "none"})
    out = {"definition": DEFINITION, "cases": cases, "size": size}
    for workers in (1, 2):
        opts.say(f"scaling: {cases} tiny edits at -n {workers}")
        run = run_bench(opts, config, folder / f"run-n{workers}", workers, extra_env=ONE_THREAD)
        out[f"n{workers}"] = {
            "test_phase_s": run.test_phase_s(),
            "cases_per_s": cases / run.test_phase_s(),
            "median_call_s": run.median_call_s(),
            "run_wall_s": run.wall_s,
        }
    out["speedup"] = ratio(out["n2"]["cases_per_s"], out["n1"]["cases_per_s"])
    return out
