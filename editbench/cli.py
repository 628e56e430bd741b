"""The `editbench` command: validate a config, build tiny checkpoints, compare and merge runs.

Each subcommand is a module of `editbench.commands` that parses its own arguments and prints its
own output; this file only dispatches, importing the command's module on demand.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from pathlib import Path

from editbench import __version__
from editbench.errors import EditbenchError

COMMANDS = {
    "validate": (
        "editbench.commands.validate:main",
        "check a run config and print what a run would do",
    ),
    "make-tiny": (
        "editbench.commands.make_tiny:main",
        "build the tiny random editor and judge checkpoints",
    ),
    "compare": ("editbench.commands.compare:main", "compare two run folders per category"),
    "merge": ("editbench.commands.merge:main", "merge run folders (shards) into one"),
    "export": (
        "editbench.commands.export:main",
        "write a run's edits in a benchmark's own layout",
    ),
    "agree": ("editbench.commands.agree:main", "a judge's agreement with human ratings"),
    "slurm": (
        "editbench.commands.slurm:main",
        "submit a run as a Slurm array of shards and a merge job",
    ),
    "perf": (
        "editbench.commands.perf:main",
        "measure the harness's own overhead (from a checkout: python -m perf)",
    ),
}


def usage() -> str:
    lines = ["usage: editbench COMMAND [ARGS...]  (editbench --version: the version)", ""]
    lines.append("commands:")
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(f"editbench {__version__} ({Path(__file__).resolve().parent})")
        return 0
    if argv[0] not in COMMANDS:
        close = difflib.get_close_matches(argv[0], list(COMMANDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        print(f"editbench: unknown command {argv[0]!r}{hint}\n\n{usage()}", file=sys.stderr)
        return 2
    module, _, function = COMMANDS[argv[0]][0].partition(":")
    try:
        return int(getattr(importlib.import_module(module), function)(argv[1:]) or 0)
    except EditbenchError as exc:
        print(f"editbench {argv[0]}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
