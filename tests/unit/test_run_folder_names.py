"""Naming a run folder needs no pytest: `editbench validate` and `editbench slurm` load neither.

Nor does any other command: every module of `editbench.commands` is imported here together
with the library modules that name a run folder, and none of them may pull pytest in.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import editbench.commands
from support import REPO

COMMAND_MODULES = sorted(
    f"editbench.commands.{info.name}" for info in pkgutil.iter_modules(editbench.commands.__path__)
)


def test_the_commands_are_found():
    assert {"editbench.commands.validate", "editbench.commands.slurm"} <= set(COMMAND_MODULES)


def test_validate_slurm_and_every_command_import_no_pytest():
    modules = [*COMMAND_MODULES, "editbench.reporting.rundir", "editbench.slurm.plan"]
    code = (
        f"import sys, {', '.join(modules)}; "
        "print(sorted(m for m in ('pytest', '_pytest', 'xdist') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
