"""Done when: `pytest -n 2 -k 物理` with the tiny judge in its own virtualenv scores every physical case.

Every physical case gets SC, PQ, O and its criterion in [0, 10] (the floor on digit mass is off:
random weights put little probability on score tokens), with the mass recorded, and logit scores
are bit-identical between `-n 1` and `-n 2` (separate caches, so both really score).
"""

from __future__ import annotations

import pytest

from support import read_results, run_bench, tiny_logit_judge, write_config

DIMENSIONS = ("SC", "PQ", "O", "criterion")


def run(tmp_path, name, workers, judge_python, tiny_judge):
    folder = tmp_path / name
    folder.mkdir()
    config = write_config(
        folder,
        judge=tiny_logit_judge(judge_python, tiny_judge),
    )
    result = run_bench(
        config, "-n", str(workers), "-k", "物理", run_dir=folder / "run", timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {r["case_id"]: r for r in read_results(folder / "run")}, result


@pytest.mark.timeout(900)
def test_physical_cases_scored_and_identical_across_worker_counts(
    tmp_path, judge_python, tiny_judge
):
    one, _ = run(tmp_path, "n1", 1, judge_python, tiny_judge)
    two, output = run(tmp_path, "n2", 2, judge_python, tiny_judge)
    assert len(two) == 5 and set(one) == set(two), output.stdout[-2000:]
    for case_id, record in two.items():
        assert record["category"] == "physical"
        assert record["status"] == "ok", record
        for dimension in DIMENSIONS:
            assert record["statuses"][dimension] == "ok", (case_id, dimension)
            assert 0.0 <= record["scores"][dimension] <= 10.0
        for dimension in ("SC", "PQ", "criterion"):  # logit: the probability on score tokens
            assert 0.0 < record["mass"][dimension] <= 1.0
        assert record["scores"] == one[case_id]["scores"], case_id  # bit-identical, -n 1 vs -n 2
    assert len({r["worker"] for r in two.values()}) == 2
