"""What the plugin's hooks do, kept apart from their declarations in plugin.py.

Settings are loaded and validated once per process in `configure` (controller and each xdist
worker alike); the controller alone owns the run folder and the live results file.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from editbench.cases import marker_name
from editbench.devices import gpu_groups, parse_gpu_list, visible_gpus, worker_specs
from editbench.errors import EditbenchError
from editbench.reporting.gallery import pytest_html_cells
from editbench.reporting.records import record_from_report
from editbench.session import Controller, Settings, load_settings, new_run_dir
from editbench.shard import in_shard, parse_shard

SETTINGS = pytest.StashKey[Settings]()
CONTROLLER = pytest.StashKey[Controller]()
RUN_DIR = pytest.StashKey[Path]()
SHARD = pytest.StashKey[tuple]()
ENDPOINT = pytest.StashKey[dict]()


def settings(config: pytest.Config) -> Settings | None:
    return config.stash.get(SETTINGS, None)


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


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


def configure(config: pytest.Config) -> None:
    path = config_path(config)
    if path is None:
        return
    current = load_settings(
        path,
        config.getoption("eb_set"),
        config.getoption("eb_gpus"),
        config.getoption("eb_gpus_per_worker"),
    )
    config.stash[SETTINGS] = current
    shard_text = config.getoption("eb_shard")
    config.stash[SHARD] = parse_shard(shard_text)
    _register_markers(config, current)
    if not is_controller(config):
        config.stash[RUN_DIR] = Path(config.workerinput["eb_run_dir"])
        _adopt_endpoint(current, config.workerinput.get("eb_judge_endpoint"))
        return
    run_dir = new_run_dir(current.config, config.getoption("eb_run_dir"))
    config.stash[RUN_DIR] = run_dir
    _pin_workers(config, current)
    if not config.getoption("collectonly"):
        endpoint = _start_service(config, current, run_dir)
        controller = Controller(
            current, run_dir, fail_under=config.getoption("eb_fail_under"), shard=shard_text
        )
        controller.start()
        if endpoint is not None:
            _record_endpoint(controller, run_dir, endpoint)
        config.stash[CONTROLLER] = controller
        config.pluginmanager.register(ControllerHooks(controller), "editbench.controller")
        if config.pluginmanager.hasplugin("html"):
            config.pluginmanager.register(HtmlReportHooks(run_dir), "editbench.html")


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


def auto_workers(config: pytest.Config) -> int | None:
    """`-n auto`: one worker per GPU group (None lets xdist count CPUs when there is no GPU)."""
    try:
        chosen = parse_gpu_list(config.getoption("eb_gpus"))
        chosen = visible_gpus() if chosen is None else chosen
        groups = gpu_groups(chosen, config.getoption("eb_gpus_per_worker"))
    except EditbenchError as exc:
        raise pytest.UsageError(str(exc)) from None
    return len(groups) or None


def configure_node(node) -> None:
    run_dir = node.config.stash.get(RUN_DIR, None)
    if run_dir is not None:
        node.workerinput["eb_run_dir"] = str(run_dir)
    endpoint = node.config.stash.get(ENDPOINT, None)
    if endpoint is not None:
        node.workerinput["eb_judge_endpoint"] = endpoint


def _start_service(config: pytest.Config, current: Settings, run_dir: Path) -> dict | None:
    """judge.mode service: start the run's one judge server (or adopt judge.url) before workers spawn."""
    judge = current.config.judge
    if judge.mode != "service" or judge.backend == "none":
        return None
    from editbench.judging import serve, service

    endpoint, server = serve.prepare(current.config, run_dir)
    data = dataclasses.asdict(endpoint)
    service.use_endpoint(data)
    config.stash[ENDPOINT] = data
    if server is not None:
        config.pluginmanager.register(ServiceHooks(server), "editbench.service")
    return data


def _adopt_endpoint(current: Settings, data: dict | None) -> None:
    if current.config.judge.mode == "service" and data:
        from editbench.judging import service

        service.use_endpoint(data)


def _record_endpoint(controller: Controller, run_dir: Path, data: dict) -> None:
    """run.json names the endpoint (model id, revision, engine and version, pid, loopback), never the key."""
    from editbench.judging.serve import Endpoint
    from editbench.reporting.rundir import RUN_META
    from editbench.reporting.runmeta import write_json

    controller.meta["judge"] = {**controller.meta["judge"], "service": Endpoint(**data).public()}
    write_json(run_dir / RUN_META, controller.meta)


class ServiceHooks:
    """Controller only, when it started the judge server: stop it when pytest ends, however it ends."""

    def __init__(self, server) -> None:
        self.server = server

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.server.stop()


def header(config: pytest.Config) -> list[str]:
    current = settings(config)
    if current is None:
        return []
    cfg, suite = current.config, current.suite
    counts = ", ".join(f"{c.display} {current.suite.counts()[c.key]}" for c in suite.categories)
    lines = [
        f"editbench: config {cfg.source}",
        f"editbench: suite {suite.name} {suite.version} ({len(suite.cases)} cases: {counts})",
        f"editbench: editor {cfg.editor.backend} {cfg.editor.model or ''}".rstrip(),
        f"editbench: judge {cfg.judge.backend} {cfg.judge.model or ''} ({cfg.judge.method})",
        f"editbench: run folder {config.stash[RUN_DIR]}",
    ]
    if current.groups:
        lines.append(
            f"editbench: GPUs {', '.join(','.join(g) for g in current.groups)} (one group per worker)"
        )
    else:
        lines.append("editbench: no GPU visible: editor and judge run on CPU")
    return lines


def parametrize(metafunc: pytest.Metafunc) -> None:
    current = settings(metafunc.config)
    if current is None:
        raise pytest.UsageError(
            "test_edit needs a run config: pass --eb-config PATH or set eb_config in pytest.ini"
        )
    params = []
    for case in current.suite.cases:
        names = {case.category.key, *case.category.names, *case.tags}
        marks = [getattr(pytest.mark, marker_name(name)) for name in sorted(names)]
        params.append(pytest.param(case.test_id, id=case.test_id, marks=marks))
    metafunc.parametrize("eb_case", params, indirect=True)


def modify_items(config: pytest.Config, items: list[pytest.Item]) -> None:
    current = settings(config)
    if current is None:
        return
    cases = current.suite.by_test_id
    shard = config.stash.get(SHARD, None)
    deselected = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "eb_case" not in callspec.params:
            continue
        case = cases[callspec.params["eb_case"]]
        item.extra_keyword_matches.update({case.category.key, *case.category.names, case.id})
        if not in_shard(case.id, shard):
            deselected.append(item)
    if deselected:
        # the same pure function decides in the controller and every worker, so they agree
        config.hook.pytest_deselected(items=deselected)
        dropped = set(map(id, deselected))
        items[:] = [item for item in items if id(item) not in dropped]


def case_lookup(current: Settings) -> dict:
    """Test id -> case, also under pytest's ASCII-escaped form of the id.

    Under xdist the controller collects nothing, so it maps report node ids back to cases.
    """
    lookup = {}
    for case in current.suite.cases:
        lookup[case.test_id] = case
        lookup[case.test_id.encode("unicode_escape").decode("ascii")] = case
    return lookup


def param_id(nodeid: str) -> str:
    return nodeid[nodeid.index("[") + 1 : -1] if nodeid.endswith("]") and "[" in nodeid else ""


class ControllerHooks:
    """Registered on the controller only: live results, summaries and the terminal table."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.cases = case_lookup(controller.settings)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        finished = report.when == "call" or (report.when in ("setup", "???") and not report.passed)
        case = self.cases.get(param_id(report.nodeid)) if "::test_edit[" in report.nodeid else None
        if finished and case is not None:
            self.controller.add(record_from_report(report, case))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        session.exitstatus = self.controller.finish(int(exitstatus))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for line in self.controller.summary_lines():
            terminalreporter.write_line(line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.controller.close()


class HtmlReportHooks:
    """With pytest-html and `--html`: its result rows carry the case's scores and thumbnails."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list) -> None:
        cells.insert(2, "<th>editbench scores</th>")
        cells.insert(3, "<th>source / edited</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report, cells: list) -> None:
        scores, thumbs = pytest_html_cells(
            self.run_dir, dict(getattr(report, "user_properties", ()))
        )
        cells.insert(2, f'<td class="col-ebScores">{scores}</td>')
        cells.insert(3, f'<td class="col-ebImages">{thumbs}</td>')
