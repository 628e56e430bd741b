"""Measurement 1: the harness's overhead per case against a plain loop doing the same image work.

Both sides run the same number of processes at once (the xdist worker count), so both compete for
the same cores, and both are counted in process-seconds per case:

- harness: `pytest -n K` on the replicated suite, identity editor, constant judge over the gateway,
  cache off. Per worker, the wall time of whole test cycles (setup, call, teardown and the gaps
  between tests) from its second test call's start to its last test call's start, summed over the
  workers and divided by the number of cycles: interpreter start, collection, editor load, judge
  start-up, first-use warm-up and the closing of the session fixtures are left out.
- plain loop: K processes, each over its share of the cases: read the source file, decode it, copy
  it (the identity edit), encode the PNG, decode it back (the runner's check), write both PNGs.
  Each process's span, summed, divided by the number of cases; run once before and once after the
  harness run and averaged, since the machine's load drifts.

Overhead = harness - plain loop, in milliseconds per case: what pytest, xdist, the runner, the
gateway round trip and the records cost beyond the unavoidable image I/O.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from editbench.cases import load_suite
from editbench.images import decode_png, encode_png, read_image_file
from editbench.perf.bench import Options, PerfError, constant_judge, run_bench, write_config
from editbench.perf.suite import replicate

WORKERS = 2
DEFINITION = (
    "wall process-seconds per case at equal concurrency (2 processes each side): harness = sum over the 2 "
    "xdist workers of (last test call start - second test call start) / number of those setup-call-teardown "
    "cycles, identity editor + constant judge over the gateway, cache off (start-up, collection, model load, "
    "judge start, first-case warm-up and fixture closing excluded); plain loop = 2 processes doing "
    "read+decode+copy+encode+decode+write of both PNGs, sum of their spans / cases, mean of a run before and "
    "one after the harness; overhead = harness - plain loop"
)


def measure(opts: Options) -> dict:
    results = {"definition": DEFINITION, "workers": WORKERS, "sizes": {}}
    for size in opts.sizes:
        opts.say(f"overhead: {opts.cases} cases at {size}x{size}")
        results["sizes"][str(size)] = measure_size(opts, size)
    return results


def measure_size(opts: Options, size: int) -> dict:
    folder = opts.work / f"overhead-{size}"
    suite = replicate(folder / "suite", opts.cases, size)
    config = write_config(folder, suite, {"backend": "identity"}, constant_judge(opts))
    loops = [plain_loop(suite, folder / "loop-before", WORKERS)]
    run = run_bench(opts, config, folder / "run", WORKERS)
    loops.append(plain_loop(suite, folder / "loop-after", WORKERS))
    seconds, cycles = run.cycles()
    if cycles < 1:
        raise PerfError(
            f"overhead at {size}: too few cases per worker to time whole cycles; raise --cases"
        )
    harness_ms = 1000 * seconds / cycles
    loop_ms = 1000 * sum(loops) / len(loops) / opts.cases
    failed = [r["case_id"] for r in run.records if r.get("status") != "ok"]
    if failed:
        raise PerfError(
            f"overhead at {size}: {len(failed)} cases failed, e.g. {failed[0]}; see {run.run_dir}"
        )
    return {
        "cases": len(run.calls()),
        "cycles_timed": cycles,
        "harness_ms_per_case": harness_ms,
        "loop_ms_per_case": loop_ms,
        "loop_ms_before_after": [1000 * x / opts.cases for x in loops],
        "loop_spread_ms": 1000 * abs(loops[0] - loops[1]) / opts.cases,
        "overhead_ms_per_case": harness_ms - loop_ms,
        "median_call_ms": 1000 * run.median_call_s(),
        "run_wall_s": run.wall_s,
        "test_phase_s": run.test_phase_s(),
    }


def plain_loop(suite_dir: Path, out: Path, workers: int) -> float:
    """Process-seconds the plain loop spends on all cases, split over `workers` processes."""
    suite = load_suite(suite_dir)
    jobs = [(str(c.source.path), c.category.key, c.test_id, str(out)) for c in suite.cases]
    shares = [jobs[i::workers] for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return sum(pool.map(_loop_share, shares))


def _loop_share(jobs: list[tuple[str, str, str, str]]) -> float:
    start = time.perf_counter()
    for source, category, test_id, out in jobs:
        image, data = read_image_file(Path(source), test_id)
        edited = encode_png(image.copy())
        decode_png(edited, test_id)
        folder = Path(out) / "images" / category
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{test_id}.source.png").write_bytes(data)
        (folder / f"{test_id}.edited.png").write_bytes(edited)
    return time.perf_counter() - start
