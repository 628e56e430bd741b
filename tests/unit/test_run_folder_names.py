"""Naming a run folder needs no pytest: `editbench validate` and `editbench slurm` load neither."""

from __future__ import annotations

import subprocess
import sys

from support import REPO


def test_validate_and_slurm_import_no_pytest():
    code = (
        "import sys, editbench.commands.validate, editbench.commands.slurm, editbench.reporting.rundir; "
        "print(sorted(m for m in ('pytest', '_pytest', 'xdist') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
