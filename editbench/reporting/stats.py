"""Descriptive statistics and the intervals and tests every report states.

The interval of a mean (a category's mean score, a paired difference B - A, the macro mean of
category means, a share of cases, a pooled mean such as KRIS's Score) is a betting confidence
interval for a bounded mean (Waudby-Smith & Ramdas, "Estimating means of bounded random
variables by betting", JRSS-B 2024): the hedged capital process with predictable plug-in bets for
a fixed n. Its only assumption is what a judge's scale guarantees: every value lies on the scale
(a difference on [-range, +range]); cases are independent. Whatever the distribution on the
scale (two-point, rare 10s among 0s, a lumpy integer judge), the interval covers the true mean
with probability at least 95% at every n (Ville's inequality on a nonnegative test martingale),
not only asymptotically; tests/unit/test_intervals.py checks it by simulation at n = 5, 10, 30
and 100. The cost is width: at n = 5 of five equal scores no method valid for every
distribution can be narrow (five 0s on 0-10 cannot exclude a mean of 5); on realistic whole
0-10 judge scores it is about 1.4 times the width of a Student t interval at n = 100-300, 1.7-1.9
times at n = 30 and 2 times at n = 10, and narrower than empirical-Bernstein or Hoeffding
intervals, the other intervals valid for any bounded scores (README, "Intervals and flags").

How it is computed: values are mapped to [0, 1]; for a candidate mean m two bettors wager, one
that the mean is above m and one that it is below, each case in run order with a bet sized from
the running variance of the cases before it (never from the case itself) and capped so the
capital stays positive; m is outside the interval when either bettor's capital reaches 2/alpha.
The capital is monotone in m, so the ends are found by bisection, vectorised over the last axis.
The same capital at m = 0 gives the p-value of a paired difference (1 / capital, capped at 1):
a flag agrees with the interval by construction.

A pooled mean (several values per case: sum_i / count_i summed over cases) tests, for each m,
that sum_i - m * count_i has mean 0; with one value per case it is the plain mean. A macro mean
(the mean of category means) is the mean of blocks: the cases of each category are cut, in run
order, into as many blocks as the smallest category has cases; block j's value is the mean over
categories of each category's block-j mean, so the blocks are independent, bounded and have the
macro mean as their mean (leftover cases of a larger category, fewer than that number, are left
out of the interval, never out of the value). Below `MIN_N` values (for a macro mean: in any
category) no interval is given and no difference is flagged.

Differences are tested with the same betting capital, failure counts with McNemar's exact test (a
two-sided binomial test on the discordant cases), and flags across a comparison's rows are
corrected with Holm's step-down method, which holds the chance of any false flag at 5% whatever
the rows' dependence.

`RESAMPLES`, `SEED` and `CONFIDENCE` also set the bootstrap of `editbench agree`
(reporting/coefficients.py). scipy is imported where it is used, not at import time.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from editbench.vocabulary import SCORE_SCALE, Scale


class _LazyScipyStats:
    """`scipy.stats`, imported on first use: it costs most of a second, and pytest's start-up
    (the controller, every worker, `--collect-only`) computes no statistics."""

    def __getattr__(self, name: str) -> Any:
        from scipy import stats

        return getattr(stats, name)


sps = _LazyScipyStats()

CONFIDENCE = 0.95
ALPHA = 1.0 - CONFIDENCE
MIN_N = 5  # below this many values: no interval, no flag ("n too small")
RESAMPLES = 10_000  # editbench agree's bootstrap
SEED = 12345
CAP = 0.75  # a bet risks at most this share of the capital (Waudby-Smith & Ramdas' c)
BISECTIONS = 40

METHOD = "betting confidence interval for a bounded mean (Waudby-Smith & Ramdas 2024)"
COVERAGE = (
    ">= 95% for every distribution on the scale at every n (Ville's inequality); simulated "
    ">= 0.93 at n = 5, 10, 30, 100 incl. two-point scores (tests/unit/test_intervals.py)"
)


def interval_block(scale: Scale = SCORE_SCALE) -> dict[str, Any]:
    """The statement every summary and comparison carries: method, coverage, minimum n."""
    return {
        "method": METHOD,
        "bets": "hedged capital, predictable plug-in bets for a fixed n, cases in run order",
        "confidence": CONFIDENCE,
        "min_n": MIN_N,
        "scale": [scale.low, scale.high],
        "assumes": "values on the scale (a difference on [-range, range]), independent cases",
        "macro": "mean of blocks: each category cut into as many blocks as the smallest has cases",
        "flags": "p = 1 / betting capital at 0 (agrees with the interval), McNemar exact on "
        "failures, Holm across rows",
        "coverage": COVERAGE,
    }


def statement(block: dict[str, Any] | None) -> str:
    """One line for a report: what the bracketed interval is (reads older blocks too)."""
    block = block or {}
    confidence = float(block.get("confidence", CONFIDENCE))
    if "resamples" in block and "variance_floor" not in block:  # a summary.json of schema 1
        return (
            f"{confidence:.0%} bootstrap CI ({block.get('method', 'percentile')}, "
            f"{block['resamples']} resamples, seed {block.get('seed')})"
        )
    if "variance_floor" in block:  # schema 2: the floored Student t interval
        return (
            f"{confidence:.0%} Student t interval, variance at least "
            f"{block['variance_floor']}; none below n = {block.get('min_n', MIN_N)}"
        )
    return (
        f"{confidence:.0%} betting interval for a bounded mean (Waudby-Smith & Ramdas): coverage "
        f"at least {confidence:.0%} for any score distribution on the scale (simulated >= 0.93 "
        f"at n = 5-100); none below n = {block.get('min_n', MIN_N)}"
    )


@dataclass(frozen=True)
class Estimate:
    """A (pooled) mean of bounded values over the last axis: sum(sums) / sum(counts), each case
    giving `sums` over `counts` values on [low, high], at most `most` values per case."""

    sums: np.ndarray
    counts: np.ndarray
    low: float
    high: float
    most: float = 1.0

    @property
    def mean(self) -> Any:
        return self.sums.sum(axis=-1) / self.counts.sum(axis=-1)

    def interval(self, confidence: float = CONFIDENCE) -> tuple[Any, Any]:
        """The betting interval's ends (arrays over the leading axes)."""
        threshold = math.log(2.0 / (1.0 - confidence))
        shape = self.sums.shape[:-1]
        ends = []
        for side, start in ((+1, self.low), (-1, self.high)):
            lo, hi = np.full(shape, self.low), np.full(shape, self.high)
            outside = self._log_capital(np.full(shape, start), side) >= threshold
            for _ in range(BISECTIONS):  # the capital falls (+1) or rises (-1) with m
                mid = (lo + hi) / 2.0
                wins = self._log_capital(mid, side) >= threshold
                if side > 0:
                    lo, hi = np.where(wins, mid, lo), np.where(wins, hi, mid)
                else:
                    lo, hi = np.where(wins, lo, mid), np.where(wins, mid, hi)
            ends.append(np.where(outside, hi if side > 0 else lo, start))
        mean = self.mean
        return np.minimum(ends[0], mean), np.maximum(ends[1], mean)

    def p_value(self, null: float = 0.0) -> Any:
        """min(1, 1 / hedged capital at `null`): a valid p-value, <= alpha exactly when `null`
        lies outside the interval."""
        m = np.full(self.sums.shape[:-1], float(null))
        best = np.maximum(self._log_capital(m, +1), self._log_capital(m, -1))
        return np.minimum(1.0, np.exp(math.log(2.0) - best))

    def _log_capital(self, m: np.ndarray, side: int) -> np.ndarray:
        """log capital after all cases of the bettor on "mean above m" (+1) or "below m" (-1)."""
        span = (self.high - self.low) * self.most
        step = (self.sums - m[..., None] * self.counts) / span  # x_i - m0, mean 0 when m holds
        m0 = np.clip((m - self.low) / (self.high - self.low), 0.0, 1.0)[..., None]
        room = m0 if side > 0 else 1.0 - m0
        with np.errstate(divide="ignore"):
            bet = np.minimum(self._bets(), CAP / room)
        return np.log1p(side * bet * step).sum(axis=-1)

    def _bets(self) -> np.ndarray:
        """Predictable plug-in bets: sqrt(2 log(2/alpha) / (n * variance so far)), the variance
        of the cases before each one (starting from 1/4, the widest on [0, 1])."""
        x = (self.sums - self.low * self.counts) / ((self.high - self.low) * self.most)
        n = x.shape[-1]
        t = np.arange(1, n + 1)
        means = (0.5 + np.cumsum(x, axis=-1)) / (t + 1)
        squares = (0.25 + np.cumsum((x - means) ** 2, axis=-1)) / (t + 1)
        before = np.concatenate([np.full(x.shape[:-1] + (1,), 0.25), squares[..., :-1]], -1)
        return np.sqrt(2.0 * math.log(2.0 / ALPHA) / (n * before))


def estimate_mean(data: Any, scale: Scale = SCORE_SCALE) -> Estimate:
    """The mean over the last axis, values on `scale`, with its betting interval."""
    values = np.asarray(data, dtype=float)
    if values.shape[-1] < 2:
        raise ValueError("an interval needs at least two values")
    return Estimate(values, np.ones_like(values), float(scale.low), float(scale.high))


def estimate_pooled(sums: Any, counts: Any, scale: Scale, most: float | None = None) -> Estimate:
    """sum(sums) / sum(counts) over the last axis: cases that give several values on `scale`
    (at most `most` each, default the largest count seen) enter once each."""
    sums, counts = np.asarray(sums, dtype=float), np.asarray(counts, dtype=float)
    most = float(counts.max()) if most is None else float(most)
    return Estimate(sums, counts, float(scale.low), float(scale.high), most)


def difference_scale(scale: Scale) -> Scale:
    """Where B - A of two scores on `scale` lies."""
    return Scale(-scale.range, scale.range)


def macro_blocks(groups: Sequence[Any]) -> np.ndarray:
    """Independent block values whose mean is the macro mean's (module docstring), last axis."""
    arrays = [np.asarray(g, dtype=float) for g in groups]
    blocks = min(a.shape[-1] for a in arrays)
    parts = []
    for a in arrays:
        size = a.shape[-1] // blocks
        cut = a[..., : size * blocks].reshape(a.shape[:-1] + (blocks, size))
        parts.append(cut.mean(axis=-1))
    return sum(parts) / len(parts)


def estimate_macro(groups: Sequence[Any], scale: Scale = SCORE_SCALE) -> Estimate:
    """The mean of the groups' means (last axis each), interval from the blocks; its `mean` is
    the blocks' mean (the macro mean itself when no case is left over)."""
    return estimate_mean(macro_blocks(groups), scale)


def describe(values: Sequence[float], scale: Scale = SCORE_SCALE) -> dict[str, float | int | None]:
    """n, mean, std (sample), median, min, max and the interval of the mean (None below MIN_N)."""
    data = [float(v) for v in values]
    if not data:
        return {"n": 0}
    low, high = mean_interval(data, scale)
    return {
        "n": len(data),
        "mean": statistics.fmean(data),
        "std": statistics.stdev(data) if len(data) > 1 else 0.0,
        "median": statistics.median(data),
        "min": min(data),
        "max": max(data),
        "ci_low": low,
        "ci_high": high,
    }


def mean_interval(
    values: Sequence[float], scale: Scale = SCORE_SCALE
) -> tuple[float | None, float | None]:
    """The interval of one sample's mean, or (None, None) below MIN_N values."""
    if len(values) < MIN_N:
        return None, None
    low, high = estimate_mean(values, scale).interval()
    return float(low), float(high)


def pooled_interval(
    sums: Sequence[float], counts: Sequence[float], scale: Scale, most: float | None = None
) -> tuple[float | None, float | None]:
    """The interval of a pooled mean, or (None, None) below MIN_N cases."""
    if len(sums) < MIN_N:
        return None, None
    low, high = estimate_pooled(sums, counts, scale, most).interval()
    return float(low), float(high)


def macro_interval(
    groups: Sequence[Sequence[float]], scale: Scale = SCORE_SCALE
) -> tuple[float | None, float | None]:
    """The macro mean's interval, or (None, None) when a group has fewer than MIN_N values.
    The blocks' interval, widened where needed to hold the macro mean of every case (it can
    differ from the blocks' mean by the leftover cases; widening keeps the coverage)."""
    groups = [g for g in groups if len(g)]
    if not groups or any(len(g) < MIN_N for g in groups):
        return None, None
    low, high = estimate_macro(groups, scale).interval()
    value = statistics.fmean(statistics.fmean(g) for g in groups)
    return min(float(low), value), max(float(high), value)


def paired_difference(
    before: Sequence[float], after: Sequence[float], scale: Scale = SCORE_SCALE
) -> dict[str, float | None]:
    """mean(after - before) over aligned cases, its interval and p-value (None below MIN_N)."""
    if len(before) != len(after):
        raise ValueError("a paired difference needs equally long, aligned score lists")
    deltas = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    out: dict[str, float | None] = {
        "delta": float(deltas.mean()) if len(deltas) else None,
        "ci_low": None,
        "ci_high": None,
        "p": None,
    }
    if len(deltas) >= MIN_N:
        out |= interval_and_p(estimate_mean(deltas, difference_scale(scale)))
    return out


def interval_and_p(estimate: Estimate) -> dict[str, float]:
    """ci_low, ci_high and the p-value of "no change" of an estimate of a difference."""
    low, high = estimate.interval()
    return {"ci_low": float(low), "ci_high": float(high), "p": float(estimate.p_value())}


def mcnemar_exact(newly_failing: Any, newly_passing: Any) -> Any:
    """Two-sided exact p-value that failures are as likely to appear as to disappear.

    The discordant cases (failing in one run only) are Binomial(b + c, 1/2) under no change;
    with no discordant case the p-value is 1.
    """
    from scipy import stats as sps

    b = np.asarray(newly_failing, dtype=float)
    c = np.asarray(newly_passing, dtype=float)
    total = b + c
    tail = sps.binom.cdf(np.minimum(b, c), np.maximum(total, 1.0), 0.5)
    return np.where(total > 0, np.minimum(1.0, 2.0 * tail), 1.0)


def failure_change(
    failed_a: int, failed_b: int, newly_failing: list[str], newly_scored: int
) -> dict[str, Any]:
    """A comparison row's failure counts: failed in each run, the cases that newly fail (with
    their ids), those newly scored, and McNemar's exact p-value over them (None when none
    changed)."""
    discordant = len(newly_failing) + newly_scored
    return {
        "failed_a": failed_a,
        "failed_b": failed_b,
        "newly_failing": len(newly_failing),
        "newly_failing_cases": newly_failing,
        "newly_scored": newly_scored,
        "p_failures": float(mcnemar_exact(len(newly_failing), newly_scored))
        if discordant
        else None,
    }


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis (NaN entries are not tests)."""
    p = np.asarray(p_values, dtype=float)
    tested = ~np.isnan(p)
    m = tested.sum(axis=-1, keepdims=True)
    order = np.argsort(np.where(tested, p, np.inf), axis=-1)
    ranked = np.take_along_axis(np.where(tested, p, np.inf), order, axis=-1)
    factor = np.maximum(m - np.arange(p.shape[-1]), 1)
    adjusted = np.minimum(1.0, np.maximum.accumulate(ranked * factor, axis=-1))
    out = np.empty_like(p)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return np.where(tested, out, np.nan)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
