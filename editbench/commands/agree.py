"""`editbench agree`: how well a judge's scores follow people's ratings of the same edits.

    editbench agree RUN RATINGS                   judge vs absolute human ratings
    editbench agree RUN_J1 RUN_J2 --ratings R     two judges on the same edits: rho(J2) - rho(J1)
    editbench agree RUN_A RUN_B PREFS             judge's pairwise accuracy on human preferences

Per dimension, per category and overall. A case that failed in a run (its status, or the
dimension's, is not ok) is counted beside the row and left out of it, never scored. Writes
agree.json (into the first run's folder unless -o) and prints the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from editbench.errors import ConfigError
from editbench.reporting.agreement import Run, agree_judges, agree_preferences, agree_ratings
from editbench.reporting.agreement_table import lines
from editbench.reporting.coefficients import Bootstrap
from editbench.reporting.ratings import ABSOLUTE, PREFERENCE, Ratings, read_ratings
from editbench.reporting.runmeta import write_json


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    runs = [Path(p) for p in (args.paths if args.ratings else args.paths[:-1])]
    ratings_path = args.ratings or Path(args.paths[-1])
    if not 1 <= len(runs) <= 2:
        raise ConfigError(
            "agree takes one or two run folders and one ratings file: "
            "agree RUN RATINGS, agree RUN_A RUN_B PREFS, or "
            "agree RUN_J1 RUN_J2 --ratings RATINGS"
        )
    ratings = read_ratings(ratings_path)
    loaded = [Run.load(path) for path in runs]
    boot = Bootstrap(resamples=args.resamples, seed=args.seed)
    result = _dispatch(ratings, loaded, boot)
    output = args.json or runs[0] / "agree.json"
    write_json(output, result)
    print("\n".join([*lines(result), f"agreement written to {output}"]))
    return 0


def _dispatch(ratings: Ratings, runs: list[Run], boot: Bootstrap) -> dict[str, Any]:
    if ratings.kind == PREFERENCE:
        if len(runs) != 2:
            raise ConfigError(
                f"{ratings.path}: preferences compare two runs' edits of the same "
                "cases; pass both runs: editbench agree RUN_A RUN_B PREFS"
            )
        return agree_preferences(*runs, ratings, boot)
    assert ratings.kind == ABSOLUTE
    return (
        agree_ratings(runs[0], ratings, boot)
        if len(runs) == 1
        else agree_judges(*runs, ratings, boot)
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="editbench agree",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:5]),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="RUN|RATINGS",
        help="run folder(s), then the ratings file (JSONL or CSV) unless --ratings",
    )
    parser.add_argument("--ratings", type=Path, help="the ratings file, for RUN_J1 RUN_J2")
    parser.add_argument(
        "-o", "--json", type=Path, help="JSON output (default: <first run>/agree.json)"
    )
    parser.add_argument(
        "--resamples",
        type=_positive,
        default=Bootstrap.resamples,
        help="bootstrap resamples per interval (default %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=Bootstrap.seed,
        help="bootstrap seed (default %(default)s)",
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 100:
        raise argparse.ArgumentTypeError("use at least 100 resamples")
    return value
