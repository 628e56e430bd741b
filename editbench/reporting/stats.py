"""Descriptive statistics and percentile-bootstrap confidence intervals with a fixed seed.

Every interval uses `RESAMPLES` resamples drawn from `numpy.random.default_rng(SEED)`, so the
same scores always give the same interval. Callers pass values in a canonical order (sorted by
case id) so that a merged run and a single run over the same results agree exactly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np

RESAMPLES = 10_000
SEED = 12345
CONFIDENCE = 0.95
_CHUNK_CELLS = 2_000_000  # resample in chunks: resamples x n floats would not fit for large n


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, std (sample), median, min, max and the bootstrap CI of the mean."""
    data = [float(v) for v in values]
    if not data:
        return {"n": 0}
    low, high = bootstrap_ci(data)
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


def bootstrap_ci(
    values: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (CONFIDENCE level)."""
    return _interval(
        _resampled_means(np.asarray(values, dtype=float), resamples, np.random.default_rng(seed))
    )


def paired_bootstrap_ci(
    before: Sequence[float], after: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float]:
    """CI of mean(after - before) over paired cases: the cases are resampled, not the scores."""
    if len(before) != len(after):
        raise ValueError("paired bootstrap needs equally long, aligned score lists")
    deltas = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    return bootstrap_ci(deltas, resamples, seed)


def stratified_bootstrap_ci(
    groups: Sequence[Sequence[float]], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float]:
    """CI of the macro mean (mean of group means): each group is resampled within itself."""
    rng = np.random.default_rng(seed)
    means = [_resampled_means(np.asarray(g, dtype=float), resamples, rng) for g in groups if len(g)]
    if not means:
        return (math.nan, math.nan)
    return _interval(np.mean(np.stack(means), axis=0))


def _resampled_means(data: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    n = len(data)
    if n == 0:
        return np.full(resamples, np.nan)
    rows = max(1, _CHUNK_CELLS // n)
    out = np.empty(resamples)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        out[start:stop] = data[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out


def _interval(means: np.ndarray) -> tuple[float, float]:
    tail = (1.0 - CONFIDENCE) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)
