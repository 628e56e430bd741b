"""The README's picture of compare.html, made from two runs of the tiny models.

    .tox/bench/bin/python scripts/compare_screenshot.py [--work=DIR] [--out=docs/compare.png]

Runs the README's "Reports" commands on the sample suite's 物理 cases with the default config
(the tiny random editor and judge): `reports/base`-style run A, then run B rescoring the same
edits at a lower judge resolution (`--eb-set=judge.max_pixels=16384`), both into DIR (default: a
temporary folder), then `editbench compare A B`, and screenshots the page in headless Chromium.
The tiny models' edits are random-weight images and their scores measure the pipeline, not the
models; the picture shows the page, not a result. A Chinese font (Debian: fonts-wqy-microhei)
keeps the category names legible.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"]


def bench(run_dir: Path, *extra: str) -> None:
    command = [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider", "-q"]
    command += ["-k", "物理", f"--eb-run-dir={run_dir}", *extra]
    subprocess.run(command, cwd=REPO, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="where the two runs go (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "compare.png")
    parser.add_argument("--window", default="1280,1800", help="the screenshot's WIDTH,HEIGHT")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    work = (args.work or Path(tempfile.mkdtemp(prefix="compare-shot-"))).resolve()
    bench(work / "base")
    bench(work / "small", "--eb-set=judge.max_pixels=16384")
    compare = [sys.executable, "-m", "editbench.cli", "compare", str(work / "base")]
    subprocess.run([*compare, str(work / "small")], cwd=REPO, check=True)
    page = work / "small" / "compare.html"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shot = [args.chromium, *FLAGS, f"--user-data-dir={work / 'profile'}"]
    shot += [f"--window-size={args.window}", "--virtual-time-budget=10000"]
    subprocess.run([*shot, f"--screenshot={args.out.resolve()}", page.as_uri()], check=True)
    print(f"{args.out} from {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
