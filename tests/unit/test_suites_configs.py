"""The example configs of the published benchmarks: valid run configs, each naming its own format
and protocol."""

from __future__ import annotations

import pytest

from editbench.config import load_config
from support import REPO

BENCHMARKS = ["gedit", "imgedit", "kris", "rise"]


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_config_is_valid_and_names_its_format(name):
    path = REPO / "benchmarks" / f"{name}.yaml"
    config = load_config(path)
    assert config.suite.format == name
    assert config.judge.protocol == name  # scored as the benchmark scores itself
    text = path.read_text(encoding="utf-8")
    assert f"--layout {name}" in text and f"--eb-config=benchmarks/{name}.yaml" in text
