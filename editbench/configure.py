"""What the plugin's `pytest_configure` does, and the header lines that report it.

In every process: the run config's path (`--eb-config`, else the `eb_config` ini key), the
settings read and checked once, the shard, and the markers of the suite's categories and tags.
On the controller alone: the rootdir trap (`invocation`), the run folder's path, GPU pinning of
the workers, and the controller's plugins (`Controller`, `ProgressReporter`, the JUnit and
pytest-html hooks). A worker takes the run folder and the judge endpoint from its workerinput.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from editbench import invocation
from editbench.cases import marker_name
from editbench.controller import Controller, runs_cases
from editbench.devices import parse_gpu_list, unseen_gpus, visible_gpus, worker_specs
from editbench.errors import EditbenchError
from editbench.progress_reporter import ProgressReporter
from editbench.reporting.junit import JunitHooks
from editbench.reporting.rundir import new_run_dir
from editbench.settings import Settings, load_settings
from editbench.shard import parse_shard
from editbench.stash import ENDPOINT, GPU_WARNING, RUN_DIR, SETTINGS, SHARD


def configure_run(config: pytest.Config, path: str) -> None:
    """Settings, shard and markers in every process; the run folder and endpoint (from the
    controller) on a worker; the controller's set-up on the controller. A config problem stops
    pytest with one line."""
    try:
        current = load_settings(
            path,
            config.getoption("eb_set"),
            config.getoption("eb_gpus"),
            config.getoption("eb_gpus_per_worker"),
        )
        config.stash[SHARD] = parse_shard(config.getoption("eb_shard"))
        config.stash[SETTINGS] = current
        _register_markers(config, current)
        if hasattr(config, "workerinput"):
            config.stash[RUN_DIR] = Path(config.workerinput["eb_run_dir"])
            config.stash[ENDPOINT] = config.workerinput.get("eb_judge_endpoint")
        else:
            _configure_controller(config, current)
    except EditbenchError as exc:
        raise pytest.UsageError(str(exc)) from None


def config_path(config: pytest.Config) -> str | None:
    """--eb-config, else the ini key resolved against the ini file's folder."""
    option = config.getoption("eb_config")
    if option:
        return option
    ini_value = config.getini("eb_config")
    if not ini_value:
        return None
    base = config.inipath.parent if config.inipath else config.rootpath
    return str(base / ini_value)


def check_invocation(config: pytest.Config, path: str | None) -> None:
    """Stop when pytest lost the checkout's pytest.ini (an option's value after a space that names
    an existing folder) or --eb-* options came without a run config: never run something else."""
    args = [str(arg) for arg in config.invocation_params.args]
    problem = invocation.lost_ini(
        config.invocation_params.dir,
        config.inipath,
        config.rootpath,
        args,
        explicit_ini=bool(config.option.inifilename),
    ) or invocation.options_without_config(args, path is not None, config.inipath, config.rootpath)
    if problem:
        raise pytest.UsageError(problem)


def _configure_controller(config: pytest.Config, current: Settings) -> None:
    """The run folder's path, worker pinning, and the controller plugin.

    Nothing is written here: the controller creates the run folder (and starts the judge service)
    when the session starts and only if cases will run, so `--help`, `--markers`, `--fixtures`
    and `--collect-only` leave no folder behind.
    """
    run_dir = new_run_dir(current.config, config.getoption("eb_run_dir"))
    config.stash[RUN_DIR] = run_dir
    _warn_unseen_gpus(config)
    _pin_workers(config, current)
    controller = Controller(
        current,
        run_dir,
        fail_under=config.getoption("eb_fail_under"),
        shard=config.getoption("eb_shard"),
        start_service=lambda: _start_service(config, current, run_dir),
    )
    config.add_cleanup(controller.close)
    config.pluginmanager.register(controller, "editbench.controller")
    progress = ProgressReporter(
        controller, config.getoption("eb_progress"), config.getoption("eb_progress_interval")
    )
    config.pluginmanager.register(progress, "editbench.progress")
    if config.option.xmlpath:
        config.pluginmanager.register(JunitHooks(config), "editbench.junit")
    if config.pluginmanager.hasplugin("html"):
        from editbench.reporting.pytest_html import HtmlReportHooks

        config.pluginmanager.register(HtmlReportHooks(run_dir), "editbench.html")


def _warn_unseen_gpus(config: pytest.Config) -> None:
    """`--eb-gpus` naming GPUs this machine does not show: a warning, in the header and summary."""
    requested = parse_gpu_list(config.getoption("eb_gpus"))
    warning = unseen_gpus(requested, visible_gpus()) if requested else None
    if warning:
        config.stash[GPU_WARNING] = warning
        config.issue_config_time_warning(pytest.PytestConfigWarning(warning), stacklevel=2)


def _register_markers(config: pytest.Config, current: Settings) -> None:
    names = {}
    for category in current.suite.categories:
        for name in (category.key, *category.names):
            names[marker_name(name)] = f"cases of category {category.display} ({category.key})"
    for case in current.suite.cases:
        for tag in case.tags:
            names.setdefault(marker_name(tag), f"cases tagged {tag}")
    for name, description in names.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def _pin_workers(config: pytest.Config, current: Settings) -> None:
    """Give each xdist worker its GPU group through its spawn spec (or pin this process)."""
    tx = getattr(config.option, "tx", None)
    if tx and all(spec == "popen" for spec in tx):
        config.option.tx = worker_specs(len(tx), current.groups)
    elif not tx and current.groups:
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(current.groups[0])
        os.environ.setdefault("EDITBENCH_SLOT", "0")


def _start_service(config: pytest.Config, current: Settings, run_dir: Path):
    """judge.mode service: start the run's one judge server (or adopt judge.url) before workers spawn."""
    judge = current.config.judge
    if judge.mode != "service" or judge.backend == "none":
        return None
    from editbench.judging import launch

    endpoint, server = launch.prepare(current.config, run_dir)
    if server is not None:
        config.add_cleanup(server.stop)  # however pytest ends
    config.stash[ENDPOINT] = dataclasses.asdict(endpoint)
    return endpoint


def header_lines(config: pytest.Config) -> list[str]:
    """pytest's header: the config, suite, editor, judge, run folder and GPUs of this run."""
    current = config.stash.get(SETTINGS, None)
    if current is None:
        return []
    cfg, suite = current.config, current.suite
    counts = ", ".join(f"{c.display} {suite.counts()[c.key]}" for c in suite.categories)
    lines = [
        f"editbench: config {cfg.source}",
        f"editbench: suite {suite.name} {suite.version} ({len(suite.cases)} cases: {counts})",
        f"editbench: editor {cfg.editor.backend} {cfg.editor.model or ''}".rstrip(),
        f"editbench: judge {cfg.judge.backend} {cfg.judge.model or ''} ({cfg.judge.method})",
        f"editbench: run folder {config.stash[RUN_DIR]}"
        + ("" if runs_cases(config) else " (not created: no case runs)"),
    ]
    if config.stash.get(GPU_WARNING, None):
        lines.append(f"editbench: WARNING {config.stash[GPU_WARNING]}")
    if current.groups:
        lines.append(
            f"editbench: GPUs {', '.join(','.join(g) for g in current.groups)} (one group per worker)"
        )
    else:
        lines.append("editbench: no GPU visible: editor and judge run on CPU")
    return lines
