"""Intervals that keep their coverage, flags that stay rare when nothing changed: by simulation.

Each test draws a few thousand samples of 0-10 scores at once and runs the reports' own functions
(`editbench.reporting.stats`) over them, vectorised. Families: normal (continuous and rounded),
skewed towards either end of the scale (a good editor's scores, the identity baseline's), and
lumpy (few distinct values: what a judge writing integers gives). The printed table is the
evidence quoted in the README.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from editbench.reporting import stats

SAMPLES = 4000
FLOOR = 0.93  # the coverage the nominal 95% interval must keep


def discrete(values, weights):
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    return (
        lambda rng, size: rng.choice(values, p=weights, size=size),
        float(values @ weights),
    )


def rounded_beta(a, b):
    edges = (np.arange(12) - 0.5) / 10.0
    weights = np.diff(sps.beta(a, b).cdf(np.clip(edges, 0, 1)))
    return discrete(np.arange(11), weights / weights.sum())


MEANS = {
    "normal": (
        lambda rng, size: np.clip(rng.normal(6.0, 1.5, size), 0, 10),
        float(sps.norm(6.0, 1.5).expect(lambda x: np.clip(x, 0, 10))),
    ),
    "normal, whole": discrete(
        np.arange(11), np.diff(sps.norm(6.0, 1.5).cdf(np.r_[-np.inf, np.arange(10) + 0.5, np.inf]))
    ),
    "skewed high": (lambda rng, size: 10 * rng.beta(6.0, 1.5, size), 10 * 6.0 / 7.5),
    "skewed low": (lambda rng, size: 10 * rng.beta(1.2, 5.0, size), 10 * 1.2 / 6.2),
    "skewed low, whole": rounded_beta(1.2, 5.0),
    "lumpy 6-9": discrete([6, 7, 8, 9], [0.15, 0.25, 0.45, 0.15]),
    "lumpy 8/9": discrete([8, 9], [0.6, 0.4]),
    "lumpy 0/5/10": discrete([0, 5, 10], [0.2, 0.5, 0.3]),
}


def pair_family(name):
    """(sampler of B - A deltas with shape (samples, n), true mean delta) for a paired family."""

    def draw(rng, size):
        if name == "normal":
            a = np.clip(rng.normal(6.0, 1.5, size), 0, 10)
            return np.clip(a + rng.normal(0.4, 1.0, size), 0, 10) - a
        if name == "skewed":  # B a little better, now and then much better
            a = MEANS["skewed low, whole"][0](rng, size)
            return np.clip(np.round(a + rng.exponential(1.0, size)), 0, 10) - a
        a = MEANS["lumpy 6-9"][0](rng, size)  # lumpy: B moves by whole points
        return (
            np.clip(a + rng.choice([-1, 0, 1, 2], p=[0.15, 0.5, 0.25, 0.1], size=size), 0, 10) - a
        )

    truth = float(draw(np.random.default_rng(99), 4_000_000).mean())
    return draw, truth


def coverage(estimate: stats.Estimate, truth: float) -> float:
    low, high = estimate.interval()
    return float(np.mean((low <= truth) & (truth <= high)))


TABLE: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def print_table():
    yield
    print("\nsimulated coverage of the nominal 95% interval (4000 samples each)")
    print("\n".join(TABLE))


@pytest.mark.parametrize("n", [5, 10])
@pytest.mark.parametrize("family", list(MEANS))
def test_interval_of_the_mean_keeps_its_coverage(family, n):
    draw, truth = MEANS[family]
    rng = np.random.default_rng(20_000 + n)
    cover = coverage(stats.estimate_mean(draw(rng, (SAMPLES, n))), truth)
    TABLE.append(f"mean        {family:18s} n={n:<3d} {cover:.3f}")
    assert cover >= FLOOR, (family, n, cover)


@pytest.mark.parametrize("n", [5, 10])
@pytest.mark.parametrize("family", ["normal", "skewed", "lumpy"])
def test_interval_of_a_paired_difference_keeps_its_coverage(family, n):
    draw, truth = pair_family(family)
    rng = np.random.default_rng(30_000 + n)
    cover = coverage(stats.estimate_mean(draw(rng, (SAMPLES, n))), truth)
    TABLE.append(f"B - A       {family:18s} n={n:<3d} {cover:.3f}")
    assert cover >= FLOOR, (family, n, cover)


@pytest.mark.parametrize("n", [5, 10])
def test_interval_of_the_macro_mean_keeps_its_coverage(n):
    names = ["normal", "skewed high", "skewed low, whole", "lumpy 6-9", "lumpy 0/5/10"]
    rng = np.random.default_rng(40_000 + n)
    groups = [MEANS[name][0](rng, (SAMPLES, n)) for name in names]
    truth = float(np.mean([MEANS[name][1] for name in names]))
    cover = coverage(stats.estimate_macro(groups), truth)
    TABLE.append(f"macro mean  {'5 categories':18s} n={n:<3d} {cover:.3f}")
    assert cover >= FLOOR, (n, cover)


def test_the_percentile_bootstrap_it_replaces_did_not_keep_it():
    """The old method on the same draws: the reason for the change, kept as a check of the test."""
    draw, truth = MEANS["skewed high"]
    data = draw(np.random.default_rng(5), (1000, 5))
    picks = np.random.default_rng(6).integers(0, 5, size=(1000, 2000, 5))
    means = np.take_along_axis(data[:, None, :], picks, axis=2).mean(axis=2)
    low, high = np.percentile(means, [2.5, 97.5], axis=1)
    assert np.mean((low <= truth) & (truth <= high)) < 0.88
    assert coverage(stats.estimate_mean(data), truth) >= FLOOR


@pytest.mark.parametrize("n", [5, 10])
@pytest.mark.parametrize("scores", ["whole", "continuous"])
def test_without_a_true_change_at_most_one_compare_in_twenty_flags_anything(n, scores):
    """24 score rows (5 categories + overall, 4 dimensions) and 24 failure rows, Holm-corrected."""
    rng = np.random.default_rng(50_000 + n)
    categories, dims = 5, 3
    quality = 10 * rng.beta(5.0, 2.0, size=(SAMPLES, categories, n, dims))

    def judge() -> np.ndarray:
        noisy = quality + rng.normal(0.0, 1.0, quality.shape)
        noisy = np.round(noisy) if scores == "whole" else noisy
        sc_pq_c = np.clip(noisy, 0, 10)
        overall = np.sqrt(sc_pq_c[..., 0] * sc_pq_c[..., 1])[..., None]
        return np.concatenate([sc_pq_c, overall], axis=-1)

    deltas = judge() - judge()  # (samples, category, case, dimension), no true change
    rows = [deltas[:, k, :, d] for k in range(categories) for d in range(dims + 1)]
    rows += [deltas.reshape(SAMPLES, categories * n, dims + 1)[..., d] for d in range(dims + 1)]
    p_scores = [stats.estimate_mean(row).p_value() for row in rows]
    failed_a = rng.random((SAMPLES, categories, n)) < 0.05
    failed_b = rng.random((SAMPLES, categories, n)) < 0.05
    new, gone = failed_b & ~failed_a, failed_a & ~failed_b
    p_failures = [stats.mcnemar_exact(new[:, k].sum(-1), gone[:, k].sum(-1)) for k in range(5)]
    p_failures.append(stats.mcnemar_exact(new.sum((1, 2)), gone.sum((1, 2))))
    p = np.stack(p_scores + p_failures * (dims + 1), axis=1)  # failure rows per dimension
    flagged = (stats.holm(p) < stats.ALPHA).any(axis=1).mean()
    unadjusted = (p < stats.ALPHA).any(axis=1).mean()
    TABLE.append(
        f"no change: share of compares flagging anything, n={n} {scores}: "
        f"{flagged:.4f} with Holm ({unadjusted:.3f} without)"
    )
    assert flagged <= 0.05
    assert unadjusted > 0.2  # the rows really are many tests: uncorrected, flags would be common


def test_holm_matches_its_definition():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    adjusted = stats.holm(p)
    assert np.allclose(adjusted[[0, 2, 1, 4]], [0.04, 0.09, 0.09, 0.5])
    assert np.isnan(adjusted[3])


def test_mcnemar_exact_is_the_binomial_test_on_discordant_cases():
    for b, c in [(3, 0), (5, 1), (0, 0), (2, 2), (0, 7)]:
        expected = sps.binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
        assert float(stats.mcnemar_exact(b, c)) == pytest.approx(expected)
