"""Registers the editbench plugin when the package is importable but not installed; keeps the
harness's own tests (tests/) out of benchmark runs."""

pytest_plugins = ["editbench.plugin"]

# The harness's own tests run from their own ini (`pytest -c tests/pytest.ini tests`, or any
# `pytest tests/...`, which finds tests/pytest.ini first); then this file is not even loaded. It
# is loaded when a run starts from this folder, and then tests/ is never collected, even if an
# argument made pytest lose pytest.ini (the plugin stops such a run with its cause first).
collect_ignore = ["tests"]
