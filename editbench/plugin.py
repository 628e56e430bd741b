"""The editbench pytest plugin: options, ini keys, markers and hooks; bodies call plain functions.

Active only when a run config is named (`--eb-config` or the `eb_config` ini key), so the
harness's own test suite and unrelated projects are untouched.
"""

from __future__ import annotations

import pytest

from editbench import fixtures, hooks
from editbench.errors import EditbenchError


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("editbench", "editbench: image-editing evaluation")
    group.addoption(
        "--eb-config", metavar="PATH", help="run config YAML (default: the eb_config ini key)"
    )
    group.addoption(
        "--eb-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --eb-set editor.steps=4 (repeatable)",
    )
    group.addoption(
        "--eb-gpus",
        metavar="LIST",
        help="GPUs to use, e.g. 0,1,2,3 (default: all visible; 'none' for CPU)",
    )
    group.addoption(
        "--eb-gpus-per-worker", type=int, default=1, metavar="K", help="GPUs per xdist worker"
    )
    group.addoption(
        "--eb-run-dir", metavar="DIR", help="run folder (default: <run.dir>/<timestamp>-<name>)"
    )
    group.addoption(
        "--eb-fail-under",
        action="append",
        default=[],
        metavar="DIM[@CATEGORY]=VALUE",
        help="fail the run when a mean falls below VALUE, e.g. O=6.5 or SC@physical=5",
    )
    group.addoption(
        "--eb-shard", metavar="K/N", help="run only shard K of N (by a hash of the case id)"
    )
    parser.addini(
        "eb_config", "run config used when --eb-config is not given (relative to the ini file)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        hooks.configure(config)
    except EditbenchError as exc:
        raise pytest.UsageError(str(exc)) from None
    if hooks.settings(config) is not None:
        config.pluginmanager.register(fixtures, "editbench.fixtures")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    return hooks.auto_workers(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    hooks.configure_node(node)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return hooks.header(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "eb_case" in metafunc.fixturenames:
        hooks.parametrize(metafunc)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    hooks.modify_items(config, items)
