"""Descriptive statistics and the betting interval: exact values, small n, pairs, macro and
pooled means. Coverage is checked by simulation in test_intervals.py; here, the arithmetic and
the edges."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from editbench.reporting import stats
from editbench.vocabulary import Scale

VALUES = [3.0, 4.0, 4.5, 6.0, 7.0, 7.5, 8.0, 9.0]


def capital(values, m, scale=None):
    """The two bettors' capital at m, written out from Waudby-Smith & Ramdas' definitions."""
    scale = scale or Scale(0, 10)
    x = [(v - scale.low) / scale.range for v in values]
    m0 = (m - scale.low) / scale.range
    n, up, down = len(x), 1.0, 1.0
    total, squares = 0.0, 0.0
    variance_before = 0.25
    for t, xi in enumerate(x, start=1):
        bet = math.sqrt(2 * math.log(2 / 0.05) / (n * variance_before))
        up *= 1 + min(bet, 0.75 / m0 if m0 else math.inf) * (xi - m0)
        down *= 1 - min(bet, 0.75 / (1 - m0) if m0 < 1 else math.inf) * (xi - m0)
        total += xi
        mean_t = (0.5 + total) / (t + 1)
        squares += (xi - mean_t) ** 2
        variance_before = (0.25 + squares) / (t + 1)
    return up, down


def test_describe_matches_the_statistics_module_and_the_betting_interval():
    out = stats.describe(VALUES)
    assert out["n"] == 8
    assert out["mean"] == pytest.approx(statistics.fmean(VALUES))
    assert out["std"] == pytest.approx(statistics.stdev(VALUES))
    assert out["median"] == pytest.approx(statistics.median(VALUES))
    assert (out["min"], out["max"]) == (3.0, 9.0)
    low, high = out["ci_low"], out["ci_high"]
    assert low < out["mean"] < high
    for end, inside in ((low, +1e-6), (high, -1e-6)):  # the ends: where a bettor reaches 40
        assert max(capital(VALUES, end + inside)) < 2 / 0.05
        assert max(capital(VALUES, end - inside)) >= 2 / 0.05 or end - inside <= 0


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


def test_five_zeros_cannot_exclude_a_rare_ten():
    """Issue 28: five 0s on 0-10 gave [0, 1.24] under the floored t interval, which misses a
    judge that answers 10 one time in seven (mean 1.5; five 0s in a row happen 44% of the time)."""
    low, high = stats.mean_interval([0.0] * 5)
    assert low == 0.0 and high > 1.5
    low, high = stats.mean_interval([0.0] * 100)
    assert high < 0.5  # with many cases it narrows


def test_interval_narrows_with_more_cases_and_stays_on_the_scale():
    low_small, high_small = stats.mean_interval(VALUES)
    low_big, high_big = stats.mean_interval(VALUES * 25)
    assert high_big - low_big < (high_small - low_small) / 3
    assert stats.mean_interval([5.0] * 6, Scale(1, 5))[1] == 5.0
    low, high = stats.mean_interval([0.0] * 5, Scale(0, 1))
    assert low == 0.0 and high < 1.0


def test_paired_difference_lives_on_twice_the_range():
    after = [v - 1.5 for v in VALUES]
    out = stats.paired_difference(VALUES, after)
    assert out["delta"] == pytest.approx(-1.5)
    assert out["ci_low"] < -1.5 < out["ci_high"]
    up, down = capital([a - b for a, b in zip(after, VALUES, strict=True)], 0.0, Scale(-10, 10))
    assert out["p"] == pytest.approx(min(1.0, 2 / max(up, down)))
    big = stats.paired_difference(VALUES * 10, [v - 1.5 for v in VALUES * 10])
    assert big["ci_high"] < 0 and big["p"] < 0.05
    with pytest.raises(ValueError):
        stats.paired_difference(VALUES, after[:-1])


def test_paired_p_value_agrees_with_the_interval():
    rng = np.random.default_rng(1)
    for _ in range(50):
        before = rng.integers(0, 11, 30).astype(float)
        after = np.clip(before + rng.integers(-1, 4, 30), 0, 10)
        out = stats.paired_difference(before, after)
        excluded = out["ci_high"] < 0 or out["ci_low"] > 0
        assert excluded == (out["p"] <= stats.ALPHA)


def test_macro_interval_brackets_the_macro_mean_and_needs_every_group_at_min_n():
    groups = [[2.0, 3.0, 4.0, 3.0, 2.5], [8.0, 9.0, 9.5, 7.0, 8.5, 9.0, 8.0]]
    macro = statistics.fmean([statistics.fmean(g) for g in groups])
    low, high = stats.macro_interval(groups)
    assert low < macro < high
    assert stats.macro_interval([[6.0] * 5, [8.0] * 4]) == (None, None)
    one = stats.macro_interval([groups[1]])
    assert one == pytest.approx(stats.mean_interval(groups[1]))


def test_macro_blocks_have_the_macro_mean_when_sizes_divide():
    groups = [[1.0, 2.0, 3.0, 4.0, 5.0], [6.0] * 10]
    blocks = stats.macro_blocks(groups)
    assert blocks.tolist() == [3.5, 4.0, 4.5, 5.0, 5.5]  # (x_j + mean of two 6s) / 2
    assert blocks.mean() == statistics.fmean([3.0, 6.0])


def test_a_pooled_mean_is_the_plain_mean_with_one_value_per_case():
    plain = stats.estimate_mean(VALUES).interval()
    pooled = stats.estimate_pooled(VALUES, [1] * len(VALUES), Scale(0, 10)).interval()
    assert pooled == pytest.approx(plain)
    sums, counts = [300, 100, 250, 75, 200], [4, 3, 3, 3, 4]
    low, high = stats.pooled_interval(sums, counts, Scale(0, 100), most=4)
    assert low < sum(sums) / sum(counts) < high


def test_statement_names_the_method_and_reads_older_summaries():
    text = stats.statement(stats.interval_block())
    assert "95% betting interval" in text and "n = 5" in text and "any score" in text
    old = {"method": "percentile", "resamples": 10000, "seed": 12345, "confidence": 0.95}
    assert stats.statement(old) == "95% bootstrap CI (percentile, 10000 resamples, seed 12345)"
    floored = {"variance_floor": "max(s², 1)", "confidence": 0.95, "min_n": 5}
    assert "Student t" in stats.statement(floored)
    assert "Ville" in stats.interval_block()["coverage"]
