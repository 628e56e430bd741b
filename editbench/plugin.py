"""The editbench pytest plugin: options, ini keys, markers, hooks and the benchmark's fixtures.

Active only when a run config is named (`--eb-config` or the `eb_config` ini key), so the
harness's own test suite and unrelated projects are untouched. Each hook here is a few lines;
what they call lives in `configure` (settings, markers, the controller's set-up, the header),
`fixtures` (the benchmark's fixtures, imported here so that pytest finds them),
`progress_reporter` and `stash` (the keys of the session's state on pytest's objects).

The life of a case, from collection to `report.html`:

1. `pytest_configure` (the controller and every xdist worker; `configure.configure_run`):
   `settings.load_settings` reads and checks the config, the suite and the judge section once.
   The controller alone creates a `controller.Controller` and registers it as a plugin; at
   `pytest_sessionstart`, if cases will run, it starts or adopts the judge endpoint in service
   mode (`judging.launch.prepare`), then creates the run folder and run.json (`Controller.start`).
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
   `progress_reporter.ProgressReporter` updates the progress line (`progress.Progress`) and, with `--junitxml`,
   `reporting.junit.JunitHooks` writes the case's scores into its testcase's `<system-out>`.
5. `Controller.pytest_sessionfinish`: `reporting.summary.summarize`, the `--eb-fail-under`
   gate (`reporting.gate`), then `reporting.rundir.write_reports` (summary.json/.csv,
   report.md, report.html by `reporting.gallery`), the completed run.json and the JUnit suite
   properties; `Controller.pytest_terminal_summary` prints the table.

Before all of it, the controller's `pytest_configure` stops a run in which pytest lost the
checkout's pytest.ini (`invocation`: the rootdir trap).
"""

from __future__ import annotations

import pytest

from editbench import invocation
from editbench.cases import marker_name
from editbench.configure import check_invocation, config_path, configure_run, header_lines
from editbench.devices import gpu_groups, parse_gpu_list, visible_gpus
from editbench.errors import EditbenchError
from editbench.fixtures import (  # noqa: F401 - pytest finds the eb_* fixtures in this namespace
    case_of,
    eb_case,
    eb_editor,
    eb_judge,
    eb_record,
    eb_run_dir,
    eb_runner,
    eb_settings,
    eb_worker,
)
from editbench.progress import MODES
from editbench.reporting.records import PROPERTIES_ATTRIBUTE
from editbench.shard import shard_cases
from editbench.stash import CASE_PROPERTIES, ENDPOINT, NEXT_CASE, RUN_DIR, SETTINGS, SHARD


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


# -- configure: settings everywhere, the controller on the controller (configure.py) -------------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    path = config_path(config)
    if not hasattr(config, "workerinput"):
        check_invocation(config, path)
    if path is not None:
        configure_run(config, path)


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
    return header_lines(config)


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


# -- running: the worker's next case, for editing it ahead (overlap); the case's properties -----


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Remember the case this process runs next (pytest's `nextitem`; under xdist the worker's
    queue): `-k`, `-m`, `--lf` and `--eb-shard` already left out what will not run."""
    item.config.stash[NEXT_CASE] = case_of(nextitem)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """The call report carries the case's properties (they cross xdist with it)."""
    report = yield
    properties = item.stash.get(CASE_PROPERTIES, None)
    if call.when == "call" and properties is not None:
        setattr(report, PROPERTIES_ATTRIBUTE, properties)
    return report
