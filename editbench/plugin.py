"""The editbench pytest plugin: options, ini keys, markers, hooks and the benchmark's fixtures.

Active only when a run config is named (`--eb-config` or the `eb_config` ini key), so the
harness's own test suite and unrelated projects are untouched.

The life of a case, from collection to `report.html`:

1. `pytest_configure` (the controller and every xdist worker): `settings.load_settings` reads
   and checks the config, the suite and the judge section once. The controller alone creates a
   `controller.Controller` (run folder, run.json) and registers it as a plugin; in service mode
   it first starts or adopts the judge endpoint (`judging.launch.prepare`).
2. `pytest_generate_tests`: one `test_edit[<test id>]` per case of the suite, marked with its
   category's names and its tags (`-m physical`); `pytest_collection_modifyitems` adds the
   keywords for `-k 物理` and keeps only `--eb-shard`'s cases (`shard.in_shard`).
3. `benchmarks/test_edit.py::test_edit` asks for `eb_runner`: once per worker the editor
   (`editors.create`) and the judge (`judging.modes.open_judge`) are opened; then
   `runner.CaseRunner.run(case)` edits (or takes the edit from the cache), saves the PNGs,
   scores through `judging.scoring.Scorer`, and returns a `CaseOutcome`, whose properties the
   test records (`record_property`) before passing or failing. While it scores, the worker's
   next case (`pytest_runtest_protocol`'s `nextitem`) is already being edited (`overlap`).
4. On the controller, `Controller.pytest_runtest_logreport` turns the report into a record
   (`reporting.records.record_from_report`) and appends it to `results.jsonl`.
5. `Controller.pytest_sessionfinish`: `reporting.summary.summarize`, the `--eb-fail-under`
   gate (`reporting.gate`), then `reporting.rundir.write_reports` (summary.json/.csv,
   report.md, report.html by `reporting.gallery`) and the completed run.json;
   `Controller.pytest_terminal_summary` prints the table.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from editbench import editors, overlap
from editbench.cache import Cache
from editbench.cases import Case, marker_name
from editbench.controller import Controller, new_run_dir
from editbench.devices import gpu_groups, parse_gpu_list, visible_gpus, worker_specs
from editbench.errors import EditbenchError
from editbench.judging import WorkerInfo, modes
from editbench.runner import CaseRunner
from editbench.settings import Settings, load_settings
from editbench.shard import in_shard, parse_shard

SETTINGS = pytest.StashKey[Settings]()
RUN_DIR = pytest.StashKey[Path]()
SHARD = pytest.StashKey[tuple]()
ENDPOINT = pytest.StashKey[dict]()
NEXT_CASE = pytest.StashKey["Case | None"]()


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


# -- configure: settings everywhere, the controller on the controller ----------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    path = config_path(config)
    if path is None:
        return
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


def _configure_controller(config: pytest.Config, current: Settings) -> None:
    """The run folder, worker pinning and, unless only collecting, the judge service and the controller."""
    run_dir = new_run_dir(current.config, config.getoption("eb_run_dir"))
    config.stash[RUN_DIR] = run_dir
    _pin_workers(config, current)
    if config.getoption("collectonly"):
        return
    endpoint = _start_service(config, current, run_dir)
    controller = Controller(
        current,
        run_dir,
        fail_under=config.getoption("eb_fail_under"),
        shard=config.getoption("eb_shard"),
    )
    controller.start()
    config.add_cleanup(controller.close)
    if endpoint is not None:
        controller.record_endpoint(endpoint.public())
    config.pluginmanager.register(controller, "editbench.controller")
    if config.pluginmanager.hasplugin("html"):
        from editbench.reporting.pytest_html import HtmlReportHooks

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


# -- xdist ---------------------------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before xdist's own CPU count
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: one worker per GPU group (None lets xdist count CPUs when there is no GPU)."""
    try:
        chosen = parse_gpu_list(config.getoption("eb_gpus"))
        chosen = visible_gpus() if chosen is None else chosen
        groups = gpu_groups(chosen, config.getoption("eb_gpus_per_worker"))
    except EditbenchError as exc:
        raise pytest.UsageError(str(exc)) from None
    return len(groups) or None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Each worker learns the run folder and the judge endpoint the controller chose."""
    run_dir = node.config.stash.get(RUN_DIR, None)
    if run_dir is not None:
        node.workerinput["eb_run_dir"] = str(run_dir)
    endpoint = node.config.stash.get(ENDPOINT, None)
    if endpoint is not None:
        node.workerinput["eb_judge_endpoint"] = endpoint


# -- collection ----------------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str]:
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
        f"editbench: run folder {config.stash[RUN_DIR]}",
    ]
    if current.groups:
        lines.append(
            f"editbench: GPUs {', '.join(','.join(g) for g in current.groups)} (one group per worker)"
        )
    else:
        lines.append("editbench: no GPU visible: editor and judge run on CPU")
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per case, marked with its category's names and its tags."""
    if "eb_case" not in metafunc.fixturenames:
        return
    current = metafunc.config.stash.get(SETTINGS, None)
    if current is None:
        raise pytest.UsageError(
            "test_edit needs a run config: pass --eb-config=PATH or set eb_config in pytest.ini"
        )
    params = []
    for case in current.suite.cases:
        names = {case.category.key, *case.category.names, *case.tags}
        marks = [getattr(pytest.mark, marker_name(name)) for name in sorted(names)]
        params.append(pytest.param(case.test_id, id=case.test_id, marks=marks))
    metafunc.parametrize("eb_case", params, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keywords for `-k` (category key and names, case id); keep only this shard's cases."""
    current = config.stash.get(SETTINGS, None)
    if current is None:
        return
    cases, shard = current.suite.by_test_id, config.stash.get(SHARD, None)
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


# -- running: the worker's next case, for editing it ahead (overlap) ----------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Remember the case this process runs next (pytest's `nextitem`; under xdist the worker's
    queue): `-k`, `-m`, `--lf` and `--eb-shard` already left out what will not run."""
    item.config.stash[NEXT_CASE] = _case_of(nextitem)


def _case_of(item: pytest.Item | None) -> Case | None:
    current = item.config.stash.get(SETTINGS, None) if item is not None else None
    callspec = getattr(item, "callspec", None)
    if current is None or callspec is None or "eb_case" not in callspec.params:
        return None
    return current.suite.by_test_id.get(callspec.params["eb_case"])


# -- fixtures: settings, editor and judge loaded once per worker, the runner ---------------------


@pytest.fixture(scope="session")
def eb_settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def eb_run_dir(pytestconfig: pytest.Config) -> Path:
    return pytestconfig.stash[RUN_DIR]


@pytest.fixture(scope="session")
def eb_worker(pytestconfig: pytest.Config) -> WorkerInfo:
    """This process's slot (from its spawn spec) and the GPUs it sees."""
    worker_id = getattr(pytestconfig, "workerinput", {}).get("workerid", "controller")
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    gpus = [g for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    return WorkerInfo(index=int(os.environ.get("EDITBENCH_SLOT", "0")), id=worker_id, gpus=gpus)


@pytest.fixture(scope="session")
def eb_editor(eb_settings: Settings):
    start = time.perf_counter()
    editor = editors.create(eb_settings.config, eb_settings.config.editor.device)
    editor.load_s = time.perf_counter() - start
    return editor


@pytest.fixture(scope="session")
def eb_judge(pytestconfig: pytest.Config, eb_settings: Settings, eb_worker: WorkerInfo):
    judge = modes.open_judge(
        eb_settings.config, eb_settings.suite, eb_worker, pytestconfig.stash.get(ENDPOINT, None)
    )
    yield judge
    judge.close()


@pytest.fixture(scope="session")
def eb_runner(
    pytestconfig: pytest.Config, eb_settings: Settings, eb_editor, eb_judge, eb_run_dir: Path
) -> Iterator[CaseRunner]:
    config = eb_settings.config
    cache = Cache(config.resolve(config.run.cache_dir) if config.run.cache else None)
    runner = CaseRunner(
        config,
        eb_editor,
        eb_judge,
        eb_run_dir,
        cache,
        eb_settings.language,
        overlap=overlap.enabled(
            config.run.overlap,
            pytestconfig.getoption("maxfail"),
            getattr(pytestconfig.option, "stepwise", False),
        ),
        upcoming=lambda: pytestconfig.stash.get(NEXT_CASE, None),
    )
    yield runner
    runner.close()


@pytest.fixture
def eb_case(request: pytest.FixtureRequest, eb_settings: Settings) -> Case:
    return eb_settings.suite.by_test_id[request.param]
