"""`editbench perf`: the harness's benchmarks live in the repository (perf/), not in the package.

Run them from a checkout: this finds the checkout above the current folder and runs
`python -m perf` there, so the installed package never imports anything from a checkout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from editbench.errors import EditbenchError


def main(argv: list[str]) -> int:
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "perf" / "runner.py").is_file() and (folder / "benchmarks").is_dir():
            return subprocess.run([sys.executable, "-m", "perf", *argv], cwd=folder).returncode
    raise EditbenchError(
        "editbench perf measures the harness from its source checkout: run it inside "
        "the editbench repository (it runs `python -m perf` there)"
    )
