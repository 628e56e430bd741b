"""`editbench merge RUN... -o OUT`: run folders (shards from several machines) combined into one.

Prints the merged summary table (and a benchmark protocol's headline numbers), then a line per
missing shard or case and per environment difference. What must agree between the runs, and how
records, images and summaries are combined, is in `editbench.reporting.merge`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from editbench.reporting.environments import warning_lines
from editbench.reporting.merge import merge
from editbench.reporting.rundir import RUN_META
from editbench.reporting.tables import table_lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="editbench merge", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders to merge")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="merged run folder (default: <first run's parent>/<time>-merged)",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="merge even when expected cases have no result; marks the run partial",
    )
    args = parser.parse_args(argv)
    out = args.output or args.runs[0].resolve().parent / time.strftime("%Y%m%d-%H%M%S-merged")
    summary = merge(args.runs, out, allow_partial=args.allow_partial)
    lines = [*table_lines(summary)]
    if "protocol" in summary:  # a benchmark protocol's headline numbers, recomputed
        from editbench.reporting.headline_tables import terminal_lines

        lines += terminal_lines(summary["protocol"])
    lines.append(f"merged {len(args.runs)} runs into {out}")
    meta = json.loads((out / RUN_META).read_text(encoding="utf-8"))
    if meta["missing_shards"]:
        lines.append(f"PARTIAL: shards missing: {', '.join(meta['missing_shards'])}")
    for difference in meta["environment_differences"]:
        names = (difference["run_a"] or "first run", difference["run_b"] or "run")
        lines += warning_lines([difference], names)
    if meta["missing_cases"]:
        lines.append(
            f"PARTIAL: {len(meta['missing_cases'])} expected cases have no result: "
            f"{', '.join(meta['missing_cases'])}"
        )
    print("\n".join(lines))
    return 0
