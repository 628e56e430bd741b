"""The editbench pytest plugin: options, ini keys, markers, hooks and the benchmark's fixtures.

Active only when a run config is named (`--eb-config` or the `eb_config` ini key), so the
harness's own test suite and unrelated projects are untouched.

The life of a case, from collection to `report.html`:

1. `pytest_configure` (the controller and every xdist worker): `settings.load_settings` reads
   and checks the config, the suite and the judge section once. The controller alone creates a
   `controller.Controller` and registers it as a plugin; at `pytest_sessionstart`, if cases will
   run, it starts or adopts the judge endpoint in service mode (`judging.launch.prepare`), then
   creates the run folder and run.json (`Controller.start`).
2. `pytest_generate_tests`: one `test_edit[<test id>]` per case of the suite, marked with its
   category's names and its tags (`-m physical`); `pytest_collection_modifyitems` adds the
   keywords for `-k 物理` and keeps only `--eb-shard`'s cases (`shard.shard_cases`).
3. `benchmarks/test_edit.py::test_edit` asks for `eb_runner`: once per worker the editor
   (`editors.create`) and the judge (`judging.modes.open_judge`) are opened; then
   `runner.CaseRunner.run(case)` edits (or takes the edit from the cache), saves the PNGs,
   scores through `judging.scoring.Scorer`, and returns a `CaseOutcome`, whose properties the
   test records (`eb_record`: they ride on the call report, `pytest_runtest_makereport`)
   before passing or failing. While it scores, the worker's next case
   (`pytest_runtest_protocol`'s `nextitem`) is already being edited (`overlap`).
4. On the controller, `Controller.pytest_runtest_logreport` turns the report into a record
   (`reporting.records.record_from_report`) and appends it to `results.jsonl`; the
   `ProgressReporter` updates the progress line (`progress.Progress`) and, with `--junitxml`,
   `reporting.junit.JunitHooks` writes the case's scores into its testcase's `<system-out>`.
5. `Controller.pytest_sessionfinish`: `reporting.summary.summarize`, the `--eb-fail-under`
   gate (`reporting.gate`), then `reporting.rundir.write_reports` (summary.json/.csv,
   report.md, report.html by `reporting.gallery`), the completed run.json and the JUnit suite
   properties; `Controller.pytest_terminal_summary` prints the table.

Before all of it, the controller's `pytest_configure` stops a run in which pytest lost the
checkout's pytest.ini (`invocation`: the rootdir trap).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from editbench import editors, invocation, overlap
from editbench.cache import Cache
from editbench.cases import Case, marker_name
from editbench.controller import Controller, runs_cases
from editbench.devices import gpu_groups, parse_gpu_list, unseen_gpus, visible_gpus, worker_specs
from editbench.errors import EditbenchError
from editbench.judging import WorkerInfo, modes
from editbench.progress import MODES, Progress, Throttle, choose_mode
from editbench.reporting.junit import JunitHooks, keeps_testcase_properties
from editbench.reporting.records import PROPERTIES_ATTRIBUTE
from editbench.reporting.rundir import new_run_dir
from editbench.runner import CaseRunner
from editbench.settings import Settings, load_settings
from editbench.shard import parse_shard, shard_cases

SETTINGS = pytest.StashKey[Settings]()
CASE_PROPERTIES = pytest.StashKey[list]()
RUN_DIR = pytest.StashKey[Path]()
SHARD = pytest.StashKey[tuple]()
ENDPOINT = pytest.StashKey[dict]()
GPU_WARNING = pytest.StashKey[str]()
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
        help="override a config value, e.g. --eb-set=editor.steps=4 (repeatable)",
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
        "--eb-shard", metavar="K/N", help="run only shard K of N (balanced, chosen by case id)"
    )
    group.addoption(
        "--eb-progress",
        choices=MODES,
        default="auto",
        help="live progress: one line rewritten in place (line), plain lines (log) or none (off); "
        "auto: line on a terminal, log otherwise, off with -q",
    )
    group.addoption(
        "--eb-progress-interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="log mode: at most one progress line per SECONDS (default 30)",
    )
    parser.addini(
        "eb_config", "run config used when --eb-config is not given (relative to the ini file)"
    )


def pytest_load_initial_conftests(early_config, parser: pytest.Parser, args: list[str]) -> None:
    """A mistyped `--eb-*` option stops with the closest real one, before pytest's bare
    `unrecognized arguments` (this plugin's options are registered by now: it is an entry point)."""
    groups = [
        getattr(parser, "_anonymous", None),
        *getattr(parser, "_groups", ()),
    ]  # no public list
    known = [name for g in groups if g is not None for o in g.options for name in o.names()]
    problem = invocation.unknown_options([str(a) for a in args], known)
    if problem:
        raise pytest.UsageError(problem)


# -- configure: settings everywhere, the controller on the controller ----------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    path = config_path(config)
    if not hasattr(config, "workerinput"):
        _check_invocation(config, path)
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


def _check_invocation(config: pytest.Config, path: str | None) -> None:
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


class ProgressReporter:
    """Controller only: the run's progress line (editbench.progress) on pytest's terminal, fed
    with the controller's records as cases finish, serially or under xdist.

    Where pytest would print a letter per case (no -v), the line stands for the cases instead:
    their letters and the file name before them are left out, so nothing else shares its line.
    """

    def __init__(self, controller: Controller, requested: str, interval: float) -> None:
        self.controller, self.requested = controller, requested
        self.progress = Progress(started=time.monotonic())
        self.throttle = Throttle(interval)
        self.mode, self.terminal, self.replaces_letters = "off", None, False
        self.seen, self.shown = 0, -1  # records taken in; `done` when a log line was last written

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.progress.started = time.monotonic()
        self.terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if self.terminal is None:
            return
        isatty = self.terminal.isatty  # a bool in older pytest, callable in newer
        verbosity = session.config.option.verbose
        self.mode = choose_mode(
            self.requested, isatty() if callable(isatty) else bool(isatty), verbosity
        )
        self.replaces_letters = self.mode == "line" or (self.mode == "log" and verbosity <= 0)
        if self.replaces_letters:
            self.terminal.showfspath = False

    @pytest.hookimpl(trylast=True)  # after the controller counted the selected cases
    def pytest_collection_finish(self) -> None:
        self._expect()

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_xdist_node_collection_finished(self) -> None:
        self._expect()

    def _expect(self) -> None:
        if self.controller.selected is not None:  # this session's cases, not a continued run's
            self.progress.total = len(self.controller.selected)

    @pytest.hookimpl(trylast=True)  # after the controller turned the report into a record
    def pytest_runtest_logreport(self) -> None:
        arrived = self.controller.arrived
        if self.seen == len(arrived):
            return
        for record in arrived[self.seen :]:
            self.progress.add(record)
        self.seen = len(arrived)
        self._show(final=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport):
        result = yield
        if self.replaces_letters and "::test_edit[" in report.nodeid:
            return result[0], "", ""  # the category still counts in pytest's summary
        return result

    def pytest_sessionfinish(self) -> None:
        self._show(final=True)

    def _show(self, final: bool) -> None:
        if self.mode == "off" or not self.progress.done:
            return
        now = time.monotonic()
        complete = self.progress.done == self.progress.total
        if self.mode == "line":
            if final and complete:
                return  # its last line already says "done in"
            width = self.terminal._tw.fullwidth - 1  # a wrapped line could not be rewritten
            self.terminal.rewrite(self.progress.line(now, final, width), erase=True)
            self.terminal.flush()
            self.terminal.currentfspath = -2  # pytest's mark of a taken line: others start below
            return
        # the last line is written unless it already was (a log line at most every N seconds)
        due = (
            not (complete and self.shown == self.progress.done) if final else self.throttle.due(now)
        )
        if due:
            self.terminal.write_line(self.progress.line(now, final))
            self.shown = self.progress.done


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
    kept = shard_cases(current.suite.cases, shard)
    deselected = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "eb_case" not in callspec.params:
            continue
        case = cases[callspec.params["eb_case"]]
        item.extra_keyword_matches.update({case.category.key, *case.category.names, case.id})
        if case.id not in kept:
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
        eb_settings.config, eb_settings.protocol, eb_worker, pytestconfig.stash.get(ENDPOINT, None)
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
        eb_settings.languages,
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


@pytest.fixture
def eb_record(request: pytest.FixtureRequest):
    """Records a case's properties: on its call report for the controller's record, and as
    user_properties where the JUnit family allows per-testcase properties (not xunit2)."""

    def record(properties: list[tuple[str, object]]) -> None:
        request.node.stash[CASE_PROPERTIES] = list(properties)
        if keeps_testcase_properties(request.config):
            request.node.user_properties.extend(properties)

    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """The call report carries the case's properties (they cross xdist with it)."""
    report = yield
    properties = item.stash.get(CASE_PROPERTIES, None)
    if call.when == "call" and properties is not None:
        setattr(report, PROPERTIES_ATTRIBUTE, properties)
    return report
