"""A pytest plugin for the start-up tests: which model libraries each process of a run imported.

Loaded with `-p eb_imported` (this folder on PYTHONPATH) and active when `EB_IMPORTED_DIR` names a
folder. At `pytest_unconfigure`, the last hook of a process (configure, collection, the cases and
the reports are behind it), the controller and every xdist worker write `<process>.json`: the
libraries of `WATCHED` found in `sys.modules` then.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ENV = "EB_IMPORTED_DIR"
WATCHED = ("torch", "diffusers", "transformers", "scipy")


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = os.environ.get(ENV)
    if not folder:
        return
    process = getattr(config, "workerinput", {}).get("workerid", "controller")
    found = sorted(name for name in WATCHED if name in sys.modules)
    Path(folder, f"{process}.json").write_text(json.dumps(found), encoding="utf-8")
