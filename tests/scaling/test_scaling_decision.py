"""The decision sentence: settled where the samples settle it (known truth), not settled where they
do not, with what is settled (accuracy intervals at the K a user would consider)."""

from __future__ import annotations

import numpy as np

from callscale.scaling.analysis import analyze_pools
from callscale.scaling.decision import decide
from callscale.scaling.estimate import PoolItem
from callscale.scaling.predict import CurveDraws


def _pools(p_items: list[float], m: int, seed: int) -> list[PoolItem]:
    rng = np.random.default_rng(seed)
    pools = []
    for i, p in enumerate(p_items):
        answers = tuple("g" if rng.random() < p else f"w{rng.integers(3)}" for _ in range(m))
        pools.append(PoolItem(f"q{i}", "g", answers))
    return pools


def test_easy_items_with_many_samples_settle_on_few_calls() -> None:
    """Every item right 90 % of the time: a handful of votes is already as good as it gets."""
    record = analyze_pools("easy", _pools([0.9] * 150, 16, 0), fit_on=5, predict_to=100, n_boot=40)
    d = record.decision
    assert d["settled"] and d["k"] is not None and d["k"] <= 15
    assert d["sentence"].startswith(f"Use {d['k']} calls per item:") and "more calls do not help" in d["sentence"]
    assert d["lo"] <= d["accuracy"] <= d["hi"]


def test_a_wide_spread_of_curves_is_not_settled() -> None:
    ks = np.array([1, 3, 10, 30, 100, 300, 1000])
    rng = np.random.default_rng(1)
    reps = rng.uniform(0.3, 0.6, (50, ks.size))  # curves of any shape: the samples settle nothing
    d = decide(CurveDraws(ks, reps.mean(axis=0), reps), samples=5)
    assert not d.settled and d.k is None and d.sentence.startswith("Not settled by 5 samples per item")
    assert [w.k for w in d.what_if] == [1, 3, 10, 30, 100]  # the considered K that the grid holds (5 → 3)
    assert all(w.lo <= w.accuracy <= w.hi for w in d.what_if)


def test_a_curve_that_falls_after_its_peak_says_so() -> None:
    ks = np.array([1, 3, 5, 9, 15, 31])
    mean = np.array([0.62, 0.646, 0.645, 0.63, 0.606, 0.564])  # PAPERS.md's inverse U
    reps = np.array([mean + e for e in np.linspace(-0.004, 0.004, 21)])
    d = decide(CurveDraws(ks, mean, reps), samples=32)
    assert d.settled and d.k == 3 and d.p_falls == 1.0 and "more calls lose accuracy" in d.sentence


def test_a_curve_still_rising_at_the_end_of_the_range_is_not_settled() -> None:
    """Within tol of the best only at the last K: the advice must not be 'more calls do not help'."""
    ks = np.array([1, 10, 100, 500, 1000])
    mean = np.array([0.40, 0.45, 0.49, 0.515, 0.521])
    reps = np.array([mean + d for d in (-0.002, 0.0, 0.002)])
    d = decide(CurveDraws(ks, mean, reps), samples=32)
    assert not d.settled and d.k is None and d.rising
    assert d.sentence.startswith("More calls keep helping up to 1000 calls per item, the end of the predicted range: "
                                 "52.1 % accurate there (52–52 %)")


def test_a_curve_rising_to_the_end_is_rising_even_when_the_k_before_is_within_tol() -> None:
    """As on the permuted multiple-choice part: 0.375 at K = 100, 0.517 at 953, 0.5206 at 1000 — 953 is
    within tol of the best, yet doubling the calls up to the end still gains far more than tol."""
    ks = np.array([1, 10, 100, 500, 953, 1000])
    mean = np.array([0.207, 0.286, 0.375, 0.47, 0.517, 0.5206])
    reps = np.array([mean + d for d in (-0.002, 0.0, 0.002)])
    d = decide(CurveDraws(ks, mean, reps), samples=16)
    assert d.rising and not d.settled and "do not help" not in d.sentence
    assert d.sentence.startswith("More calls keep helping up to 1000 calls per item")


def test_a_flat_top_that_peaks_at_the_last_k_by_a_hair_is_not_rising() -> None:
    ks = np.array([1, 10, 100, 500, 1000])
    mean = np.array([0.40, 0.66, 0.670, 0.6701, 0.6702])
    reps = np.array([mean + d for d in (-0.001, 0.0, 0.001)])
    d = decide(CurveDraws(ks, mean, reps), samples=32)
    assert not d.rising and d.settled and d.k == 100 and "more calls do not help" in d.sentence
