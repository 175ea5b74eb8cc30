"""Tests of callscale.scaling.theory against PAPERS.md §1 targets, closed forms and brute force."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Hashable

import numpy as np
import pytest
from scaling_bruteforce import enumerate_vote, monte_carlo_vote, vote_credit

from callscale.scaling import theory
from callscale.scaling.theory import (
    AnswerDistribution,
    Shape,
    binary_vote_accuracy,
    filter_vote_accuracy,
    mixture_accuracy,
    mixture_best_k,
    mixture_increment,
    mixture_shape,
    mixture_threshold,
    vote_accuracy,
    vote_accuracy_curves,
)

TARGET_K = [1, 3, 5, 9, 15, 31, 101]


# ------------------------------------------------------------------ PAPERS.md §1 targets


def test_paper_targets_inverse_u() -> None:
    values = mixture_accuracy(0.5, 0.85, 0.4, TARGET_K)
    assert np.round(values, 4).tolist() == [0.625, 0.6456, 0.6454, 0.6305, 0.6062, 0.5642, 0.5104]
    assert mixture_shape(0.5, 0.85, 0.4) is Shape.INVERSE_U
    assert mixture_best_k(0.5, 0.85, 0.4) == 3
    assert round(mixture_threshold(0.85, 0.4), 4) == 0.3497


def test_paper_targets_u() -> None:
    values = mixture_accuracy(0.5, 0.65, 0.1, TARGET_K)
    assert np.round(values, 4).tolist() == [0.375, 0.3731, 0.3867, 0.4146, 0.4434, 0.4788, 0.4995]
    assert mixture_shape(0.5, 0.65, 0.1) is Shape.U
    assert round(mixture_threshold(0.65, 0.1), 4) == 0.5134


def test_paper_targets_through_the_exact_vote_dp() -> None:
    """The same targets from the multinomial DP (two answers), not from the beta closed form."""
    for alpha, p1, p2, expected in [
        (0.5, 0.85, 0.4, [0.625, 0.6456, 0.6454, 0.6305, 0.6062, 0.5642, 0.5104]),
        (0.5, 0.65, 0.1, [0.375, 0.3731, 0.3867, 0.4146, 0.4434, 0.4788, 0.4995]),
    ]:
        dp = alpha * vote_accuracy(p1, [1 - p1], TARGET_K) + (1 - alpha) * vote_accuracy(
            p2, [1 - p2], TARGET_K
        )
        assert np.round(dp, 4).tolist() == expected


# ------------------------------------------------------------------ shape theorem and K*


def _observed_shape(diffs: np.ndarray) -> Shape:
    signs = np.sign(diffs[diffs != 0])
    if np.all(signs >= 0):
        return Shape.INCREASING
    if np.all(signs <= 0):
        return Shape.DECREASING
    changes = np.flatnonzero(np.diff(signs) != 0)
    assert changes.size == 1, "F over odd K changes direction at most once"
    return Shape.INVERSE_U if signs[0] > 0 else Shape.U


def _odd_f_and_diffs(alpha: float, p1: float, p2: float, m_max: int) -> tuple[np.ndarray, np.ndarray]:
    """F at K = 1, 3, ... and its exact increments, computed in tail space so tiny differences keep sign."""
    from scipy.special import betainc

    h = np.arange(1, m_max + 2, dtype=float)  # (K+1)/2 for K = 2h−1
    easy_tail = betainc(h, h, 1 - p1)  # 1 − I_{p1}
    hard = betainc(h, h, p2)
    f = alpha * (1 - easy_tail) + (1 - alpha) * hard
    diffs = -alpha * np.diff(easy_tail) + (1 - alpha) * np.diff(hard)
    return f, diffs


def test_shape_theorem_and_best_k_against_brute_force() -> None:
    checked = {shape: 0 for shape in Shape}
    for alpha, p1, p2 in itertools.product(
        np.linspace(0.05, 0.95, 19), np.linspace(0.55, 0.97, 15), np.linspace(0.02, 0.45, 15)
    ):
        alpha, p1, p2 = float(alpha), float(p1), float(p2)
        thr = mixture_threshold(p1, p2)
        if abs(alpha - thr) < 0.01 or abs(p1 + p2 - 1) < 0.02:
            continue  # turning point too far out to observe
        ratio = math.log(p1 * (1 - p1) / (p2 * (1 - p2)))
        turn = math.log((1 - alpha) * (1 - 2 * p2) / (alpha * (2 * p1 - 1))) / ratio
        if turn > 150:
            continue
        f, diffs = _odd_f_and_diffs(alpha, p1, p2, 200)
        shape = mixture_shape(alpha, p1, p2)
        assert _observed_shape(diffs) is shape, (alpha, p1, p2)
        ks = 2 * np.arange(f.size) + 1
        best = mixture_best_k(alpha, p1, p2)
        if shape is Shape.INVERSE_U:
            assert best == ks[np.argmax(f)], (alpha, p1, p2)
        elif shape is Shape.DECREASING:
            assert best == 1 and np.argmax(f) == 0
        elif shape is Shape.INCREASING:
            assert math.isinf(best) and np.all(diffs > 0)
        else:
            assert best == (1.0 if f[0] >= alpha else math.inf)
        checked[shape] += 1
    assert min(checked.values()) >= 20, checked


def test_increment_formula_matches_differences() -> None:
    for alpha, p1, p2 in [(0.5, 0.85, 0.4), (0.5, 0.65, 0.1), (0.3, 0.7, 0.35), (0.8, 0.9, 0.2)]:
        m = np.arange(0, 60)
        f = mixture_accuracy(alpha, p1, p2, 2 * m + 1)
        formula = mixture_increment(alpha, p1, p2, m[:-1])
        np.testing.assert_allclose(formula, np.diff(f), rtol=1e-9, atol=1e-15)


def test_mixture_shape_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        mixture_shape(0.5, 0.4, 0.3)
    with pytest.raises(ValueError):
        mixture_shape(1.0, 0.8, 0.3)


# ------------------------------------------------------------------ exact vote DP


def test_dp_equals_binomial_closed_form() -> None:
    """Direct programme (K ≤ 150) to 1e-14; Poissonised FFT programme (larger K) to 1e-11."""
    small = np.arange(1, 151)
    large = np.array([151, 152, 400, 999, 1000])
    for p in [0.05, 0.3, 0.45, 0.5, 0.55, 0.8, 0.99]:
        np.testing.assert_allclose(
            vote_accuracy(p, [1 - p], small), binary_vote_accuracy(p, small), rtol=0, atol=1e-14
        )
        np.testing.assert_allclose(
            vote_accuracy(p, [1 - p], large), binary_vote_accuracy(p, large), rtol=0, atol=1e-11
        )


def test_binary_closed_form_even_k_tie_rule() -> None:
    p = 0.6
    # K = 2: both correct, or one each (tie, credit 1/2)
    assert binary_vote_accuracy(p, 2) == pytest.approx(p * p + p * (1 - p))
    assert binary_vote_accuracy(p, 4) == pytest.approx(
        sum(math.comb(4, c) * p**c * (1 - p) ** (4 - c) for c in (3, 4))
        + 0.5 * math.comb(4, 2) * (p * (1 - p)) ** 2
    )


@pytest.mark.parametrize("seed", range(6))
def test_dp_equals_enumeration_small_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_wrong = 2 + seed % 3  # 3–4 answers + abstain (+ diffuse)
    probs = rng.dirichlet(np.ones(n_wrong + 3))
    pc, pw, pa = probs[0], probs[1 : n_wrong + 1], probs[n_wrong + 1]
    pd = probs[n_wrong + 2] if seed % 2 else 0.0
    if not seed % 2:
        pa += probs[n_wrong + 2]
    kmax = 6 if n_wrong < 4 else 5
    exact = vote_accuracy(pc, pw, np.arange(1, kmax + 1), p_abstain=pa, p_diffuse=pd)
    brute = [enumerate_vote(pc, list(pw), pa, pd, k) for k in range(1, kmax + 1)]
    np.testing.assert_allclose(exact, brute, rtol=0, atol=1e-12)


def test_poissonised_fft_path_equals_direct_path() -> None:
    rng = np.random.default_rng(7)
    for trial in range(12):
        n_wrong = int(rng.integers(1, 9))
        probs = rng.dirichlet(np.full(n_wrong + 3, 0.7))
        pc, pw, pa, pd = (
            probs[0],
            probs[1 : n_wrong + 1],
            probs[n_wrong + 1],
            probs[n_wrong + 2] * (trial % 2),
        )
        pa += probs[n_wrong + 2] * (1 - trial % 2)
        ks = [1, 2, 3, 8, 33, 150]
        direct = vote_accuracy(pc, pw, ks, p_abstain=pa, p_diffuse=pd)
        fft = [theory._vote_poissonised(pc, pw, pa, pd, k) for k in ks]
        np.testing.assert_allclose(direct, fft, rtol=0, atol=1e-12)


def test_dp_agrees_with_monte_carlo_large_k() -> None:
    rng = np.random.default_rng(3)
    pw = [0.12, 0.11, 0.1, 0.09, 0.08, 0.07, 0.06, 0.05, 0.05]
    for pc, k in [(0.13, 1000), (0.13, 301), (0.1, 64)]:
        mean, se = monte_carlo_vote(rng, pc, pw, k, 40_000)
        assert abs(vote_accuracy(pc, pw, k) - mean) < 4.5 * se + 1e-4


def test_diffuse_mass_matches_monte_carlo_with_unique_answers() -> None:
    rng = np.random.default_rng(11)
    pc, pw, pa, pd, k = 0.25, [0.2], 0.15, 0.4, 7
    trials = 30_000
    credit = np.empty(trials)
    for t in range(trials):
        draws = rng.choice(4, size=k, p=[pc, pw[0], pa, pd])
        answers: list[Hashable | None] = [
            "gold" if d == 0 else "w" if d == 1 else None if d == 2 else f"u{i}" for i, d in enumerate(draws)
        ]
        credit[t] = vote_credit(answers, "gold")
    se = credit.std() / math.sqrt(trials)
    assert abs(vote_accuracy(pc, pw, k, p_abstain=pa, p_diffuse=pd) - credit.mean()) < 4.5 * se


def test_large_k_is_fast() -> None:
    pw = np.full(9, 0.09)
    vote_accuracy(0.19, pw, 1000)
    start = time.perf_counter()
    value = vote_accuracy(0.19, pw, 1000)
    assert time.perf_counter() - start < 0.5
    assert 0.99 < value <= 1.0


def test_batched_curves_equal_single_curves_and_edge_cases() -> None:
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(5), size=8)
    curves = vote_accuracy_curves(probs[:, 0], probs[:, 1:4], 40, p_diffuse=probs[:, 4])
    for i in range(8):
        single = vote_accuracy(probs[i, 0], probs[i, 1:4], np.arange(1, 41), p_diffuse=probs[i, 4])
        np.testing.assert_allclose(curves[i], single, atol=1e-13)
    assert vote_accuracy(0.0, [0.5], 7) == 0.0
    assert vote_accuracy(1.0, [], 7) == pytest.approx(1.0)
    assert vote_accuracy(0.3, [], [1, 5, 500]).tolist() == pytest.approx([0.3, 1 - 0.7**5, 1.0])
    with pytest.raises(ValueError):
        vote_accuracy(0.7, [0.5], 3)


def test_answer_distribution_record() -> None:
    d = AnswerDistribution.from_probs(0.3, [0.4, 0.1], wrong_answers=["a", "b"])
    assert d.p_abstain == pytest.approx(0.2)
    assert d.difficulty == pytest.approx(0.1) and d.is_hard and not d.is_easy
    assert d.vote_accuracy([3])[0] == pytest.approx(vote_accuracy(0.3, [0.4, 0.1], 3))
    with pytest.raises(ValueError):
        AnswerDistribution(0.5, (0.6,))


# ------------------------------------------------------------------ Filter-Vote


def _filter_vote_enumerate(pc: float, pw: list[float], pa: float, tpr: float, fpr: float, k: int) -> float:
    outcomes: list[tuple[float, Hashable | None, bool]] = [
        (pc * tpr, "gold", True),
        (pc * (1 - tpr), "gold", False),
    ]
    for j, q in enumerate(pw):
        outcomes += [(q * fpr, f"w{j}", True), (q * (1 - fpr), f"w{j}", False)]
    outcomes.append((pa, None, False))
    total = 0.0
    for seq in itertools.product(outcomes, repeat=k):
        pr = math.prod(o[0] for o in seq)
        kept = [o[1] for o in seq if o[2]]
        total += pr * vote_credit(kept if kept else [o[1] for o in seq], "gold")
    return total


def test_filter_vote_equals_enumeration() -> None:
    for pc, pw, pa, tpr, fpr in [
        (0.4, [0.35, 0.15], 0.1, 0.9, 0.2),
        (0.2, [0.5, 0.3], 0.0, 0.7, 0.4),
        (0.5, [0.3], 0.2, 0.6, 0.6),
    ]:
        for k in range(1, 6):
            exact = filter_vote_accuracy(pc, pw, k, tpr=tpr, fpr=fpr, p_abstain=pa)
            assert exact == pytest.approx(_filter_vote_enumerate(pc, pw, pa, tpr, fpr, k), abs=1e-12)


def test_filter_vote_monte_carlo_and_limits() -> None:
    rng = np.random.default_rng(9)
    pc, pw, tpr, fpr, k = 0.3, [0.4, 0.2], 0.85, 0.25, 15
    trials = 20_000
    draws = rng.choice(4, size=(trials, k), p=[pc, *pw, 1 - pc - sum(pw)])
    keep = rng.random((trials, k)) < np.where(draws == 0, tpr, fpr)
    keep &= draws < 3
    credit = np.empty(trials)
    for t in range(trials):
        row = draws[t][keep[t]] if keep[t].any() else draws[t]
        credit[t] = vote_credit([None if d == 3 else int(d) for d in row], 0)
    se = credit.std() / math.sqrt(trials)
    assert abs(filter_vote_accuracy(pc, pw, k, tpr=tpr, fpr=fpr) - credit.mean()) < 4.5 * se
    # a filter that keeps everything is plain Vote
    np.testing.assert_allclose(
        filter_vote_accuracy(pc, pw, [1, 4, 9], tpr=1.0, fpr=1.0),
        vote_accuracy(pc, pw, [1, 4, 9]),
        atol=1e-14,
    )


def test_grid_curves_equal_the_general_programme_and_brute_force() -> None:
    # Shapes with one, two and five wrong answers, diffuse mass, and all mass on diffuse answers.
    shapes = np.array([[1.0, 0, 0, 0, 0, 0], [0.6, 0.4, 0, 0, 0, 0], [0.3, 0.2, 0.1, 0.1, 0.1, 0.2],
                       [0.5, 0, 0, 0, 0, 0.5], [0, 0, 0, 0, 0, 1.0]])
    p_grid = np.array([0.0, 0.1, 0.35, 0.5, 0.8, 1.0])
    grid = theory.vote_accuracy_grid(p_grid, shapes, 40)
    p = np.repeat(p_grid, len(shapes))
    rest = np.tile(shapes, (p_grid.size, 1)) * (1 - p)[:, None]
    general = theory.vote_accuracy_curves(p, rest[:, :-1], 40, p_abstain=np.zeros_like(p), p_diffuse=rest[:, -1])
    np.testing.assert_allclose(grid, general, atol=1e-12)
    # And one point by exhaustive enumeration of every sequence of K = 5 answers.
    row = 2 * len(shapes) + 2  # p = .35 with five wrong answers and diffuse mass
    brute = enumerate_vote(0.35, [0.65 * x for x in shapes[2, :-1]], 0.0, 0.65 * shapes[2, -1], 5)
    assert grid[row, 4] == pytest.approx(brute, abs=1e-12)
    with pytest.raises(ValueError):
        theory.vote_accuracy_grid([0.5], [[0.5, 0.2]], 10)  # shares do not sum to 1
