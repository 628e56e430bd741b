"""Registers the editbench plugin when the package is importable but not installed."""

pytest_plugins = ["editbench.plugin"]
