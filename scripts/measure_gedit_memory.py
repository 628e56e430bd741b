"""Peak memory of the controller and each xdist worker for a GEdit-shaped data set (a measurement, not a test).

Builds a `save_to_disk` data set of 1,212 rows (606 en, 606 cn; 11 task types) whose
`input_image` and `input_image_raw` are 512x512 PNGs of random noise (incompressible: about
0.75 MiB each, 1.8 GiB of images in all), then runs the real benchmark on it with
`pytest -n 2` twice: a run that selects no case (`-k no_such_case`: the controller and both
workers load the suite, collect and stop) and a full run of the 606 English cases with the
identity editor and no judge (every worker reads its cases' images).
The same two runs on the 25-case sample suite give the baseline of the processes themselves.
Each process reports its peaks through scripts/rss_probe.py; the script prints a table and
writes it as JSON. Usage: python scripts/measure_gedit_memory.py [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TASKS = (
    "background_change",
    "color_alter",
    "material_alter",
    "motion_change",
    "ps_human",
    "style_change",
    "subject-add",
    "subject-remove",
    "subject-replace",
    "text_change",
    "tone_transfer",
)
ROWS, SIZE = 1212, 512


def build(folder: Path) -> int:
    """The data set, written in shards so building never holds all images; returns image bytes."""
    import datasets
    import numpy as np
    from PIL import Image

    features = datasets.Features(
        {
            "task_type": datasets.Value("string"),
            "key": datasets.Value("string"),
            "instruction": datasets.Value("string"),
            "instruction_language": datasets.Value("string"),
            "input_image": datasets.Image(),
            "input_image_raw": datasets.Image(),
            "Intersection_exist": datasets.Value("bool"),
        }
    )
    rng = np.random.default_rng(0)

    def noise_png() -> bytes:
        import io

        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(
            buffer, format="PNG", compress_level=1
        )
        return buffer.getvalue()

    def rows():
        for row in range(ROWS):
            language = "en" if row < ROWS // 2 else "cn"
            number = row % (ROWS // 2)
            yield {
                "task_type": TASKS[number % len(TASKS)],
                "key": f"k{number:04d}",
                "instruction": f"edit number {number}",
                "instruction_language": language,
                "input_image": {"bytes": noise_png(), "path": None},
                "input_image_raw": {"bytes": noise_png(), "path": None},
                "Intersection_exist": number % 3 == 0,
            }

    datasets.disable_progress_bars()
    dataset = datasets.Dataset.from_generator(
        rows, features=features, writer_batch_size=50, cache_dir=str(folder.parent / "build-cache")
    )
    dataset.save_to_disk(str(folder), max_shard_size="500MB")
    shutil.rmtree(folder.parent / "build-cache", ignore_errors=True)
    return sum(p.stat().st_size for p in folder.glob("*.arrow"))


def run(work: Path, suite: dict, name: str, *args: str) -> tuple[list[dict], float, int]:
    config = work / f"{name}.yaml"
    config.write_text(
        json.dumps(
            {
                "suite": suite,
                "editor": {"backend": "identity"},
                "judge": {"backend": "none"},
                "run": {"dir": str(work / "reports"), "cache": False},
            }
        )
    )
    out = work / f"{name}.rss.jsonl"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "EB_RSS_OUT": str(out),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "scripts"), str(REPO), os.environ.get("PYTHONPATH", "")]
        ),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "benchmarks"),
        "-p",
        "rss_probe",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--eb-config={config}",
        f"--eb-run-dir={work / name}",
        "-n",
        "2",
        *args,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 5):
        raise SystemExit(
            f"{name}: pytest exited {result.returncode}\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        )
    return (
        [json.loads(line) for line in out.read_text().splitlines()],
        seconds,
        len([line for line in result.stdout.splitlines() if "test_edit[" in line]),
    )


def mib(kb: int) -> str:
    return f"{kb / 1024:7.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=None, help="work folder (default: a temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data set and run folders")
    args = parser.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="eb-gedit-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "gedit"
    start = time.perf_counter()
    image_bytes = (
        build(data) if not data.exists() else sum(p.stat().st_size for p in data.glob("*.arrow"))
    )
    print(
        f"data set: {ROWS} rows, {SIZE}x{SIZE} images, {image_bytes / 2**30:.2f} GiB of Arrow files "
        f"at {data} ({time.perf_counter() - start:.0f} s)"
    )
    suites = {
        "gedit": {"path": str(data), "format": "gedit"},
        "sample": {"path": str(REPO / "fixtures" / "sample_suite")},
    }
    rows = []
    for suite_name, suite in suites.items():
        for mode, extra in (("load", ("-k", "no_such_case")), ("run", ())):
            records, seconds, _ = run(work, suite, f"{suite_name}-{mode}", *extra)
            for record in sorted(records, key=lambda r: r["process"]):
                rows.append(
                    {"suite": suite_name, "mode": mode, "seconds": round(seconds, 1), **record}
                )
    print(
        f"\n{'suite':<7} {'mode':<8} {'process':<10} {'VmHWM':>8} {'RssAnon':>8} {'RssFile':>8}   "
        "(peaks, MiB)  wall"
    )
    for row in rows:
        peak = row["peak_kb"]
        print(
            f"{row['suite']:<7} {row['mode']:<8} {row['process']:<10} {mib(peak['VmHWM'])}  "
            f"{mib(peak['RssAnon'])}  {mib(peak['RssFile'])}   {row['seconds']:6.1f} s"
        )
    (work / "memory.json").write_text(
        json.dumps({"rows": rows, "image_bytes": image_bytes}, indent=2)
    )
    print(f"\nwritten: {work / 'memory.json'}")
    if not args.keep and args.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
