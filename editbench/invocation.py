"""Checks of how pytest was started, before anything runs: the rootdir trap, mistyped options.

pytest picks its root folder and its ini file from the command line's path arguments before it
knows the options of plugins. `--eb-run-dir /old/run` (the value after a space, the folder
existing) therefore looks like a path to test: pytest roots itself at /old/run, never reads the
checkout's pytest.ini (so no `eb_config`, no `testpaths`) and collects whatever lies in the
current folder, the harness's own tests included. With `--eb-run-dir=/old/run` it does not.
These functions find that situation and say the cause and the fix in one line; they take plain
values (no pytest objects), so they are tested without starting pytest.
"""

from __future__ import annotations

import configparser
import difflib
from collections.abc import Sequence
from pathlib import Path

INI = "pytest.ini"
CONFIG_KEY = "eb_config"


def holds_benchmark_ini(folder: Path) -> bool:
    """Whether `folder/pytest.ini` is a benchmark checkout's ini (it sets `eb_config`)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(folder / INI, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return False
    return parser.has_option("pytest", CONFIG_KEY)


def spaced_path_values(args: Sequence[str], folder: Path) -> list[tuple[str, str]]:
    """(option, value) pairs where a value written after a space names an existing path outside
    `folder`: the arguments that move pytest's root away from `folder`."""
    found = []
    for option, value in zip(args[:-1], args[1:], strict=True):
        if not option.startswith("-") or "=" in option or value.startswith("-"):
            continue
        path = Path(folder, value)
        if path.exists() and not path.resolve().is_relative_to(folder.resolve()):
            found.append((option, value))
    return found


def lost_ini(
    folder: Path, inipath: Path | None, rootpath: Path, args: Sequence[str], explicit_ini: bool
) -> str | None:
    """The trap: pytest was started in a checkout whose pytest.ini sets eb_config, no `-c` chose
    another ini, yet pytest read an ini outside the checkout, or none. (An ini inside it, such as
    tests/pytest.ini for `pytest tests/unit`, is pytest choosing the nearest one: no trap.)
    Returns the one-line message, or None."""
    expected = folder / INI
    if explicit_ini or not holds_benchmark_ini(folder):
        return None
    if inipath is not None and inipath.resolve().is_relative_to(folder.resolve()):
        return None
    read = f"read {inipath}" if inipath is not None else "read no ini file"
    suspects = spaced_path_values(args, folder)
    if suspects:
        option, value = suspects[0]
        cause = f"the value of {option} was written after a space and names an existing path"
        fix = f"write {option}={value} (with '=')"
    else:
        cause = "an argument names an existing path"
        fix = "write option values with '=' (--eb-run-dir=DIR)"
    return (
        f"editbench: pytest did not read {expected} (it {read} and took {rootpath} as its root) "
        f"because {cause} outside {folder}; {fix}, or pass -c {INI}"
    )


def options_without_config(
    args: Sequence[str], has_config: bool, inipath: Path | None, rootpath: Path
) -> str | None:
    """--eb-* options given while no run config resolved: the benchmark would not run them."""
    given = sorted({a.split("=", 1)[0] for a in args if a.startswith("--eb-")})
    if has_config or not given:
        return None
    read = f"it read {inipath}" if inipath is not None else "it read no ini file"
    return (
        f"editbench: {', '.join(given)} given, but pytest found no run config ({read}, root "
        f"{rootpath}); pass --eb-config=PATH, or run from the editbench checkout with option "
        "values written after '=' (--eb-run-dir=DIR)"
    )


def unknown_options(args: Sequence[str], known: Sequence[str]) -> str | None:
    """The first `--eb-*` argument that is no editbench option, with the closest one (pytest's own
    message, `unrecognized arguments`, suggests nothing). Other options are pytest's and its
    plugins', some of them not registered yet when this runs: they are left to pytest."""
    ours = [name for name in known if name.startswith("--eb-")]
    if not ours:  # editbench's options are not registered (yet): nothing to compare against
        return None
    for arg in args:
        if arg == "--":
            break
        name = arg.split("=", 1)[0]
        if name.startswith("--eb-") and name not in ours:
            close = difflib.get_close_matches(name, ours, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}? (write it as {close[0]}=VALUE)" if close else ""
            return f"editbench: unknown option {name}{hint} (known: {', '.join(sorted(ours))})"
    return None
