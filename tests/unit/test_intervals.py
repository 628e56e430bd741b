"""Intervals that keep their coverage for any bounded scores, flags that stay rare when nothing
changed: by simulation.

Each test draws a few thousand seeded samples of 0-10 scores at once and runs the reports' own
functions (`editbench.reporting.stats`) over them, vectorised. Families: normal (continuous and
rounded), skewed towards either end of the scale, lumpy (few distinct values: what a judge
writing integers gives), and the two-point and rare-event distributions of issue 28 (a judge
that mostly answers 0 and sometimes 10; 8, or 2 one time in ten), on which the floored Student t
interval this replaces covered 56-88%. The printed table is the evidence quoted in the README.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from editbench.reporting import stats

SAMPLES = 2000
FLOOR = 0.93  # the coverage the nominal 95% interval must keep
SIZES = [5, 10, 30, 100]


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
    # issue 28's table: where the floored t interval lost its coverage
    "0 or 10, P(10)=0.15": discrete([0, 10], [0.85, 0.15]),
    "0 or 10, P(10)=0.05": discrete([0, 10], [0.95, 0.05]),
    "8, or 2 with P=0.1": discrete([2, 8], [0.1, 0.9]),
    "0 or 10, P(10)=0.01": discrete([0, 10], [0.99, 0.01]),
    "all 10": discrete([10], [1.0]),
}
ISSUE_TABLE = ["0 or 10, P(10)=0.15", "0 or 10, P(10)=0.05", "8, or 2 with P=0.1"]


def pair_family(name):
    """(sampler of B - A deltas with shape (samples, n), true mean delta) for a paired family."""

    def draw(rng, size):
        if name == "normal":
            a = np.clip(rng.normal(6.0, 1.5, size), 0, 10)
            return np.clip(a + rng.normal(0.4, 1.0, size), 0, 10) - a
        if name == "skewed":  # B a little better, now and then much better
            a = MEANS["skewed low, whole"][0](rng, size)
            return np.clip(np.round(a + rng.exponential(1.0, size)), 0, 10) - a
        if name == "rare jump":  # B fixes one case in ten completely, 0 -> 10
            return 10.0 * (rng.random(size) < 0.1)
        a = MEANS["lumpy 6-9"][0](rng, size)  # lumpy: B moves by whole points
        return (
            np.clip(a + rng.choice([-1, 0, 1, 2], p=[0.15, 0.5, 0.25, 0.1], size=size), 0, 10) - a
        )

    truth = float(draw(np.random.default_rng(99), 2_000_000).mean())
    return draw, truth


def coverage(low, high, truth: float) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


TABLE: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def print_table():
    yield
    print(f"\nsimulated coverage of the nominal 95% betting interval ({SAMPLES} samples each)")
    print("\n".join(sorted(TABLE)))


@pytest.mark.parametrize("family", list(MEANS))
def test_interval_of_the_mean_keeps_its_coverage_for_any_distribution(family):
    draw, truth = MEANS[family]
    covers = []
    for n in SIZES:
        rng = np.random.default_rng(20_000 + n)
        covers.append(coverage(*stats.estimate_mean(draw(rng, (SAMPLES, n))).interval(), truth))
    TABLE.append(
        f"mean   {family:22s} "
        + "  ".join(f"n={n}: {c:.3f}" for n, c in zip(SIZES, covers, strict=True))
    )
    assert min(covers) >= FLOOR, (family, covers)


def test_the_issue_table_now_holds_where_the_floored_t_interval_did_not():
    """Issue 28's cells, with the old method recomputed beside the new one on the same draws."""
    failed_before = 0
    for family in ISSUE_TABLE:
        draw, truth = MEANS[family]
        for n in SIZES:
            data = draw(np.random.default_rng(60_000 + n), (SAMPLES, n))
            assert coverage(*stats.estimate_mean(data).interval(), truth) >= FLOOR
            failed_before += coverage(*floored_t(data), truth) < FLOOR
    assert failed_before >= 4  # 0.563, 0.804, 0.788, 0.875 in the issue


def floored_t(data):
    """The interval this replaces: t with variance max(s², min(1, 10/n)), clipped to 0-10."""
    n = data.shape[-1]
    variance = np.maximum(data.var(axis=-1, ddof=1), min(1.0, 10.0 / n))
    half = sps.t.ppf(0.975, n - 1) * np.sqrt(variance / n)
    mean = data.mean(axis=-1)
    return np.clip(mean - half, 0, 10), np.clip(mean + half, 0, 10)


@pytest.mark.parametrize("family", ["normal", "skewed", "lumpy", "rare jump"])
def test_interval_of_a_paired_difference_keeps_its_coverage(family):
    draw, truth = pair_family(family)
    covers = []
    for n in SIZES:
        rng = np.random.default_rng(30_000 + n)
        deltas = draw(rng, (SAMPLES, n))
        estimate = stats.estimate_mean(deltas, stats.difference_scale(stats.SCORE_SCALE))
        covers.append(coverage(*estimate.interval(), truth))
    TABLE.append(
        f"B - A  {family:22s} "
        + "  ".join(f"n={n}: {c:.3f}" for n, c in zip(SIZES, covers, strict=True))
    )
    assert min(covers) >= FLOOR, (family, covers)


@pytest.mark.parametrize("sizes", [(5, 5, 5, 5, 5), (5, 7, 12, 9, 6), (30, 45, 60, 30, 100)])
def test_interval_of_the_macro_mean_keeps_its_coverage(sizes):
    names = ["normal", "skewed high", "0 or 10, P(10)=0.15", "lumpy 6-9", "8, or 2 with P=0.1"]
    rng = np.random.default_rng(40_000 + sum(sizes))
    groups = [MEANS[name][0](rng, (SAMPLES, n)) for name, n in zip(names, sizes, strict=True)]
    truth = float(np.mean([MEANS[name][1] for name in names]))
    estimate = stats.estimate_macro(groups)
    cover = coverage(*estimate.interval(), truth)
    TABLE.append(f"macro  5 categories of {sizes} {cover:.3f}")
    assert cover >= FLOOR, (sizes, cover)


def test_a_pooled_mean_keeps_its_coverage_with_three_or_four_values_per_case():
    """KRIS's Score: a case gives 3 or 4 whole 1-5 scores normalised to 0-100, pooled."""
    rng = np.random.default_rng(7)

    def draw(runs, size):
        counts = np.where(rng.random((runs, size)) < 0.4, 4, 3)
        noise = rng.normal(0, 0.6, (runs, size, 1)) + rng.normal(0, 0.8, (runs, size, 4))
        scores = np.clip(np.rint(1.6 + noise), 1, 5)
        kept = np.arange(4) < counts[..., None]
        return (25 * (scores - 1) * kept).sum(axis=-1), counts

    sums, counts = draw(1, 400_000)
    truth = sums.sum() / counts.sum()
    for n in SIZES:
        sums, counts = draw(SAMPLES, n)
        estimate = stats.estimate_pooled(sums, counts, stats.Scale(0, 100), most=4)
        assert coverage(*estimate.interval(), truth) >= FLOOR, n


@pytest.mark.parametrize("n", [5, 10, 30])
@pytest.mark.parametrize("scores", ["whole", "continuous"])
def test_without_a_true_change_at_most_one_compare_in_twenty_flags_anything(n, scores):
    """24 score rows (5 categories + overall, 4 dimensions) and 24 failure rows, Holm-corrected,
    every score row tested with the betting p-value."""
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
    scale = stats.difference_scale(stats.SCORE_SCALE)
    p_scores = [stats.estimate_mean(row, scale).p_value() for row in rows]
    failed_a = rng.random((SAMPLES, categories, n)) < 0.05
    failed_b = rng.random((SAMPLES, categories, n)) < 0.05
    new, gone = failed_b & ~failed_a, failed_a & ~failed_b
    p_failures = [stats.mcnemar_exact(new[:, k].sum(-1), gone[:, k].sum(-1)) for k in range(5)]
    p_failures.append(stats.mcnemar_exact(new.sum((1, 2)), gone.sum((1, 2))))
    p = np.stack(p_scores + p_failures * (dims + 1), axis=1)  # failure rows per dimension
    flagged = (stats.holm(p) < stats.ALPHA).any(axis=1).mean()
    TABLE.append(f"no change: share of compares flagging anything, n={n} {scores}: {flagged:.4f}")
    assert flagged <= 0.05


def test_a_real_change_is_flagged_on_realistic_scores():
    """Power check of the same p-value: B one point better on 100 cases of whole 0-10 scores
    (on 60 cases it flags about 70% of the time: the price of a test valid for any change)."""
    rng = np.random.default_rng(8)
    a = np.clip(np.round(rng.normal(6, 1.5, (SAMPLES, 100))), 0, 10)
    b = np.clip(np.round(a + 1 + rng.normal(0, 1.0, a.shape)), 0, 10)
    p = stats.estimate_mean(b - a, stats.difference_scale(stats.SCORE_SCALE)).p_value()
    assert np.mean(p < stats.ALPHA) > 0.9


def test_holm_matches_its_definition():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    adjusted = stats.holm(p)
    assert np.allclose(adjusted[[0, 2, 1, 4]], [0.04, 0.09, 0.09, 0.5])
    assert np.isnan(adjusted[3])


def test_mcnemar_exact_is_the_binomial_test_on_discordant_cases():
    for b, c in [(3, 0), (5, 1), (0, 0), (2, 2), (0, 7)]:
        expected = sps.binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
        assert float(stats.mcnemar_exact(b, c)) == pytest.approx(expected)
