"""`editbench make-tiny DIR`: the tiny random editor and judge checkpoints, written into DIR/<name>.

The builders and the cache that runs use live in `editbench.tiny`; this writes them where asked.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from editbench.tiny import BUILDERS, build


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="editbench make-tiny",
        description="Write the tiny random editor (qwen-image-edit) and judge (qwen3-vl) checkpoints "
        "into DIR/<name>; fully offline, the same bytes for the same seed.",
    )
    parser.add_argument("dir", type=Path, help="output folder")
    parser.add_argument(
        "--only",
        choices=sorted(BUILDERS),
        action="append",
        help="build only this checkpoint (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in args.only or list(BUILDERS):
        folder = build(name, args.dir / name, args.seed)
        print(f"{name}: {folder}")
    return 0
