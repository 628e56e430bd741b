"""The benchmark: one test per suite case (parametrized by the editbench plugin)."""

from __future__ import annotations

import pytest


def test_edit(eb_case, eb_runner, record_property):
    outcome = eb_runner.run(eb_case)
    for name, value in outcome.properties():
        record_property(name, value)
    if outcome.failed:
        pytest.fail(f"{eb_case.test_id}: {outcome.status}: {outcome.reason}", pytrace=False)
