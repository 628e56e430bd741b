"""Session fixtures of the benchmark: settings, editor and judge loaded once per worker, the runner."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from editbench import editors, judging
from editbench.cache import Cache
from editbench.cases import Case
from editbench.hooks import RUN_DIR, SETTINGS
from editbench.judging import WorkerInfo
from editbench.runner import CaseRunner
from editbench.session import Settings


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
def eb_judge(eb_settings: Settings, eb_worker: WorkerInfo):
    judge = judging.open_judge(eb_settings.config, eb_settings.suite, eb_worker)
    yield judge
    judge.close()


@pytest.fixture(scope="session")
def eb_runner(eb_settings: Settings, eb_editor, eb_judge, eb_run_dir: Path) -> CaseRunner:
    config = eb_settings.config
    cache = Cache(config.resolve(config.run.cache_dir) if config.run.cache else None)
    return CaseRunner(config, eb_editor, eb_judge, eb_run_dir, cache, eb_settings.language)


@pytest.fixture
def eb_case(request: pytest.FixtureRequest, eb_settings: Settings) -> Case:
    return eb_settings.suite.by_test_id[request.param]
