"""Tests of the predictors: Chen et al.'s law, the coverage law, the answer prior and the shrinkage predictor
(callscale.scaling.laws, .prior, .predict; callscale.scaling.fit re-exports them)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from callscale.scaling import fit
from callscale.scaling.density import BASE_CONCENTRATION, fit_base_law
from callscale.scaling.estimate import ItemCounts, coverage_curve, item_counts, pass_at_k, subset_vote_curves
from callscale.scaling.grid import wrong_profiles
from callscale.scaling.laws.chen import chen_law, fit_chen_law, fit_chen_law_pool
from callscale.scaling.laws.coverage import CoverageLaw, fit_coverage_law
from callscale.scaling.predict import CurvePrediction, predict_vote_curve
from callscale.scaling.prior import (
    FALLBACK_PENALTY,
    PENALTY_CANDIDATES,
    PROFILE_BANDS,
    AnswerPrior,
    fit_answer_prior,
    select_penalty,
)
from callscale.scaling.theory import binary_vote_accuracy, vote_accuracy, vote_accuracy_curves

FIT_K = np.array([2, 5, 10, 20, 50, 100])


# ------------------------------------------------------------------ Chen et al.'s law


def test_chen_law_recovers_a_curve_it_generated() -> None:
    rng = np.random.default_rng(0)
    n = 12
    params = np.column_stack([rng.uniform(0, 0.03, n), rng.uniform(0, 0.3, n), rng.uniform(0.0, 1.5, n)])
    mode = rng.random(n) < 0.6
    acc = np.array([chen_law(FIT_K, *p, m) for p, m in zip(params, mode, strict=True)])
    fit = fit_chen_law(FIT_K, acc, mode)
    ks = np.array([1, 3, 7, 100, 300, 1000])
    truth = np.array([chen_law(ks, *p, m) for p, m in zip(params, mode, strict=True)])
    np.testing.assert_allclose(fit.predict_items(ks), truth, atol=2e-3)
    np.testing.assert_allclose(fit.predict(ks), truth.mean(axis=0), atol=1e-3)
    assert np.all(fit.params[:, :2] >= 0)


def test_chen_law_branches_and_pool_fit() -> None:
    counts = [ItemCounts(4, (1,)), ItemCounts(1, (3, 1)), ItemCounts(2, (2, 1)), ItemCounts(0, (5,))]
    fit = fit_chen_law_pool(counts)
    assert fit.correct_is_mode.tolist() == [True, False, True, False]
    far = fit.predict_items([1000])[:, 0]
    assert far[0] > 0.95 and far[1] < 0.05 and far[3] == pytest.approx(0.0, abs=1e-9)
    # on the fitted K the law is close to the exact subset averages it was fitted on
    ks = np.arange(1, 6)
    assert np.abs(fit.predict_items(ks) - subset_vote_curves(counts, ks)).max() < 0.12
    assert fit.best_k([1, 3, 5, 101]) in (1, 3, 5, 101)


# ------------------------------------------------------------------ coverage law


def test_coverage_law_recovers_parameters_and_fits_pass_at_k() -> None:
    ks = np.unique(np.round(np.logspace(0, 2.5, 12)).astype(int))
    law = fit_coverage_law(ks, CoverageLaw(-0.9, -0.35).predict(ks))
    assert law.a == pytest.approx(-0.9, abs=1e-6) and law.b == pytest.approx(-0.35, abs=1e-6)
    # on pass@k from a simulated pool, the fitted law tracks measured coverage
    rng = np.random.default_rng(1)
    p = rng.beta(0.3, 2.0, size=400)
    counts = [ItemCounts(int(c), (400 - int(c),) if c < 400 else ()) for c in rng.binomial(400, p)]
    cov = coverage_curve(counts, ks)
    law = fit_coverage_law(ks, cov)
    assert law.a < 0 and law.b < 0
    assert np.max(np.abs(np.log(law.predict(ks)) - np.log(cov))) < 0.15
    assert pass_at_k(400, 0, 10) == 0.0
    with pytest.raises(ValueError):
        fit_coverage_law([1, 2], [1.0, 1.0])


# ------------------------------------------------------------------ the shrinkage predictor


def _simulated_pool(rng: np.random.Generator, n_items: int, m: int) -> list[list[str]]:
    """Half easy items (p ~ Beta(6,4)), half hard (Beta(2,8)); four wrong answers with Dirichlet
    shares hold 80% of the wrong mass, the rest never repeats."""
    pool = []
    for i in range(n_items):
        pc = rng.beta(6, 4) if rng.random() < 0.5 else rng.beta(2, 8)
        rest = 1 - pc
        probs = np.concatenate([[pc], rng.dirichlet(np.ones(4)) * rest * 0.8, [rest * 0.2]])
        draws = rng.choice(6, size=m, p=probs)
        pool.append([("gold" if d == 0 else f"w{d}" if d < 5 else f"u{i}-{t}") for t, d in enumerate(draws)])
    return pool


def test_predictor_beats_chen_law_on_simulated_mixture() -> None:
    ks = np.arange(1, 41)
    ours, chen = [], []
    for seed in (1, 2, 3):
        pool = _simulated_pool(np.random.default_rng(seed), 300, 40)
        measured = subset_vote_curves([item_counts(a, "gold") for a in pool], ks).mean(axis=0)
        first = [item_counts(a[:5], "gold") for a in pool]
        ours.append(np.abs(predict_vote_curve(first, ks, n_boot=0).mean - measured).mean())
        chen.append(np.abs(fit_chen_law_pool(first).predict(ks) - measured).mean())
    assert np.mean(ours) < 0.6 * np.mean(chen), (ours, chen)


def test_predictor_with_many_samples_matches_measured_curve_and_bands() -> None:
    pool = _simulated_pool(np.random.default_rng(4), 150, 48)
    ks = np.arange(1, 25)
    measured = subset_vote_curves([item_counts(a[24:], "gold") for a in pool], ks).mean(axis=0)
    fit_counts = [item_counts(a[:24], "gold") for a in pool]
    pred = predict_vote_curve(fit_counts, ks, n_boot=40, seed=1, k_star_candidates=ks[ks % 2 == 1])
    assert isinstance(pred, CurvePrediction)
    assert np.abs(pred.mean - measured).mean() < 0.03
    assert np.all(pred.lo <= pred.mean + 1e-12) and np.all(pred.mean <= pred.hi + 1e-12)
    assert pred.k_star % 2 == 1 and pred.k_star_lo <= pred.k_star <= pred.k_star_hi
    assert pred.at(1) == pytest.approx(np.mean([c.correct / c.n for c in fit_counts]), abs=0.02)


def test_curves_beyond_150_follow_the_exact_programme() -> None:
    # The grid of a prior fitted to a mixed task (correct answers, a few repeated wrong answers and
    # diffuse ones), extended to K = 1001, against the exact Poissonised programme at grid points whose
    # curves have not settled by K = 150 (the ones the extension matters for).
    rng = np.random.default_rng(5)
    counts = [ItemCounts(int(c), tuple(sorted((w for w in (int(a), int(b)) if w), reverse=True)), 0)
              for c, a, b in rng.multinomial(6, [0.4, 0.35, 0.25], size=80)]
    prior = fit_answer_prior(counts, p_grid=np.linspace(0, 1, 21))
    curves = prior.grid_curves(1001)
    assert curves.shape == (prior.weights.size, 1001)
    np.testing.assert_array_equal(curves[:, :150], prior.grid_curves(150))  # exact part untouched
    p, wrong, diffuse = prior.grid_distributions()
    settled = np.abs(curves[:, 149] - (p > wrong.max(axis=1))) < 1e-3
    unsettled = np.flatnonzero(~settled & (np.abs(p - wrong.max(axis=1)) > 1e-9))
    picks = np.random.default_rng(0).choice(unsettled, size=min(25, unsettled.size), replace=False)
    errors = np.array([np.abs(vote_accuracy(float(p[g]), wrong[g], [301, 1001], p_diffuse=float(diffuse[g]))
                              - curves[g, [300, 1000]]) for g in picks])
    assert picks.size >= 10
    assert errors.max() < 0.02 and np.median(errors) < 2e-3, errors


def test_prediction_reaches_k_1001_on_a_two_level_mixture() -> None:
    # With 40 samples per item the prior is sharp, so the prediction at large K is the mixture's truth.
    rng = np.random.default_rng(2)
    p = np.where(rng.random(300) < 0.5, 0.84, 0.4)
    c = rng.binomial(40, p)
    counts = [ItemCounts(int(x), (40 - int(x),) if x < 40 else ()) for x in c]
    ks = np.array([1, 31, 151, 301, 1001])
    prior = fit_answer_prior(counts, p_grid=np.linspace(0, 1, 26))  # p = .84 and .4 lie on this grid
    pred = predict_vote_curve(counts, ks, prior=prior, n_boot=0)
    truth = np.mean([binary_vote_accuracy(q, ks) for q in p], axis=0)
    np.testing.assert_allclose(pred.mean, truth, atol=0.03)
    with pytest.raises(ValueError, match="1001 at most"):
        predict_vote_curve(counts, [1002], prior=prior, n_boot=0)


def test_prediction_integrates_abstain_posterior_exactly() -> None:
    """One grid point with certainty; abstains integrated over their beta posterior by thinning."""
    p_grid = np.array([0.55])
    profiles = np.array([[0.7, 0.3, 0.0, 0.0]])  # two wrong answers (0.7, 0.3 of the wrong mass), no diffuse
    prior = AnswerPrior(p_grid, profiles, np.ones((1, 1)), abstain_a=2.0, abstain_b=6.0)
    counts = [ItemCounts(2, (1,), 2)]  # 5 samples, 2 abstained → abstain posterior Beta(4, 9)
    ks = np.array([1, 2, 5, 12])
    pred = predict_vote_curve(counts, ks, prior=prior, n_boot=0)
    post = stats.beta(4.0, 9.0)
    for k, value in zip(ks, pred.mean, strict=True):

        def integrand(x: float, k: int = int(k)) -> float:
            voting = 1 - x
            return float(
                vote_accuracy(0.55 * voting, [0.45 * 0.7 * voting, 0.45 * 0.3 * voting], k, p_abstain=x)
            ) * float(post.pdf(x))

        expected = integrate.quad(integrand, 0, 1, epsabs=1e-12)[0]
        assert value == pytest.approx(expected, abs=1e-7)


def test_prior_fitting_and_posterior() -> None:
    counts = [ItemCounts(5, ())] * 30 + [ItemCounts(0, (5,))] * 30 + [ItemCounts(1, (1, 1, 1, 1))] * 10
    prior = fit_answer_prior(counts)
    assert prior.weights.shape == (prior.p_grid.size, prior.profiles.shape[0])
    assert prior.weights.sum() == pytest.approx(1.0)
    assert prior.abstain_a == 0.0  # nobody abstained
    p, wrong, _ = prior.grid_distributions()
    post = prior.posterior([ItemCounts(5, ()), ItemCounts(0, (5,))])
    assert post[0] @ p > 0.85 and post[1] @ p < 0.15
    # the posterior of a scattered item puts weight on spread-out profiles (many wrong answers / diffuse)
    scattered = prior.posterior([ItemCounts(1, (1, 1, 1, 1))])[0]
    spread = 1.0 - wrong.max(axis=1) / np.maximum(1.0 - p, 1e-12)
    assert scattered @ spread > 0.4
    assert wrong_profiles(3).shape[1] == 4
    with pytest.raises(ValueError):
        fit_answer_prior(counts, profiles=[[0.5, 0.4]])
    with pytest.raises(ValueError):
        predict_vote_curve(counts, [0, 1])


def test_prior_with_too_few_wrong_answers_is_refused_not_averaged() -> None:
    """A prior fitted on 5 samples per item used on 32-sample counts with many repeated wrong answers:
    no grid point fits them, and silently falling back to a uniform posterior would be garbage."""
    few = [ItemCounts(1, (2, 2)), ItemCounts(5, ())] * 10
    prior = fit_answer_prior(few, profiles=wrong_profiles(2))
    many = [ItemCounts(2, (5, 5, 5, 5, 5, 5))]
    with pytest.raises(ValueError, match="repeats 6 different wrong answers"):
        predict_vote_curve(many, [1, 3], prior=prior, n_boot=0)
    assert predict_vote_curve(few, [1, 3], prior=prior, n_boot=0).mean[0] == pytest.approx(0.6, abs=0.05)


def _errs_by_difficulty(rng: np.random.Generator, n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items that are rarely right repeat one wrong answer; items right a third of the time scatter
    their errors over answers that never repeat (how the real free-form pools behave)."""
    hard = rng.random(n_items) < 0.7
    pc = np.where(hard, rng.beta(1, 30, n_items), rng.beta(6, 12, n_items))
    top = np.where(hard, 0.6, 0.1) * (1 - pc)
    return pc, np.column_stack([top, 0.5 * top]), 1 - pc - 1.5 * top


def _draw(pc: np.ndarray, wrong: np.ndarray, diffuse: np.ndarray, m: int, rng: np.random.Generator) -> list[ItemCounts]:
    out = []
    for i in range(pc.size):
        d = rng.choice(4, size=m, p=[pc[i], *wrong[i], diffuse[i]])
        answers = ["gold" if x == 0 else f"w{x}" if x < 3 else f"u{i}-{t}" for t, x in enumerate(d)]
        out.append(item_counts(answers, "gold"))
    return out


def test_profiles_that_depend_on_p_follow_a_task_a_product_prior_cannot() -> None:
    ks = np.arange(1, 100, 6)
    err: dict[str, list[float]] = {"banded": [], "product": []}
    for seed in (1, 2, 3):
        rng = np.random.default_rng(seed)
        pc, wrong, diffuse = _errs_by_difficulty(rng, 400)
        truth = vote_accuracy_curves(pc, wrong, int(ks.max()), p_diffuse=diffuse)[:, ks - 1].mean(axis=0)
        counts = _draw(pc, wrong, diffuse, 24, rng)
        banded = fit_answer_prior(counts, penalty=0.1)
        product = fit_answer_prior(counts, penalty=0.1, band_edges=())
        assert banded.band_edges == PROFILE_BANDS and product.band_edges == ()
        # the product prior's weights are an outer product; the banded ones are not
        assert np.linalg.matrix_rank(product.weights, tol=1e-9 * product.weights.max()) == 1
        assert np.linalg.matrix_rank(banded.weights, tol=1e-9 * banded.weights.max()) > 1
        for name, prior in (("banded", banded), ("product", product)):
            err[name].append(float(np.abs(predict_vote_curve(counts, ks, prior=prior, n_boot=0).mean - truth).mean()))
    assert np.mean(err["banded"]) < 0.01 and np.mean(err["banded"]) < 0.5 * np.mean(err["product"]), err
    # warm-started refits (the bootstrap's) keep the bands
    assert fit_answer_prior(counts, penalty=0.1, start=banded, iterations=2).band_edges == PROFILE_BANDS
    for bad in ((0.5, 0.2), (0.0, 0.5), (0.3, 1.2), (0.2, 0.2)):
        with pytest.raises(ValueError, match="band_edges"):
            fit_answer_prior(counts, penalty=0.1, band_edges=bad)


def test_base_law_is_the_beta_binomial_fit_with_its_concentration_capped() -> None:
    rng = np.random.default_rng(4)
    # Items spread toward both ends: the fitted law is U-shaped (a + b < 2) and the cap does not bind.
    spread = _binary_items(rng.beta(0.3, 0.5, 600), 5, rng)
    k = np.array([c.correct for c in spread])

    def neg(x: np.ndarray) -> float:
        return -float(stats.betabinom.logpmf(k, 5, *np.exp(x)).sum())

    brute = np.exp(optimize.minimize(neg, np.zeros(2), method="L-BFGS-B").x)
    law = fit_base_law(spread)
    assert law is not None and sum(law) < BASE_CONCENTRATION
    assert np.allclose(law, brute, rtol=0.02), (law, brute)
    # Items all alike: the likelihood wants a point; the law keeps the mean with a + b = 2.
    alike = _binary_items(np.full(600, 0.3), 5, rng)
    a, b = fit_base_law(alike) or (0.0, 0.0)
    rate = np.mean([c.correct for c in alike]) / 5
    assert a + b == pytest.approx(BASE_CONCENTRATION) and a / (a + b) == pytest.approx(rate, abs=0.01)
    # Per-item weights count items, as repeating them would; nothing to fit when no item is ever right.
    assert fit_base_law(spread[:3], [2, 0, 1]) == pytest.approx(fit_base_law([spread[0], spread[0], spread[2]]))
    assert fit_base_law([ItemCounts(0, (3, 2)), ItemCounts(0, (), 5)]) is None
    assert fit_base_law([ItemCounts(5, ())] * 4) is None


def test_shrinking_toward_the_beta_law_extrapolates_a_mostly_wrong_task_better_than_toward_flat() -> None:
    """70 % of items almost never right, the rest right a third of the time, errors mostly scattered:
    from 5 samples, a flat target spreads the many near-zero items toward where the vote starts to win."""
    ks = np.arange(1, 62, 6)
    err: dict[str, list[float]] = {"beta": [], "flat": []}
    for seed in (1, 2, 3):
        rng = np.random.default_rng(seed)
        hard = rng.random(300) < 0.7
        pc = np.where(hard, rng.beta(1, 30, 300), rng.beta(6, 12, 300))
        top = 0.2 * (1 - pc)
        wrong, diffuse = np.column_stack([top, 0.5 * top]), 1 - pc - 1.5 * top
        truth = vote_accuracy_curves(pc, wrong, int(ks.max()), p_diffuse=diffuse)[:, ks - 1].mean(axis=0)
        counts = _draw(pc, wrong, diffuse, 5, rng)
        for target in err:
            prior = fit_answer_prior(counts, penalty=0.1, shrink_toward=target)
            assert (prior.base_law is None) == (target == "flat")
            err[target].append(float(np.abs(predict_vote_curve(counts, ks, prior=prior, n_boot=0).mean - truth).mean()))
    assert all(b < f for b, f in zip(err["beta"], err["flat"], strict=True)), err
    assert np.mean(err["beta"]) < 0.85 * np.mean(err["flat"]), err
    with pytest.raises(ValueError, match="shrink_toward"):
        fit_answer_prior(counts, penalty=0.1, shrink_toward="uniform")


def _binary_items(ps: np.ndarray, n: int, rng: np.random.Generator) -> list[ItemCounts]:
    out = []
    for p in ps:
        c = int(rng.binomial(n, p))
        out.append(ItemCounts(c, (n - c,) if c < n else ()))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_validation_picks_a_sharp_prior_for_atoms_and_a_smooth_one_for_a_continuum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    atoms = _binary_items(np.where(rng.random(400) < 0.5, 0.9, 0.1), 10, rng)  # two point masses in p
    continuum = _binary_items(rng.beta(1.5, 1.5, 400), 5, rng)
    assert select_penalty(atoms) == min(PENALTY_CANDIDATES)
    assert select_penalty(continuum) >= 0.3
    assert fit_answer_prior(atoms).penalty == select_penalty(atoms)  # the default fit uses the choice
    assert fit_answer_prior(atoms, penalty=0.5).penalty == 0.5
    assert select_penalty(atoms[:9]) == FALLBACK_PENALTY  # too few items for five folds
    with pytest.raises(ValueError):
        select_penalty(atoms, candidates=())


def test_the_old_module_still_offers_every_name() -> None:
    for name in fit.__all__:
        assert getattr(fit, name) is not None
    assert fit.predict_vote_curve is predict_vote_curve and fit.AnswerPrior is AnswerPrior
