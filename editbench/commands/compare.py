"""`editbench compare RUN_A RUN_B`: per category and dimension, how B differs from A.

Writes compare.json (RUN_B/compare.json unless -o) and compare.html beside it, and prints the
table; with `--fail-on-regression` it exits 1 on a flagged regression or a newly failing case.
The comparison itself, and what each row and flag means, are in `editbench.reporting.compare`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from editbench.reporting import compare_page
from editbench.reporting.compare import compare, lines, run_protocol
from editbench.reporting.environments import environment_differences
from editbench.reporting.rundir import categories_of, load_run
from editbench.reporting.runmeta import write_json


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="editbench compare", description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path, help="baseline run folder")
    parser.add_argument("run_b", type=Path, help="run folder compared against the baseline")
    parser.add_argument("-o", "--json", type=Path, help="JSON output (default: RUN_B/compare.json)")
    parser.add_argument(
        "--html",
        type=Path,
        help="the page with both runs' edits side by side (default: the JSON output with .html)",
    )
    parser.add_argument(
        "--embed",
        action="store_true",
        help="inline the images in the page as JPEG copies (longer side 768 px), for a file "
        "that travels alone, instead of linking them",
    )
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit with status 1 on a flagged regression or any case that newly fails in B",
    )
    args = parser.parse_args(argv)
    records_a, meta_a = load_run(args.run_a)
    records_b, meta_b = load_run(args.run_b)
    result = compare(records_a, records_b, categories_of(meta_a), run_protocol(meta_a, meta_b))
    result |= {
        "run_a": str(args.run_a.resolve()),
        "run_b": str(args.run_b.resolve()),
        "environment_differences": environment_differences(meta_a, meta_b),
    }
    output = args.json or args.run_b / "compare.json"
    write_json(output, result)
    page = args.html or output.with_suffix(".html")
    runs = (args.run_a, records_a, meta_a), (args.run_b, records_b, meta_b)
    compare_page.write(page, compare_page.page_data(result, *runs, page, embed=args.embed))
    print("\n".join([*lines(result), f"comparison written to {output} and {page}"]))
    failing = result["regressions"] or result["newly_failing"]
    return 1 if args.fail_on_regression and failing else 0
