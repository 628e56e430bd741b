"""Every `editbench` subcommand is one module of `editbench.commands`, and every such module is one.

`cli.COMMANDS` names each command's `module:function`; the function must be that module's `main`,
importable, and the module must sit in `editbench/commands/` under the command's own name
(`make-tiny` is `make_tiny.py`). A module there that no command names is a stray.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import editbench.commands
from editbench.cli import COMMANDS

PACKAGE = "editbench.commands"


def command_modules(folder: Path) -> set[str]:
    """The modules in a commands folder (its `__init__` is the package, not a command)."""
    return {info.name for info in pkgutil.iter_modules([str(folder)])}


def strays(folder: Path) -> set[str]:
    """Modules in `folder` that no command of COMMANDS points to."""
    named = {target.partition(":")[0].rpartition(".")[2] for target, _ in COMMANDS.values()}
    return command_modules(folder) - named


def test_every_command_is_the_main_of_its_own_module_in_editbench_commands():
    for name, (target, help_) in COMMANDS.items():
        module, _, function = target.partition(":")
        assert module == f"{PACKAGE}.{name.replace('-', '_')}", name
        assert function == "main", name
        assert callable(getattr(importlib.import_module(module), function)), name
        assert help_, name


def test_every_module_in_editbench_commands_is_a_command():
    folder = Path(editbench.commands.__file__).parent
    assert len(command_modules(folder)) == len(COMMANDS)
    assert strays(folder) == set()


def test_a_module_that_no_command_names_is_found(tmp_path):
    for name in command_modules(Path(editbench.commands.__file__).parent):
        (tmp_path / f"{name}.py").write_text("", encoding="utf-8")
    assert strays(tmp_path) == set()
    (tmp_path / "helpers.py").write_text("", encoding="utf-8")
    assert strays(tmp_path) == {"helpers"}
