"""The vote-scaling analysis on pools with known answer distributions, and the record it fills."""

from __future__ import annotations

import json

import numpy as np
import pytest

from callscale.scaling.analysis import VoteScaling, analyze_pools, summary_of
from callscale.scaling.estimate import PoolItem, item_counts, subset_vote_curves
from callscale.scaling.laws import ChenLaw, ShrinkageLaw, law_names
from callscale.scaling.measured import measured_uncertainty
from callscale.scaling.predict import predict_vote_curve
from callscale.scaling.prior import fit_answer_prior
from callscale.scaling.theory import mixture_accuracy


def mixture_pools(n: int, m: int, alpha: float, p1: float, p2: float, seed: int = 0) -> list[PoolItem]:
    rng = np.random.default_rng(seed)
    pools = []
    for i in range(n):
        p = p1 if i < alpha * n else p2
        pools.append(PoolItem(str(i), "R", tuple("R" if rng.random() < p else "W" for _ in range(m))))
    return pools


def test_measured_curve_follows_the_mixture() -> None:
    pools = mixture_pools(400, 15, 0.5, 0.85, 0.4)
    result = analyze_pools("mix", pools, fit_on=5, predict_to=40, n_boot=20)
    exact = mixture_accuracy(0.5, 0.85, 0.4, [1, 3, 5, 9, 15])
    measured = np.array(result.measured)[[0, 2, 4, 8, 14]]
    assert np.abs(measured - exact).max() < 0.04  # pool noise only; the subset average itself is exact
    assert result.measured[2] > result.measured[14]  # the inverse U falls by K = 15
    assert result.easy_fraction > 0.3 and result.hard_fraction > 0.3
    ours = result.law("ours")
    assert ours.k_star_interval[0] <= ours.k_star <= ours.k_star_interval[1]
    assert ours.k_star is not None
    if ours.k_star <= 15:  # what following the 5-sample prediction costs on the measured curve
        lost = max(result.measured) - result.measured[ours.k_star - 1]
        assert result.k_star_loss == pytest.approx(lost) and result.k_star_loss >= 0.0
    else:
        assert result.k_star_loss is None
    assert [b["offset"] for b in result.blocks] == [0, 5, 10]
    assert all(lo <= m <= hi for lo, m, hi in zip(result.measured_lo, result.measured, result.measured_hi, strict=True))
    assert result.k_star_measured_interval[0] <= result.k_star_measured <= result.k_star_measured_interval[1]


def test_every_registered_law_is_fitted_and_agrees_with_its_functions() -> None:
    pools = mixture_pools(120, 12, 0.5, 0.8, 0.35, seed=2)
    result = analyze_pools("mix", pools, fit_on=5, predict_to=30, n_boot=10)
    assert [law.name for law in result.laws] == law_names() == ["ours", "chen", "coverage", "beta", "beta_coverage"]
    first = [item_counts(p.answers[:5], p.gold) for p in pools]
    ks = np.array(result.predicted_k)
    expected = predict_vote_curve(first, ks, prior=fit_answer_prior(first), n_boot=10, seed=0)
    ours = result.law("ours")
    widened = ShrinkageLaw().widen(expected.mean, expected.lo, expected.hi)  # the calibrated band around the curve
    assert ours.curve == expected.mean.tolist() and ours.lo == widened[0].tolist() and ours.hi == widened[1].tolist()
    assert all(a <= b for a, b in zip(ours.lo, expected.lo.tolist(), strict=True))
    assert (ours.k_star, ours.k_star_interval, ours.level) == (expected.k_star, [expected.k_star_lo,
                                                                                expected.k_star_hi], 0.9)
    chen = result.law("chen")
    assert chen.curve == ChenLaw(fit_on=5).fit(pools).predict(ks).tolist() and chen.lo == [] and chen.level is None
    coverage = result.law("coverage")
    assert coverage.k == result.k and coverage.mae is None and set(coverage.params) == {"a", "b"}
    assert np.all(np.diff(coverage.curve) >= 0)


def test_the_record_serialises_once_and_its_summary_drops_the_curves() -> None:
    result = analyze_pools("mix", mixture_pools(60, 10, 0.5, 0.8, 0.3, seed=1), fit_on=5, predict_to=20, n_boot=10)
    full = result.to_dict()
    json.dumps(full)  # plain values only
    assert full["laws"]["ours"]["curve"] == result.law("ours").curve
    # The keys earlier versions named the results by, from the laws.
    assert full["k_star_predicted"] == result.law("ours").k_star and full["mae_chen"] == result.law("chen").mae
    assert full["k_star_chen"] == result.law("chen").k_star and full["coverage_law"] == result.law("coverage").params
    assert full["accuracy_k1"] == result.measured[0] and full["accuracy_kM"] == result.measured[-1]
    short = summary_of(full)
    assert not {"k", "measured", "predicted_k", "predicted_all", "coverage"} & set(short)
    assert not {"k", "curve", "lo", "hi"} & set(short["laws"]["ours"])
    assert short["likelihood_range"] == full["likelihood_range"] and short["blocks"] == full["blocks"]
    assert isinstance(result, VoteScaling)


def test_bad_pools_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="no items"):
        analyze_pools("x", [])
    with pytest.raises(ValueError, match="at least 2 samples"):
        analyze_pools("x", [PoolItem("a", "1", ("1",))])
    with pytest.raises(ValueError, match="--fit-on"):
        analyze_pools("x", [PoolItem("a", "1", ("1", "2"))], fit_on=5)


def test_a_law_that_cannot_fit_is_reported_with_its_reason() -> None:
    pools = [PoolItem(str(i), "R", ("W",) * 6) for i in range(12)]  # never right: no coverage to fit
    result = analyze_pools("never", pools, fit_on=3, predict_to=6, n_boot=0)
    coverage = result.law("coverage")
    assert coverage.error and coverage.curve == [] and result.to_dict()["coverage_law"] == {}


def test_each_block_of_samples_is_fitted_on_its_own() -> None:
    pools = mixture_pools(150, 15, 0.4, 0.8, 0.3, seed=3)
    result = analyze_pools("mix", pools, fit_on=5, predict_to=15, n_boot=0)
    measured = np.array(result.measured)
    assert result.blocks[0]["mae_ours"] == pytest.approx(result.law("ours").mae)  # the first block is the main fit
    for block in result.blocks:
        counts = [item_counts(p.answers[block["offset"] : block["offset"] + 5], p.gold) for p in pools]
        ours = predict_vote_curve(counts, np.arange(1, 16), prior=fit_answer_prior(counts, penalty=result.prior_penalty),
                                  n_boot=0)
        chen = ChenLaw(fit_on=5, offset=int(block["offset"])).fit(pools).predict(np.arange(1, 16))
        assert block["mae_ours"] == pytest.approx(np.abs(ours.mean - measured).mean())
        assert block["mae_chen"] == pytest.approx(np.abs(chen - measured).mean())
        assert block["k_star"] == ours.k_star
    assert list(result.blocks[0]) == ["offset", *(f"mae_{name}" for name in law_names() if name != "coverage"
                                                    and name != "beta_coverage"), "k_star"]
    assert len({round(b["mae_ours"], 6) for b in result.blocks}) == 3  # different samples, different fits
    assert [b["offset"] for b in analyze_pools("mix", pools, fit_on=8, predict_to=15, n_boot=0).blocks] == [0]


def test_the_measured_band_covers_the_task_curve_and_narrows_with_items() -> None:
    exact = mixture_accuracy(0.5, 0.85, 0.4, [5])[0]
    inside, widths = [], {}
    for seed in range(30):
        pools = mixture_pools(200, 15, 0.5, 0.85, 0.4, seed=100 + seed)
        per_item = subset_vote_curves([item_counts(p.answers, p.gold) for p in pools], np.arange(1, 16))
        band = measured_uncertainty(per_item, np.arange(1, 16), seed=seed)
        inside.append(band.lo[4] <= exact <= band.hi[4])
    assert 0.75 <= np.mean(inside) <= 1.0  # a 90 % band over item resamples, against the population curve
    for n in (40, 400):
        pools = mixture_pools(n, 15, 0.5, 0.85, 0.4, seed=7)
        per_item = subset_vote_curves([item_counts(p.answers, p.gold) for p in pools], np.arange(1, 16))
        band = measured_uncertainty(per_item, np.arange(1, 16))
        widths[n] = float(np.mean(band.hi - band.lo))
    assert widths[400] < 0.5 * widths[40]  # ~1/sqrt(items)


def test_the_measured_best_k_is_chosen_among_the_candidates_given() -> None:
    pools = mixture_pools(100, 12, 0.5, 0.85, 0.4, seed=5)
    per_item = subset_vote_curves([item_counts(p.answers, p.gold) for p in pools], np.arange(1, 13))
    odd = np.arange(1, 13, 2)
    everywhere = measured_uncertainty(per_item, np.arange(1, 13), seed=1)
    only_odd = measured_uncertainty(per_item, np.arange(1, 13), seed=1, k_star_candidates=odd)
    assert only_odd.k_star_lo % 2 == 1 and only_odd.k_star_hi % 2 == 1
    assert np.array_equal(only_odd.lo, everywhere.lo)  # the band itself does not depend on the candidates
    odd_columns = measured_uncertainty(per_item[:, odd - 1], odd, seed=1)
    assert (odd_columns.k_star_lo, odd_columns.k_star_hi) == (only_odd.k_star_lo, only_odd.k_star_hi)
    with pytest.raises(ValueError, match="among ks"):
        measured_uncertainty(per_item, np.arange(1, 13), k_star_candidates=[20])


def test_beyond_the_sampled_k_the_prediction_uses_every_sample() -> None:
    # Inverse U (paper: α = .5, p = .85 / .4): the sampled K ≤ 15 only see the rise and the start of the fall.
    pools = mixture_pools(300, 15, 0.5, 0.85, 0.4, seed=3)
    result = analyze_pools("mix", pools, fit_on=5, predict_to=61, n_boot=20)
    counts = [item_counts(p.answers, p.gold) for p in pools]
    again = predict_vote_curve(counts, result.predicted_k, n_boot=20, seed=0)
    assert result.predicted_all == again.mean.tolist()
    assert result.k_star_all == again.k_star and result.k_star_all_interval == [again.k_star_lo, again.k_star_hi]
    assert ShrinkageLaw(n_boot=20).fit(pools).predict(result.predicted_k).tolist() == result.predicted_all
    assert len(result.predicted_all_lo) == len(result.predicted_all_hi) == len(result.predicted_k)
    k = np.array(result.predicted_k)
    beyond = k > 15
    truth = mixture_accuracy(0.5, 0.85, 0.4, k[beyond])
    error_all = np.abs(np.array(result.predicted_all)[beyond] - truth).mean()
    error_first = np.abs(np.array(result.law("ours").curve)[beyond] - truth).mean()
    assert error_all < 0.03 and error_all < error_first
    # In-sample, the all-sample curve follows the measured one (the mixture is in the prior's family).
    within = k <= 15
    assert result.mae_all == pytest.approx(np.abs(np.array(result.predicted_all)[within] - result.measured).mean())
    assert result.mae_all is not None and result.mae_all < 0.02
    # Fitting on every sample leaves nothing beyond: no second prediction.
    fitted_on_all = analyze_pools("mix", pools, fit_on=15, predict_to=61, n_boot=0)
    assert fitted_on_all.k_star_all is None and fitted_on_all.mae_all is None
    assert analyze_pools("mix", pools, fit_on=5, predict_to=15, n_boot=0).predicted_all == []
