"""Descriptive statistics and the floored t interval: exact values, small n, pairs and macro means.

Coverage is checked by simulation in test_intervals.py; here, the arithmetic and the edges.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from scipy import stats as sps

from editbench.reporting import stats
from editbench.vocabulary import Scale

VALUES = [3.0, 4.0, 4.5, 6.0, 7.0, 7.5, 8.0, 9.0]


def test_describe_matches_the_statistics_module_and_the_t_interval():
    out = stats.describe(VALUES)
    assert out["n"] == 8
    assert out["mean"] == pytest.approx(statistics.fmean(VALUES))
    assert out["std"] == pytest.approx(statistics.stdev(VALUES))
    assert out["median"] == pytest.approx(statistics.median(VALUES))
    assert (out["min"], out["max"]) == (3.0, 9.0)
    half = sps.t.ppf(0.975, 7) * statistics.stdev(VALUES) / 8**0.5  # s² is above the floor
    assert (out["ci_low"], out["ci_high"]) == pytest.approx(
        (out["mean"] - half, out["mean"] + half)
    )


def test_below_the_minimum_n_there_is_no_interval():
    assert stats.describe([]) == {"n": 0}
    four = stats.describe([5.0, 6.0, 7.0, 8.0])
    assert four["mean"] == 6.5 and four["ci_low"] is None and four["ci_high"] is None
    assert stats.mean_interval([1.0] * 4) == (None, None)
    assert stats.paired_difference([1.0] * 4, [2.0] * 4) == {
        "delta": 1.0,
        "ci_low": None,
        "ci_high": None,
        "p": None,
    }


def test_equal_scores_get_the_floor_not_a_zero_width_interval():
    low, high = stats.mean_interval([8.0] * 5)
    half = sps.t.ppf(0.975, 4) * (1.0 / 5) ** 0.5  # variance floor 1 point² on 0-10 at n <= 10
    assert (low, high) == pytest.approx((8.0 - half, 8.0 + half))
    assert high - low > 2.0


def test_the_floor_shrinks_beyond_ten_cases_and_scales_with_the_scale():
    assert stats.variance_floor(5) == stats.variance_floor(10) == 1.0
    assert stats.variance_floor(40) == pytest.approx(0.25)
    assert stats.variance_floor(5, Scale(1.0, 5.0)) == pytest.approx(0.16)
    big = stats.mean_interval([8.0] * 400)
    assert big[1] - big[0] < 0.1  # many equal scores: a narrow interval, as it should be


def test_interval_narrows_with_more_cases():
    low_small, high_small = stats.mean_interval(VALUES)
    low_big, high_big = stats.mean_interval(VALUES * 25)
    assert high_big - low_big < (high_small - low_small) / 3


def test_paired_difference_of_a_constant_shift_is_the_shift_with_the_floor():
    after = [v - 1.5 for v in VALUES]
    out = stats.paired_difference(VALUES, after)
    assert out["delta"] == pytest.approx(-1.5)
    assert out["ci_low"] < -1.5 < out["ci_high"] < 0 and out["p"] < 0.05
    with pytest.raises(ValueError):
        stats.paired_difference(VALUES, after[:-1])


def test_paired_interval_is_narrower_than_unpaired_for_correlated_scores():
    before = [2.0, 9.0, 4.0, 8.0, 1.0, 7.0, 3.0, 10.0]
    after = [v + (0.5 if i % 2 else -0.2) for i, v in enumerate(before)]
    out = stats.paired_difference(before, after)
    assert out["ci_low"] < statistics.fmean(after) - statistics.fmean(before) < out["ci_high"]
    a_low, a_high = stats.mean_interval(before)
    assert out["ci_high"] - out["ci_low"] < a_high - a_low


def test_paired_p_value_agrees_with_the_interval():
    rng = np.random.default_rng(1)
    for _ in range(50):
        before = rng.integers(0, 11, 8).astype(float)
        after = np.clip(before + rng.integers(-3, 4, 8), 0, 10)
        out = stats.paired_difference(before, after)
        excluded = out["ci_high"] < 0 or out["ci_low"] > 0
        assert excluded == (out["p"] < stats.ALPHA)


def test_macro_interval_brackets_the_macro_mean_and_needs_every_group_at_min_n():
    groups = [[2.0, 3.0, 4.0, 3.0, 2.5], [8.0, 9.0, 9.5, 7.0, 8.5, 9.0, 8.0]]
    macro = statistics.fmean([statistics.fmean(g) for g in groups])
    low, high = stats.macro_interval(groups)
    assert low < macro < high
    assert stats.macro_interval([[6.0] * 5, [8.0] * 4]) == (None, None)
    one = stats.macro_interval([groups[1]])
    assert one == pytest.approx(stats.mean_interval(groups[1]))


def test_statement_names_the_method_and_reads_older_summaries():
    text = stats.statement(stats.interval_block())
    assert "95% Student t interval" in text and "n = 5" in text
    old = {"method": "percentile", "resamples": 10000, "seed": 12345, "confidence": 0.95}
    assert stats.statement(old) == "95% bootstrap CI (percentile, 10000 resamples, seed 12345)"


def test_a_mean_interval_stays_on_its_scale():
    """Five 0/1 cases that all read 0: the floored t interval would reach below 0; a mean
    cannot, so the interval is clipped to the scale (and likewise the macro mean's)."""
    binary = Scale(0, 1)
    low, high = stats.mean_interval([0.0] * 5, binary)
    assert low == 0.0 and 0.1 < high < 0.15
    low, high = stats.mean_interval([5.0] * 6, Scale(1, 5))
    assert high == 5.0 and low < 5.0
    low, high = stats.macro_interval([[0.0] * 5, [0.0, 0.0, 0.0, 0.0, 1.0]], binary)
    assert low == 0.0 and high < 1.0
    assert "clipped to the scale" in stats.statement(stats.interval_block())
