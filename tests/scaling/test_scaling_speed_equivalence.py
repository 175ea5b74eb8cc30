"""The fast paths of the vote-scaling predictor give the numbers of the direct computations.

* the partition weights of wrong clusters (a dynamic programme over sets of explicit answers, walked
  along shared prefixes) equal a brute-force sum over assignments and the per-set loop, bit for bit;
* the cross-validation's shared likelihoods equal fitting every fold from scratch, bit for bit;
* replicates below the size threshold are the one-stream loop's (the same draws; the last contraction
  with the thinned curves is a matrix product now, so equal to rounding);
* the factored likelihood fits the dense one's prior to rounding, and above the size threshold the
  replicates are the same whatever runs them (here, in this process or in two local processes).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special

from callscale.executors.local import local_map, serial_map
from callscale.scaling import predict, prior
from callscale.scaling.density import FactoredLikelihood, band_of, fit_banded_prior, spline_basis
from callscale.scaling.estimate import ItemCounts
from callscale.scaling.grid import (
    _partition_log_weight,
    _partition_log_weights,
    log_likelihood,
    log_likelihood_parts,
    posterior,
    signature_table,
    wrong_profiles,
)
from callscale.scaling.predict import _VoteModel, vote_curve_draws
from callscale.scaling.prior import PENALTY_CANDIDATES, PriorRefit, fit_answer_prior, select_penalty


def _pool(n: int, samples: int, seed: int) -> list[ItemCounts]:
    """Counts of ``n`` items with a few repeated wrong answers, diffuse ones and some abstains."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = rng.beta(0.6, 0.9)
        probs = np.concatenate([[p], (1.0 - p) * rng.dirichlet([1.0, 0.6, 0.4, 0.5]) * 0.97, [0.0]])
        probs[-1] = 1.0 - probs[:-1].sum()
        draws = np.bincount(rng.choice(probs.size, size=samples, p=probs), minlength=probs.size)
        wrong = [int(m) for m in draws[1:4] if m > 0] + [1] * int(draws[4])  # the diffuse ones never repeat
        out.append(ItemCounts(int(draws[0]), tuple(sorted(wrong, reverse=True)), int(draws[5])))
    return out


def _brute_partition(wrong: tuple[int, ...], shares: np.ndarray) -> np.ndarray:
    """Σ over assignments of clusters to distinct explicit answers (singletons may be diffuse) of Π share^size."""
    n_explicit = shares.shape[1] - 1
    total = np.zeros(shares.shape[0])
    options = [range(n_explicit + (1 if size == 1 else 0)) for size in wrong]
    for choice in itertools.product(*options):
        explicit = [c for c in choice if c < n_explicit]
        if len(set(explicit)) != len(explicit):
            continue
        total += np.prod([shares[:, c] ** size for c, size in zip(choice, wrong, strict=True)], axis=0)
    return total


def _loop_partition(wrong: tuple[int, ...], shares: np.ndarray) -> np.ndarray:
    """The dynamic programme as a loop over every set of used answers (the direct form)."""
    n_explicit = shares.shape[1] - 1
    dp = np.zeros((1 << n_explicit, shares.shape[0]))
    dp[0] = 1.0
    for size in wrong:
        new = np.zeros_like(dp)
        powered = shares[:, :n_explicit].T ** size
        for mask in range(1 << n_explicit):
            if not dp[mask].any():
                continue
            for j in range(n_explicit):
                if not mask >> j & 1:
                    new[mask | 1 << j] += dp[mask] * powered[j]
            if size == 1:
                new[mask] += dp[mask] * shares[:, n_explicit]
        dp = new
    with np.errstate(divide="ignore"):
        return np.log(dp.sum(axis=0))


def test_partition_weights_equal_brute_force_and_the_direct_loop() -> None:
    shares = wrong_profiles(3)
    key = tuple(tuple(float(x) for x in row) for row in shares)
    cases = [(), (1,), (2,), (1, 1), (3, 1, 1), (2, 2, 1), (2, 2, 2), (4, 1, 1, 1), (1, 1, 1, 1, 1)]
    for wrong in cases:
        with np.errstate(divide="ignore"):
            np.testing.assert_allclose(_partition_log_weight(wrong, key), np.log(_brute_partition(wrong, shares)),
                                       rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(3)
    many = [tuple(sorted(rng.integers(1, 4, size=rng.integers(0, 14)).tolist(), reverse=True)) for _ in range(120)]
    many = [w for w in many if sum(1 for m in w if m > 1) <= 3]
    for wrong, got in zip(many, _partition_log_weights(many, key), strict=True):
        assert np.array_equal(got, _loop_partition(wrong, shares)), wrong


def test_log_likelihood_is_the_sum_of_its_parts() -> None:
    counts = _pool(40, 12, seed=1)
    shares = wrong_profiles(5)
    p_grid = np.linspace(0.0, 1.0, 11)
    by_p, by_q = log_likelihood_parts(counts, p_grid, shares)
    assert np.array_equal(log_likelihood(counts, p_grid, shares),
                          (by_p[:, :, None] + by_q[:, None, :]).reshape(len(counts), -1))


def test_cross_validation_with_shared_likelihoods_is_fitting_every_fold_afresh() -> None:
    counts = _pool(60, 6, seed=2)
    folds, seed = 5, 0
    order = np.random.default_rng(seed).permutation(len(counts))
    scores = np.zeros(len(PENALTY_CANDIDATES))
    profiles = wrong_profiles(5)
    for fold in range(folds):
        held = np.zeros(len(counts), dtype=bool)
        held[order[fold::folds]] = True
        train = [c for c, h in zip(counts, held, strict=True) if not h]
        test_loglik = log_likelihood([c for c, h in zip(counts, held, strict=True) if h], np.linspace(0, 1, 51), profiles)
        for i, penalty in enumerate(PENALTY_CANDIDATES):
            fitted = fit_answer_prior(train, profiles=profiles, penalty=penalty)
            with np.errstate(divide="ignore"):
                log_w = np.log(fitted.weights.ravel())
            scores[i] += float(special.logsumexp(test_loglik + log_w[None, :], axis=1).sum())
    expected = float(PENALTY_CANDIDATES[int(np.argmax(scores))])
    assert select_penalty(counts, profiles=profiles, folds=folds, seed=seed) == expected
    assert select_penalty(counts, profiles=profiles, mapper=local_map) == expected  # wherever the fits run


def test_replicates_of_a_dense_likelihood_are_the_one_stream_loops() -> None:
    counts = _pool(50, 5, seed=4)
    ks = np.array([1, 3, 9, 31])
    fitted = fit_answer_prior(counts, penalty=0.1)
    model = _VoteModel.of(fitted, counts, ks)
    assert isinstance(PriorRefit.of(fitted, model.sigs).lik, np.ndarray)  # small enough to be kept dense
    # The loop as it always was: one stream, a dense posterior per replicate, rows summed with np.add.at.
    rng = np.random.default_rng(7)
    refit = PriorRefit.of(fitted, model.sigs)
    expected = np.empty((6, ks.size))
    for b in range(6):
        draw = rng.multinomial(int(model.mult.sum()), model.mult / model.mult.sum()).astype(float)
        penalty = float(np.exp(rng.uniform(np.log(0.01), np.log(1.0))))
        w_b = refit.weights(draw, penalty, 6)
        picks = rng.multinomial(model.mult.astype(np.int64), posterior(model.loglik, w_b / w_b.sum())).astype(float)
        by_group = np.zeros((model.thinned.shape[0], picks.shape[1]))
        np.add.at(by_group, model.group_of, picks)
        expected[b] = np.einsum("ag,agk->k", by_group, model.thinned) / model.mult.sum()
    draws = vote_curve_draws(counts, ks, prior=fitted, n_boot=6, seed=7)
    np.testing.assert_allclose(draws.replicates, expected, rtol=0.0, atol=1e-14)


def test_the_factored_likelihood_fits_what_the_dense_one_does() -> None:
    counts = _pool(80, 16, seed=5)
    sigs, inverse = signature_table(counts)
    mult = np.bincount(inverse).astype(float)
    p_grid, shares = np.linspace(0.0, 1.0, 51), wrong_profiles(5)
    by_p, by_q = log_likelihood_parts(sigs, p_grid, shares)
    loglik = log_likelihood(sigs, p_grid, shares)
    dense = np.exp(loglik - loglik.max(axis=1, keepdims=True)).reshape(len(sigs), p_grid.size, -1)
    factored = FactoredLikelihood.of(by_p, by_q)
    np.testing.assert_allclose(factored.dense(), dense, rtol=1e-12, atol=1e-300)
    basis, bands = spline_basis(p_grid, 12), band_of(p_grid, prior.PROFILE_BANDS)
    start = np.full((4, shares.shape[0]), 1.0 / shares.shape[0])
    args = (mult, basis, 0.1, 30, np.zeros(basis.shape[1]), start, bands, np.zeros(p_grid.size))
    coef_d, h_d = fit_banded_prior(dense, *args)
    coef_f, h_f = fit_banded_prior(factored, *args)
    np.testing.assert_allclose(coef_f, coef_d, rtol=0.0, atol=1e-8)
    np.testing.assert_allclose(h_f, h_d, rtol=0.0, atol=1e-9)


@pytest.fixture
def everything_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every problem counts as large: factored fits, a stream per replicate."""
    monkeypatch.setattr(prior, "DENSE_MAX", 0)


def test_above_the_threshold_the_numbers_do_not_depend_on_where_replicates_run(everything_large: None) -> None:
    counts = _pool(60, 8, seed=6)
    ks = np.array([1, 3, 9, 31, 101])
    fitted = fit_answer_prior(counts, mapper=serial_map)
    assert fitted.penalty == fit_answer_prior(counts, mapper=local_map).penalty
    here = vote_curve_draws(counts, ks, prior=fitted, n_boot=12, seed=3, mapper=serial_map)
    pooled = vote_curve_draws(counts, ks, prior=fitted, n_boot=12, seed=3, mapper=local_map)
    one_by_one = vote_curve_draws(counts, ks, prior=fitted, n_boot=12, seed=3,
                                  mapper=lambda fn, items: [np.concatenate([fn([b]) for b in chunk]) for chunk in items])
    assert np.array_equal(here.replicates, pooled.replicates) and np.array_equal(here.replicates, one_by_one.replicates)
    assert np.array_equal(here.mean, pooled.mean)
    # The replicates are spread around the curve, as the one-stream ones are.
    lo, hi = np.quantile(here.replicates, [0.0, 1.0], axis=0)
    assert np.all(lo <= here.mean + 0.05) and np.all(here.mean - 0.05 <= hi)


def test_the_posterior_draws_follow_the_posterior(everything_large: None) -> None:
    counts = [ItemCounts(3, (2, 1)), ItemCounts(0, (4, 1))]
    fitted = fit_answer_prior(counts * 10, penalty=0.1)
    refit = PriorRefit.of(fitted, counts)
    n = 40_000
    job = predict._Replicates(refit, np.array([float(n), float(n)]), np.zeros(2, dtype=np.int64),
                              np.zeros((1, fitted.weights.size, 1)), 0, 6, None)
    points = job._draw_points(np.random.default_rng(0), fitted.weights)
    post = posterior(fitted.log_likelihood(counts), fitted.weights.ravel())
    for s in range(2):
        seen = np.bincount(points[s * n:(s + 1) * n], minlength=fitted.weights.size) / n
        assert 0.5 * np.abs(seen - post[s]).sum() < 0.03  # total variation
        # p (the correct answer's probability) has the posterior's mean to within sampling error
        p_of = np.repeat(fitted.p_grid, fitted.profiles.shape[0])
        assert math.isclose(float(seen @ p_of), float(post[s] @ p_of), abs_tol=0.01)
