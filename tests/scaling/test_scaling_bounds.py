"""Tests of callscale.scaling.bounds: the likelihood range of the vote curve."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from callscale.scaling.bounds import likelihood_range
from callscale.scaling.estimate import ItemCounts
from callscale.scaling.prior import fit_answer_prior
from callscale.scaling.theory import binary_vote_accuracy, mixture_accuracy


def binary_counts(rng: np.random.Generator, n_items: int, n_samples: int, alpha: float, p1: float, p2: float) -> list[ItemCounts]:
    out = []
    for _ in range(n_items):
        p = p1 if rng.random() < alpha else p2
        c = int(rng.binomial(n_samples, p))
        out.append(ItemCounts(c, (n_samples - c,) if c < n_samples else ()))
    return out


def test_range_matches_brute_force_over_every_prior_on_a_small_grid() -> None:
    # Three possible items (p = .2, .5, .8), binary answers: the set of priors is a triangle, so the
    # likelihood set and the extremes of F_K over it can be found by exhaustive search.
    rng = np.random.default_rng(3)
    counts = binary_counts(rng, 150, 5, 0.5, 0.8, 0.2)
    grid = np.array([0.2, 0.5, 0.8])
    prior = fit_answer_prior(counts, p_grid=grid, profiles=[[1.0, 0.0]])
    ks = np.array([1, 5, 15])
    got = likelihood_range(counts, ks, prior=prior, level=0.9)

    step = 1 / 400
    simplex = np.array([(a, b, 1 - a - b) for a, b in itertools.product(np.arange(0, 1 + step / 2, step), repeat=2)
                        if a + b <= 1 + 1e-12])
    simplex = np.clip(simplex, 0.0, None)
    c = np.array([x.correct for x in counts])
    loglik = (stats.binom.pmf(c[:, None], 5, grid[None, :]) @ simplex.T)
    ell = np.log(loglik).sum(axis=0)
    inside = ell >= ell.max() - stats.chi2.ppf(0.9, 1) / 2
    curves = binary_vote_accuracy(grid[:, None], ks[None, :])  # (3, len(ks)); ties at even K scored 1/2
    values = simplex[inside] @ curves
    np.testing.assert_allclose(got.hi, values.max(axis=0), atol=0.01)
    np.testing.assert_allclose(got.lo, values.min(axis=0), atol=0.01)
    # The search only reports priors it visited inside the set, so it never claims more than exists.
    assert np.all(got.hi <= values.max(axis=0) + 2 * step) and np.all(got.lo >= values.min(axis=0) - 2 * step)


def test_range_covers_the_true_curve_as_often_as_its_level_says() -> None:
    # The paper's inverse-U task (α, p₁, p₂) = (.5, .84, .4), 200 items × 5 samples, ten independent
    # draws: a 95 % range must contain the true curve at each K in (nearly) every draw. On 20 draws it
    # did so in 19 at every K.
    ks = np.array([1, 9, 31])
    truth = mixture_accuracy(0.5, 0.84, 0.4, ks)
    inside = []
    for seed in range(10):
        r = likelihood_range(binary_counts(np.random.default_rng(100 + seed), 200, 5, 0.5, 0.84, 0.4), ks)
        inside.append((r.lo <= truth + 1e-9) & (truth <= r.hi + 1e-9))
        assert r.width()[0] < 0.12 < r.width()[-1]  # K = 1 is the mean accuracy: pinned; K = 31 is not
    assert np.all(np.mean(inside, axis=0) >= 0.8)


def test_more_samples_per_item_narrow_the_range() -> None:
    rng = np.random.default_rng(7)
    p = np.where(rng.random(300) < 0.5, 0.84, 0.4)
    many = rng.random((300, 20)) < p[:, None]
    ks = np.array([5, 31])

    def counts_of(n: int) -> list[ItemCounts]:
        c = many[:, :n].sum(axis=1)
        return [ItemCounts(int(x), (n - int(x),) if x < n else ()) for x in c]

    few, more = likelihood_range(counts_of(5), ks), likelihood_range(counts_of(20), ks)
    assert np.all(more.width() < few.width()) and more.width()[1] < 0.5 * few.width()[1]
    truth = mixture_accuracy(0.5, 0.84, 0.4, ks)
    assert np.all(more.lo <= truth) and np.all(truth <= more.hi)


def test_abstains_lower_the_range_as_thinning_says() -> None:
    # Every item answers correctly whenever it answers; a third of the samples abstain. At K = 1 the
    # accuracy is the answering rate, and at K = 5 it is the chance that at least one sample answers.
    rng = np.random.default_rng(1)
    counts = []
    for _ in range(300):
        a = int(rng.binomial(6, 1 / 3))
        counts.append(ItemCounts(6 - a, (), a))
    r = likelihood_range(counts, [1, 5])
    assert r.lo[0] <= 2 / 3 <= r.hi[0] and 0.02 < r.hi[0] - r.lo[0] < 0.1
    assert r.lo[1] <= 1 - (1 / 3) ** 5 <= r.hi[1] + 0.01


def test_bad_arguments_are_refused() -> None:
    counts = [ItemCounts(3, (2,))] * 5
    with pytest.raises(ValueError, match="K must"):
        likelihood_range(counts, [0, 3])
    with pytest.raises(ValueError, match="level"):
        likelihood_range(counts, [3], level=1.0)
    with pytest.raises(ValueError, match="no items"):
        likelihood_range([], [3])
