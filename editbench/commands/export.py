"""`editbench export RUN --layout gedit|imgedit|kris|rise DIR`: a run's edits where each official scorer reads them.

The layouts, and what each scorer reads, are described in `editbench.reporting.export`. Exit
status: 0 when every case's edit was written, 1 when some case has no edit (each is listed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from editbench.reporting.export import check, export
from editbench.reporting.rundir import load_run
from editbench.suites.layouts import LAYOUTS, NAMES, SOURCE_COPY


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="editbench export", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder, e.g. reports/latest")
    parser.add_argument("--layout", required=True, choices=LAYOUTS, help="the benchmark's layout")
    parser.add_argument("dir", type=Path, help="the output folder (the official scorer's input)")
    parser.add_argument(
        "--jpeg",
        action="store_true",
        help="KRIS-Bench only: write <id>.jpg JPEG files, as its published scripts read",
    )
    args = parser.parse_args(argv)
    records, meta = load_run(args.run)
    check(args.run, meta, args.layout, args.jpeg)
    written, missing = export(args.run, records, args.layout, args.dir, args.jpeg)
    copies = f" and {written} {SOURCE_COPY} source copies" if args.layout == "gedit" else ""
    print(
        f"editbench export: wrote {written} edits{copies} to {args.dir} in the "
        f"{NAMES[args.layout]} layout"
    )
    for test_id, status in missing[:20]:
        print(f"editbench export: no edit for case {test_id} (status {status})")
    if missing:
        print(
            f"editbench export: {len(missing)} cases have no edit; the export is incomplete "
            "(rerun them, or score the rest knowing these are absent)"
        )
    return 1 if missing else 0
