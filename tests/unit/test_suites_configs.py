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


@pytest.mark.parametrize("name", BENCHMARKS)
def test_every_data_path_of_a_shipped_config_is_explained_in_the_readme(name):
    """The configs read benchmark files under the checkout's data/, which the repository lacks:
    the README says where each one goes, and git ignores the folder."""
    config = load_config(REPO / "benchmarks" / f"{name}.yaml")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for value in (config.suite.path, config.suite.images):
        if value and not value.startswith("hf://"):
            relative = config.resolve(value).relative_to(REPO).as_posix()
            assert relative.startswith("data/") and f"`{relative}" in readme, relative
    assert "data/" in (REPO / ".gitignore").read_text(encoding="utf-8").split()
