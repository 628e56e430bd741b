"""The benchmark's fixtures: settings, editor and judge loaded once per worker, the case runner.

The plugin imports them (pytest finds a plugin's fixtures in its namespace). `eb_runner` edits the
worker's next case ahead (`overlap`) while this one is judged; `case_of` names that case, from
pytest's `nextitem` (the plugin's `pytest_runtest_protocol` keeps it under `NEXT_CASE`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from editbench import editors, overlap
from editbench.cache import Cache
from editbench.cases import Case
from editbench.judging import WorkerInfo, modes
from editbench.reporting.junit import keeps_testcase_properties
from editbench.runner import CaseRunner
from editbench.settings import Settings
from editbench.stash import CASE_PROPERTIES, ENDPOINT, NEXT_CASE, RUN_DIR, SETTINGS


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


def case_of(item: pytest.Item | None) -> Case | None:
    """The case a test item runs (None without an item, or for a test that is not `test_edit`)."""
    current = item.config.stash.get(SETTINGS, None) if item is not None else None
    callspec = getattr(item, "callspec", None)
    if current is None or callspec is None or "eb_case" not in callspec.params:
        return None
    return current.suite.by_test_id.get(callspec.params["eb_case"])


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
