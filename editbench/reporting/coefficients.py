"""Agreement coefficients between a judge and people: rank correlations, accuracy, rater ceiling.

Point estimates come from `scipy.stats` (`spearmanr`, `kendalltau` tau-b, `pearsonr`); their
intervals from `scipy.stats.bootstrap` (BCa, cases resampled, `RESAMPLES` resamples from a fixed
seed). A coefficient that cannot be computed (one side constant) is reported as undefined with
the reason, never as a number; below `MIN_CASES` cases only the coefficient is given, marked
"n too small", because a case-resampling bootstrap of a rank correlation over fewer cases keeps
drawing resamples with one side constant and its interval means little.

Krippendorff's alpha (interval metric) is written here rather than taken from the `krippendorff`
package, which is GPL-3.0 and needs Python 3.11; the test checks it against Krippendorff's own
worked example.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from editbench.reporting import stats

MIN_CASES = 10


@dataclass(frozen=True)
class Bootstrap:
    """How every interval is drawn: its coverage, resample count and seed, stated in reports."""

    resamples: int = stats.RESAMPLES
    seed: int = stats.SEED
    confidence: float = stats.CONFIDENCE

    def describe(self, what: str = "cases") -> str:
        return (
            f"{self.confidence:.0%} bootstrap BCa over {what}, {self.resamples:,} resamples, "
            f"seed {self.seed}"
        )

    def run(self, data: tuple[np.ndarray, ...], statistic: Callable) -> dict[str, Any]:
        """The interval of `statistic` (vectorised, `axis` argument) over jointly resampled cases."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant resamples and degenerate BCa: counted below
            result = sps.bootstrap(
                data,
                statistic,
                paired=True,
                vectorized=True,
                n_resamples=self.resamples,
                confidence_level=self.confidence,
                method="BCa",
                rng=np.random.default_rng(self.seed),
            )
        draws = np.asarray(result.bootstrap_distribution)
        undefined = int(np.isnan(draws).sum())
        if undefined:
            return {
                "note": f"no interval: the statistic is undefined in {undefined:,} of "
                f"{self.resamples:,} resamples (one side constant)"
            }
        if (
            np.ptp(draws) <= 1e-12
        ):  # e.g. identical ranks: BCa is undefined, the interval is a point
            return {
                "ci_low": float(draws.min()),
                "ci_high": float(draws.max()),
                "note": "every resample gives the same value",
            }
        low, high = result.confidence_interval
        if not (np.isfinite(low) and np.isfinite(high)):
            return {"note": "no interval: the BCa interval is undefined for these data"}
        return {"ci_low": float(low), "ci_high": float(high)}


# -- coefficients ---------------------------------------------------------------------------------


def _defined(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _quiet(function: Callable, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: the result is nan and reported as such
        return function(*args, **kwargs)


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    return _defined(_quiet(sps.spearmanr, x, y).statistic) if len(x) >= 2 else None


def kendall(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b: ties in either ranking are accounted for."""
    return _defined(_quiet(sps.kendalltau, x, y, variant="b").statistic) if len(x) >= 2 else None


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    return _defined(_quiet(sps.pearsonr, x, y).statistic) if len(x) >= 2 else None


def _spearman_axis(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    # Spearman's rho is Pearson's r of the average ranks: spearmanr itself has no batch axis.
    ranks_x, ranks_y = sps.rankdata(x, axis=axis), sps.rankdata(y, axis=axis)
    return sps.pearsonr(ranks_x, ranks_y, axis=axis).statistic


def _kendall_axis(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.asarray(sps.kendalltau(x, y, variant="b", axis=axis).statistic)


COEFFICIENTS: dict[str, tuple[Callable, Callable]] = {
    "spearman": (spearman, _spearman_axis),
    "kendall": (kendall, _kendall_axis),
}


def correlation(
    name: str, judge: Sequence[float], human: Sequence[float], boot: Bootstrap
) -> dict[str, Any]:
    """{value, ci_low, ci_high} or {value, note}: a rank correlation with its bootstrap interval."""
    point, batched = COEFFICIENTS[name]
    value = point(judge, human)
    out: dict[str, Any] = {"value": value}
    if value is None:
        return {**out, "note": _undefined_note(len(judge))}
    if len(judge) < MIN_CASES:
        return {**out, "note": f"n too small for an interval (under {MIN_CASES} cases)"}
    data = (np.asarray(judge, dtype=float), np.asarray(human, dtype=float))
    return {**out, **boot.run(data, lambda x, y, axis=-1: _quiet(batched, x, y, axis=axis))}


def correlation_difference(
    name: str,
    judge_1: Sequence[float],
    judge_2: Sequence[float],
    human: Sequence[float],
    boot: Bootstrap,
) -> dict[str, Any]:
    """coef(judge 2, human) - coef(judge 1, human), paired bootstrap over the same cases."""
    point, batched = COEFFICIENTS[name]
    first, second = point(judge_1, human), point(judge_2, human)
    out: dict[str, Any] = {
        "j1": first,
        "j2": second,
        "value": None if first is None or second is None else second - first,
    }
    if out["value"] is None:
        return {**out, "note": _undefined_note(len(human))}
    if len(human) < MIN_CASES:
        return {**out, "note": f"n too small for an interval (under {MIN_CASES} cases)"}

    def difference(a: np.ndarray, b: np.ndarray, h: np.ndarray, axis: int = -1) -> np.ndarray:
        return _quiet(batched, b, h, axis=axis) - _quiet(batched, a, h, axis=axis)

    data = tuple(np.asarray(v, dtype=float) for v in (judge_1, judge_2, human))
    return {**out, **boot.run(data, difference)}


def _undefined_note(n: int) -> str:
    return "undefined: fewer than 2 cases" if n < 2 else "undefined: one side is constant"


# -- people among themselves ----------------------------------------------------------------------


def krippendorff_alpha(units: Sequence[Sequence[float]]) -> float | None:
    """Krippendorff's alpha, interval metric, over units rated by any raters (missing allowed).

    alpha = 1 - D_o / D_e. D_o: squared differences between the values within each unit, each
    unit's sum divided by (its number of values - 1), over n, the number of pairable values
    (those in units with 2 or more). D_e: squared differences between all pairable values, over
    n(n - 1). Undefined without two pairable values or without any variation.
    """
    pairable = [np.asarray(u, dtype=float) for u in units if len(u) >= 2]
    if not pairable:
        return None
    values = np.concatenate(pairable)
    n = len(values)
    expected = _squared_differences(values) / (n * (n - 1))
    if expected == 0:
        return None
    observed = sum(_squared_differences(u) / (len(u) - 1) for u in pairable) / n
    return float(1.0 - observed / expected)


def _squared_differences(values: np.ndarray) -> float:
    """Sum over ordered pairs (i != j) of (v_i - v_j)^2, as 2 * (n * sum v^2 - (sum v)^2)."""
    return float(2.0 * (len(values) * np.sum(values**2) - np.sum(values) ** 2))


def rater_vs_rest(by_rater: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Mean over raters of Spearman's rho between one rater and the mean of the others.

    Each rater is compared on the cases that rater and at least one other rated; a rater with
    fewer than 3 such cases, or a constant side, is left out and counted.
    """
    values = []
    for rater, scores in by_rater.items():
        others = [r for name, r in by_rater.items() if name != rater]
        cases = [c for c in scores if any(c in r for r in others)]
        if len(cases) < 3:
            continue
        rest = [float(np.mean([r[c] for r in others if c in r])) for c in cases]
        rho = spearman([scores[c] for c in cases], rest)
        if rho is not None:
            values.append(rho)
    left_out = len(by_rater) - len(values)
    if not values:
        return {"value": None, "raters": 0, "left_out": left_out}
    return {"value": float(np.mean(values)), "raters": len(values), "left_out": left_out}


# -- preferences ----------------------------------------------------------------------------------


def accuracy(agree: Sequence[int], total: Sequence[int], boot: Bootstrap) -> dict[str, Any]:
    """sum(agree) / sum(total) over cases (each case may hold several votes), bootstrap over cases."""
    a, t = np.asarray(agree, dtype=float), np.asarray(total, dtype=float)
    a, t = a[t > 0], t[t > 0]  # a case whose votes all left the count is no unit of the resampling
    votes = int(t.sum())
    out: dict[str, Any] = {
        "value": float(a.sum() / votes) if votes else None,
        "votes": votes,
        "cases": len(t),
    }
    if not votes:
        return {**out, "note": "undefined: no votes"}
    if len(t) < MIN_CASES:
        return {**out, "note": f"n too small for an interval (under {MIN_CASES} cases)"}

    def ratio(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sum(x, axis=axis) / np.sum(y, axis=axis)

    return {**out, **boot.run((a, t), ratio)}
