"""The benchmark: one test per suite case (parametrized by the editbench plugin)."""

from __future__ import annotations

import pytest


def test_edit(eb_case, eb_runner, eb_record):
    outcome = eb_runner.run(eb_case)
    eb_record(outcome.properties())
    if outcome.failed:
        pytest.fail(f"{eb_case.test_id}: {outcome.status}: {outcome.reason}", pytrace=False)
