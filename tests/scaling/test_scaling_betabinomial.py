"""The beta-binomial law: it recovers its own parameters, its pass@k and vote formulas equal brute force,
and it is registered and exported."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special

import callscale as cs
from callscale.scaling.estimate import ItemCounts, PoolItem
from callscale.scaling.laws import BetaBinomialLaw, BetaPassAtKLaw, CannotFit, get_law, law_names
from callscale.scaling.laws.betabinomial import (
    BETA_P_GRID,
    beta_grid_weights,
    beta_pass_at_k,
    beta_vote_curve,
    fit_beta_law,
    grid_vote_curve,
    modal_wrong_share,
)


def beta_pools(a: float, b: float, n_items: int, n: int, seed: int = 0, share: float = 1.0) -> list[PoolItem]:
    """Items with p ~ Beta(a, b); a non-correct sample is "w" with probability ``share``, else unique."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_items):
        p = rng.beta(a, b)
        draws = rng.random(n)
        modal = rng.random(n) < share
        out.append(PoolItem(str(i), "g", tuple("g" if d < p else ("w" if m else f"u{i}-{j}")
                                               for j, (d, m) in enumerate(zip(draws, modal, strict=True)))))
    return out


def test_the_fit_recovers_its_own_parameters() -> None:
    # 2,000 items from Beta(0.4, 1.6), 10 samples each: a within ±0.06 (15 %), b within ±0.3 (19 %); the
    # standard errors at this size are about 0.02 and 0.1.
    pools = beta_pools(0.4, 1.6, 2000, 10, seed=1)
    law = BetaBinomialLaw(n_boot=0).fit(pools)
    assert abs(law.a_ - 0.4) < 0.06 and abs(law.b_ - 1.6) < 0.3
    assert law.params()["mean"] == pytest.approx(0.2, abs=0.02) and law.share_ == 1.0


def test_pass_at_k_equals_monte_carlo_and_a_brute_force_sum() -> None:
    a, b, ks = 0.4, 1.6, np.array([1, 2, 5, 20, 100])
    exact = beta_pass_at_k(a, b, ks)
    # brute force: 1 − Σ_j P(j correct of k)·[j = 0] = 1 − E[(1 − p)^k] by the beta-binomial pmf at 0
    # and by expanding (1 − p)^k in moments of the Beta law, E[p^i] = Π_{r<i} (a + r)/(a + b + r)
    for k, value in zip(ks, exact, strict=True):
        pmf0 = math.exp(special.betaln(a, b + k) - special.betaln(a, b))
        assert value == pytest.approx(1.0 - pmf0, abs=1e-12)
        if k <= 20:
            moments = np.cumprod([1.0, *((a + r) / (a + b + r) for r in range(k))])
            expansion = sum(math.comb(k, i) * (-1) ** i * moments[i] for i in range(k + 1))
            assert value == pytest.approx(1.0 - expansion, abs=1e-9)
    p = np.random.default_rng(0).beta(a, b, 400_000)
    monte_carlo = 1.0 - np.mean((1.0 - p[:, None]) ** ks[None, :], axis=0)
    assert np.allclose(exact, monte_carlo, atol=3e-3)
    # the coverage law of the same fit
    law = BetaPassAtKLaw(n_boot=20).fit(beta_pools(a, b, 300, 8))
    assert law.predict(ks).tolist() == beta_pass_at_k(law.a_, law.b_, ks).tolist() and law.target == "coverage"
    lo, hi = law.band(ks)
    assert np.all(lo <= law.predict(ks)) and np.all(law.predict(ks) <= hi) and law.best_k([1, 7, 3]).k == 7


def _brute_vote(p: float, share: float, k: int) -> float:
    """Plurality vote over every sequence of k draws (correct, modal wrong, unique wrong), ties uniform."""
    probs = (p, share * (1 - p), (1 - share) * (1 - p))
    total = 0.0
    for seq in itertools.product(range(3), repeat=k):
        weight = math.prod(probs[s] for s in seq)
        c, w, u = seq.count(0), seq.count(1), seq.count(2)
        top = max(c, w, 1 if u else 0)
        if c == top:
            ties = 1 + (w == top) + (u if top == 1 else 0)
            total += weight / ties
    return total


def test_vote_prediction_equals_brute_force_on_a_two_point_mixture() -> None:
    grid = BETA_P_GRID
    i, j = 60, 200  # two grid points (p ≈ .11 and .75)
    weights = np.zeros(grid.size)
    weights[[i, j]] = [0.3, 0.7]
    ks = [1, 2, 3, 4, 5, 7]
    for share in (1.0, 0.6, 0.0):
        got = grid_vote_curve(weights, share, ks)
        expected = [0.3 * _brute_vote(grid[i], share, k) + 0.7 * _brute_vote(grid[j], share, k) for k in ks]
        assert np.allclose(got, expected, atol=1e-12)


def test_vote_prediction_integrates_the_beta_law() -> None:
    a, b = 0.4, 1.6
    w = beta_grid_weights(a, b)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12) and w @ BETA_P_GRID == pytest.approx(0.2, abs=1e-12)
    # binary vote at odd K under Beta(a, b): the beta-binomial tail P[BetaBin(K, a, b) > K/2], exactly
    ks = np.array([1, 3, 9, 31, 101])
    got = beta_vote_curve(a, b, 1.0, ks)
    for k, value in zip(ks, got, strict=True):
        j = np.arange(k // 2 + 1, k + 1)
        log_pmf = (special.gammaln(k + 1) - special.gammaln(j + 1) - special.gammaln(k - j + 1)
                   + special.betaln(a + j, b + k - j) - special.betaln(a, b))
        assert value == pytest.approx(float(np.exp(log_pmf).sum()), abs=2e-4)


def test_the_law_fits_bands_and_is_registered() -> None:
    assert "beta" in law_names() and get_law("beta") is BetaBinomialLaw
    assert get_law("beta_coverage") is BetaPassAtKLaw
    pools = beta_pools(0.5, 1.5, 200, 10, seed=3, share=0.7)
    law = get_law("beta")(fit_on=5, offset=5, n_boot=40, seed=2, band_scale=1.0).fit(pools)
    assert law.share_ == pytest.approx(modal_wrong_share(law.counts_)) and 0.5 < law.share_ < 0.9
    ks = np.arange(1, 60)
    mean = law.predict(ks)
    lo, hi = law.band(ks)
    assert np.all(lo <= mean) and np.all(mean <= hi) and np.any(hi > lo)
    wider = law.clone(band_scale=2.0).fit(pools).band(ks)
    assert np.allclose(mean - wider[0], np.minimum(2 * (mean - lo), mean), atol=1e-12)
    assert law.clone().fit(pools).band(ks)[0].tolist() == lo.tolist()  # the seed fixes the bootstrap
    assert np.allclose(law.clone(band_scale=None).fit(pools).band(ks)[0],  # the calibrated band by default
                       np.clip(mean - BetaBinomialLaw.BAND_SCALE * (mean - lo), 0, 1), atol=1e-12)
    assert law.best_k(ks, among=ks[ks % 2 == 1]).k % 2 == 1
    assert set(law.params()) == {"a", "b", "mean", "share"}
    with pytest.raises(CannotFit):
        fit_beta_law([ItemCounts(0, (3,))] * 5)


def test_the_public_face_exports_it() -> None:
    assert cs.BetaBinomialLaw is BetaBinomialLaw and "BetaBinomialLaw" in cs.__all__
    assert cs.beta_pass_at_k is beta_pass_at_k and "beta_pass_at_k" in cs.__all__
