"""The keys under which the editbench plugin keeps a session's state on pytest's objects.

On `config.stash`: what `pytest_configure` decided (the settings, the run folder, the shard, the
judge endpoint, a GPU warning) and the case this process runs next; on an item's stash: its case's
properties, until its call report carries them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from editbench.settings import Settings

SETTINGS = pytest.StashKey[Settings]()
CASE_PROPERTIES = pytest.StashKey[list]()
RUN_DIR = pytest.StashKey[Path]()
SHARD = pytest.StashKey[tuple]()
ENDPOINT = pytest.StashKey[dict]()
GPU_WARNING = pytest.StashKey[str]()
NEXT_CASE = pytest.StashKey["Case | None"]()
