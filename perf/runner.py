"""`editbench perf`: what the harness itself costs, measured as ratios within one run.

Seven measurements (see each module's docstring for its exact definition): overhead per case against a
plain loop (`overhead`), judge transport (`transport`), worker scaling (`scaling`), the cache
(`cache`), the judge's scoring method (`method`), the overlap of edit and judge (`overlap`) and
start-up (`startup`: `--collect-only`, a fully cached rerun). Each target is printed as met or not met, and
everything goes to `perf.json` in the run folder (default `reports/perf-<timestamp>/`).
`--real-size` runs the GPU mode instead (`perf.realsize`).

This is a runner, not a test: the numbers depend on the machine and its load, so they are taken as
ratios in one run and written down with their definitions, never asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import traceback
from pathlib import Path

from editbench.errors import ConfigError
from perf.bench import DEFAULT_JUDGE_PYTHON, REPO, SMOKE_SIZE, Options, PerfError
from perf.report import details, judge_targets, table

# Every child (pytest workers, judge interpreters) runs torch on one thread: on a shared machine two
# threads per process mostly wait for each other, and the same setting on both sides of a ratio is fair.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MEASUREMENTS = (
    "overhead",
    "transport",
    "scaling",
    "cache",
    "method",
    "overlap",
    "startup",
    "judge",
)
VERSION = 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="editbench perf", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="run folder (default: reports/perf-<timestamp>)")
    parser.add_argument(
        "--cases", type=int, help="cases of the overhead suite (default 200; --quick 12)"
    )
    parser.add_argument(
        "--sizes", help="image sizes of the overhead suite, e.g. 256,1024 (default; --quick 256)"
    )
    parser.add_argument(
        "--only",
        help=f"comma-separated subset of {','.join(MEASUREMENTS)} (with --real-size: of its stages)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smallest sizes and few cases (the CI smoke test)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="the test suite's wiring check: fewest cases, 32-pixel images, fewest new tokens "
        "(every field is written; the figures mean nothing)",
    )
    parser.add_argument(
        "--judge-python",
        help="judge interpreter (default: $EDITBENCH_JUDGE_PYTHON, else .tox/judge/bin/python)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch suites and run folders (work/)"
    )
    parser.add_argument(
        "--real-size",
        action="store_true",
        help="GPU mode: random-weight models at real sizes (--cases defaults to 6 there)",
    )
    parser.add_argument(
        "--steps", type=int, help="--real-size: denoising steps per edit (default: from --budget)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=420.0,
        help="--real-size: seconds the whole run may take, model builds included (default 420); "
        "cases, steps and tokens are chosen to fit, and a stage that would not fit is skipped",
    )
    return parser.parse_args(argv)


def options(args: argparse.Namespace, out: Path) -> Options:
    sizes = (SMOKE_SIZE,) if args.smoke else (256,) if args.quick else (256, 1024)
    if args.sizes:
        try:
            sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
        except ValueError:
            raise ConfigError(
                f"--sizes {args.sizes!r}: expected pixel sizes like 256,1024"
            ) from None
    if not sizes or min(sizes) < 16:
        raise ConfigError(f"--sizes {args.sizes!r}: sizes must be at least 16 pixels")
    cases = args.cases or (6 if args.smoke else 12 if args.quick else 200)
    if cases < 2:
        raise ConfigError(f"--cases {cases}: need at least 2 (one per worker)")
    python = (
        args.judge_python or os.environ.get("EDITBENCH_JUDGE_PYTHON") or _default_judge_python()
    )
    if not os.access(python, os.X_OK):
        raise ConfigError(
            f"--judge-python {python}: no such interpreter; pass the judge environment's python "
            "(--judge-python or $EDITBENCH_JUDGE_PYTHON)"
        )
    return Options(
        work=out / "work",
        judge_python=python,
        cases=cases,
        sizes=sizes,
        quick=args.quick,
        smoke=args.smoke,
    )


def _default_judge_python() -> str:
    """The tox `judge` environment, as the gateway defaults to."""
    return str(DEFAULT_JUDGE_PYTHON)


def chosen(args: argparse.Namespace) -> list[str]:
    if not args.only:
        return list(MEASUREMENTS)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown or not names:
        raise ConfigError(f"--only {args.only!r}: choose from {', '.join(MEASUREMENTS)}")
    return names


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.real_size:
        from perf import realsize

        return realsize.main(args)
    out = (args.out or REPO / "reports" / f"perf-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    names = chosen(args)
    opts = options(args, out)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **ONE_THREAD})
    out.mkdir(parents=True, exist_ok=True)
    opts.say(f"editbench perf: {', '.join(names)} -> {out}")
    started, load = time.time(), _load()
    measurements = {name: _measure(name, opts) for name in names}
    rows = judge_targets(measurements)
    result = {
        "version": VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": time.time() - started,
        "machine": _machine(load),
        "options": {
            "torch_threads_per_process": 1,
            "cases": opts.cases,
            "sizes": list(opts.sizes),
            "quick": opts.quick,
            "smoke": opts.smoke,
            "judge_python": opts.judge_python,
            "only": names,
        },
        "measurements": measurements,
        "targets": rows,
        "log": opts.log,
    }
    (out / "perf.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(
        "\n".join(
            [
                "",
                *table(rows),
                "",
                *details(measurements),
                "",
                f"machine: {result['machine']['note']}",
                f"written: {out / 'perf.json'}",
            ]
        ),
        flush=True,
    )
    if not args.keep:
        shutil.rmtree(opts.work, ignore_errors=True)
    return 1 if any("error" in m for m in measurements.values()) else 0


def _measure(name: str, opts: Options) -> dict:
    """One measurement; a failure is recorded with its reason and the others still run."""
    from importlib import import_module

    module = import_module(f"perf.{name}")
    start = time.perf_counter()
    try:
        result = module.measure(opts)
    except PerfError as exc:
        opts.say(f"{name}: FAILED: {exc}")
        return {"error": str(exc), "elapsed_s": time.perf_counter() - start}
    except Exception:  # noqa: BLE001 - one broken measurement must not hide the others
        text = traceback.format_exc()
        opts.say(f"{name}: FAILED:\n{text}")
        return {
            "error": text.strip().splitlines()[-1] + "\n" + text,
            "elapsed_s": time.perf_counter() - start,
        }
    result["elapsed_s"] = time.perf_counter() - start
    opts.say(f"{name}: done in {result['elapsed_s']:.1f} s")
    return result


def _load() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def _machine(load_before: list[float] | None) -> dict:
    cpus = os.cpu_count()
    return {
        "cpus": cpus,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "load_before": load_before,
        "load_after": _load(),
        "note": f"{cpus}-core CPU, {platform.machine()}, no GPU use; load average before "
        f"{_fmt_load(load_before)}, after {_fmt_load(_load())} (other processes share it: "
        "figures are ratios taken within this one run)",
    }


def _fmt_load(load: list[float] | None) -> str:
    return "?" if load is None else "/".join(f"{x:.1f}" for x in load)
