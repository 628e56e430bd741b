"""Bootstrap statistics: exact descriptive values, fixed-seed intervals, paired and stratified CIs."""

from __future__ import annotations

import statistics

import pytest

from editbench.reporting import stats

VALUES = [3.0, 4.0, 4.5, 6.0, 7.0, 7.5, 8.0, 9.0]


def test_describe_matches_the_statistics_module():
    out = stats.describe(VALUES)
    assert out["n"] == 8
    assert out["mean"] == pytest.approx(statistics.fmean(VALUES))
    assert out["std"] == pytest.approx(statistics.stdev(VALUES))
    assert out["median"] == pytest.approx(statistics.median(VALUES))
    assert (out["min"], out["max"]) == (3.0, 9.0)
    assert out["ci_low"] < out["mean"] < out["ci_high"]
    assert 3.0 <= out["ci_low"] and out["ci_high"] <= 9.0


def test_empty_and_single_values():
    assert stats.describe([]) == {"n": 0}
    one = stats.describe([5.0])
    assert (one["mean"], one["std"], one["ci_low"], one["ci_high"]) == (5.0, 0.0, 5.0, 5.0)


def test_interval_is_reproducible_and_depends_on_the_seed():
    values = [1.1, 2.37, 3.05, 4.91, 5.5, 6.23, 7.77, 8.01, 9.3]
    assert stats.bootstrap_ci(values) == stats.bootstrap_ci(values)
    assert stats.bootstrap_ci(values, seed=stats.SEED + 1) != stats.bootstrap_ci(values)


def test_interval_narrows_with_more_cases():
    low_small, high_small = stats.bootstrap_ci(VALUES)
    low_big, high_big = stats.bootstrap_ci(VALUES * 25)
    assert high_big - low_big < (high_small - low_small) / 3


def test_chunked_resampling_handles_many_cases():
    values = [float(i % 11) for i in range(5000)]
    low, high = stats.bootstrap_ci(values, resamples=1000)
    assert low < statistics.fmean(values) < high


def test_paired_interval_of_a_constant_shift_is_the_shift():
    after = [v - 1.5 for v in VALUES]
    assert stats.paired_bootstrap_ci(VALUES, after) == pytest.approx((-1.5, -1.5))
    with pytest.raises(ValueError):
        stats.paired_bootstrap_ci(VALUES, after[:-1])


def test_paired_interval_is_narrower_than_unpaired_for_correlated_scores():
    after = [v + (0.5 if i % 2 else -0.2) for i, v in enumerate(VALUES)]
    low, high = stats.paired_bootstrap_ci(VALUES, after)
    assert low < statistics.fmean(after) - statistics.fmean(VALUES) < high
    a_low, a_high = stats.bootstrap_ci(VALUES)
    assert high - low < a_high - a_low


def test_stratified_interval_brackets_the_macro_mean():
    groups = [[2.0, 3.0, 4.0], [8.0, 9.0, 9.5, 7.0, 8.5, 9.0, 8.0]]
    macro = statistics.fmean([statistics.fmean(g) for g in groups])
    low, high = stats.stratified_bootstrap_ci(groups)
    assert low < macro < high
    assert stats.stratified_bootstrap_ci([[6.0], [8.0]]) == pytest.approx((7.0, 7.0))
