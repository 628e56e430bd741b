"""Descriptive statistics and the intervals and tests every report states.

The interval of a mean (a category's mean score, a paired difference B - A, the macro mean of
category means) is a Student t interval whose variance is floored:

    variance used = max(s², (range / 10)² · min(1, 10 / n))

on a scale of `range` points (1 for the 0-10 scale, where it means a standard deviation of at
least one point). The floor matters only at small n: a few cases often repeat one value (a judge
that writes integers does), and a sample that looks tighter than its population most often does
so because it missed the tail, which is when a plain t interval (or a bootstrap) misses the
mean. With the floor, the simulated coverage of the nominal 95% interval stays at or above 0.93
at n = 5 and n = 10 for normal, skewed and lumpy (few distinct values) 0-10 scores, for the
mean, the paired difference and the macro mean (tests/unit/test_intervals.py); the percentile
bootstrap this replaces covered 73-91% at n = 5 on the same families. Below `MIN_N` values no interval is given and
no difference is flagged.

Every interval of a mean is then clipped to the scale: a mean of scores on a scale cannot
leave it, so clipping never drops a value the mean could have and leaves the coverage as it is
(a 0/1 dimension whose five cases all read 0 gets [0, 0.12], not [-0.12, 0.12]). Differences
are not clipped to the scale's range (B - A lives on [-range, +range]).

The macro mean's interval combines the category means' variances (each floored) with
Welch-Satterthwaite degrees of freedom. Differences are tested with the same t statistic (so a
flag agrees with the interval), failure counts with McNemar's exact test (a two-sided binomial
test on the discordant cases), and flags across a comparison's rows are corrected with Holm's
step-down method, which holds the chance of any false flag at 5% whatever the rows' dependence.

Every function works on the last axis of an array, so the simulation tests run the very code the
reports use on thousands of samples at once. `RESAMPLES`, `SEED` and `CONFIDENCE` also set the
bootstrap of `editbench agree` (reporting/agreement.py).
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
FLOOR_N = 10  # the variance floor holds in full up to this n and shrinks as 1/n beyond
RESAMPLES = 10_000  # editbench agree's bootstrap
SEED = 12345

METHOD = "student-t, variance floored, clipped to the scale"
FLOOR_TEXT = "max(s², (range/10)² · min(1, 10/n))"


def interval_block(scale: Scale = SCORE_SCALE) -> dict[str, Any]:
    """The statement every summary and comparison carries: method, coverage, minimum n."""
    return {
        "method": METHOD,
        "confidence": CONFIDENCE,
        "min_n": MIN_N,
        "variance_floor": FLOOR_TEXT,
        "scale": [scale.low, scale.high],
        "clipped": "a mean's interval to the scale (a mean cannot leave it)",
        "macro": "category means' floored variances combined, Welch-Satterthwaite df",
        "flags": "t test (same variance), McNemar exact on failures, Holm across rows",
        "coverage": "simulated >= 0.93 at n = 5 and 10 (tests/unit/test_intervals.py)",
    }


def statement(block: dict[str, Any] | None) -> str:
    """One line for a report: what the bracketed interval is (reads older `bootstrap` blocks too)."""
    block = block or {}
    confidence = float(block.get("confidence", CONFIDENCE))
    if "resamples" in block and "variance_floor" not in block:  # a summary.json of schema 1
        return (
            f"{confidence:.0%} bootstrap CI ({block.get('method', 'percentile')}, "
            f"{block['resamples']} resamples, seed {block.get('seed')})"
        )
    clipped = ", clipped to the scale" if "clipped" in block else ""
    return (
        f"{confidence:.0%} Student t interval, variance at least "
        f"{block.get('variance_floor', FLOOR_TEXT)}{clipped}; none below n = "
        f"{block.get('min_n', MIN_N)}"
    )


@dataclass(frozen=True)
class Estimate:
    """A mean with its standard error and degrees of freedom (arrays, or floats for one sample)."""

    mean: Any
    se: Any
    df: Any

    def interval(self, confidence: float = CONFIDENCE) -> tuple[Any, Any]:
        half = sps.t.ppf(0.5 + confidence / 2.0, self.df) * self.se
        return self.mean - half, self.mean + half

    def p_value(self, null: float = 0.0) -> Any:
        """Two-sided p-value of the t test of mean == null."""
        return 2.0 * sps.t.sf(np.abs(self.mean - null) / self.se, self.df)


def variance_floor(n: Any, scale: Scale = SCORE_SCALE) -> Any:
    """The smallest variance an interval over n values uses (see the module docstring)."""
    return (scale.range / 10.0) ** 2 * np.minimum(1.0, FLOOR_N / np.asarray(n, dtype=float))


def estimate_mean(data: Any, scale: Scale = SCORE_SCALE) -> Estimate:
    """The mean over the last axis with its floored standard error; n - 1 degrees of freedom."""
    values = np.asarray(data, dtype=float)
    n = values.shape[-1]
    if n < 2:
        raise ValueError("an interval needs at least two values")
    variance = np.maximum(values.var(axis=-1, ddof=1), variance_floor(n, scale))
    return Estimate(values.mean(axis=-1), np.sqrt(variance / n), n - 1.0)


def estimate_macro(groups: Sequence[Any], scale: Scale = SCORE_SCALE) -> Estimate:
    """The mean of the groups' means (last axis each), Welch-Satterthwaite degrees of freedom."""
    parts = [estimate_mean(g, scale) for g in groups]
    sizes = [np.asarray(g).shape[-1] for g in groups]
    k = len(parts)
    shares = [p.se**2 for p in parts]
    total = sum(shares)
    df = total**2 / sum(s**2 / (n - 1.0) for s, n in zip(shares, sizes, strict=True))
    return Estimate(sum(p.mean for p in parts) / k, np.sqrt(total) / k, df)


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
    return clip(low, high, scale)


def macro_interval(
    groups: Sequence[Sequence[float]], scale: Scale = SCORE_SCALE
) -> tuple[float | None, float | None]:
    """The macro mean's interval, or (None, None) when a group has fewer than MIN_N values."""
    groups = [g for g in groups if len(g)]
    if not groups or any(len(g) < MIN_N for g in groups):
        return None, None
    low, high = estimate_macro([np.asarray(g, dtype=float) for g in groups], scale).interval()
    return clip(low, high, scale)


def clip(low: Any, high: Any, scale: Scale) -> tuple[float, float]:
    """A mean's interval within its scale (see the module docstring)."""
    return max(float(low), float(scale.low)), min(float(high), float(scale.high))


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
        estimate = estimate_mean(deltas, scale)
        low, high = estimate.interval()
        out |= {"ci_low": float(low), "ci_high": float(high), "p": float(estimate.p_value())}
    return out


def mcnemar_exact(newly_failing: Any, newly_passing: Any) -> Any:
    """Two-sided exact p-value that failures are as likely to appear as to disappear.

    The discordant cases (failing in one run only) are Binomial(b + c, 1/2) under no change;
    with no discordant case the p-value is 1.
    """
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
