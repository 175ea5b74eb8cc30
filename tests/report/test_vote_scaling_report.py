"""The scaling analysis on pools with known answer distributions, and the report files it writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from callscale.report.vote_scaling import analyze_pools, measured_uncertainty, write_report
from callscale.scaling.estimate import PoolItem, item_counts, subset_vote_curves
from callscale.scaling.fit import fit_answer_prior, fit_chen_law_pool, predict_vote_curve
from callscale.scaling.theory import mixture_accuracy


def mixture_pools(n: int, m: int, alpha: float, p1: float, p2: float, seed: int = 0) -> list[PoolItem]:
    rng = np.random.default_rng(seed)
    pools = []
    for i in range(n):
        p = p1 if i < alpha * n else p2
        pools.append(PoolItem(str(i), "R", tuple("R" if rng.random() < p else "W" for _ in range(m))))
    return pools


def test_measured_curve_follows_the_mixture_and_the_report_is_written(tmp_path: Path) -> None:
    pools = mixture_pools(400, 15, 0.5, 0.85, 0.4)
    result = analyze_pools("mix", pools, fit_on=5, predict_to=40, n_boot=20)
    exact = mixture_accuracy(0.5, 0.85, 0.4, [1, 3, 5, 9, 15])
    measured = np.array(result.measured)[[0, 2, 4, 8, 14]]
    assert np.abs(measured - exact).max() < 0.04  # pool noise only; the subset average itself is exact
    assert result.measured[2] > result.measured[14]  # the inverse U falls by K = 15
    assert result.easy_fraction > 0.3 and result.hard_fraction > 0.3
    assert result.k_star_interval[0] <= result.k_star_predicted <= result.k_star_interval[1]
    if result.k_star_predicted <= 15:  # what following the 5-sample prediction costs on the measured curve
        lost = max(result.measured) - result.measured[result.k_star_predicted - 1]
        assert result.k_star_loss == pytest.approx(lost) and result.k_star_loss >= 0.0
    else:
        assert result.k_star_loss is None
    html = write_report([result], tmp_path / "r")
    assert html.exists() and "mix" in html.read_text()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary[0]["k"] == list(range(1, 16))
    assert [b["offset"] for b in summary[0]["blocks"]] == [0, 5, 10]
    assert "fitted on each disjoint block of 5 samples/item" in html.read_text()
    assert all(lo <= m <= hi for lo, m, hi in zip(result.measured_lo, result.measured, result.measured_hi, strict=True))
    assert result.k_star_measured_interval[0] <= result.k_star_measured <= result.k_star_measured_interval[1]
    assert "90 % interval over item resamples" in html.read_text()
    assert all((tmp_path / "r" / f"mix_{kind}.png").stat().st_size > 1000 for kind in ("measured", "predicted", "coverage"))


def test_bad_pools_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="no items"):
        analyze_pools("x", [])
    with pytest.raises(ValueError, match="at least 2 samples"):
        analyze_pools("x", [PoolItem("a", "1", ("1",))])
    with pytest.raises(ValueError, match="--fit-on"):
        analyze_pools("x", [PoolItem("a", "1", ("1", "2"))], fit_on=5)


def test_each_block_of_samples_is_fitted_on_its_own() -> None:
    pools = mixture_pools(150, 15, 0.4, 0.8, 0.3, seed=3)
    result = analyze_pools("mix", pools, fit_on=5, predict_to=15, n_boot=0)
    measured = np.array(result.measured)
    assert result.blocks[0]["mae_ours"] == pytest.approx(result.mae_ours)  # the first block is the main fit
    for block in result.blocks:
        counts = [item_counts(p.answers[block["offset"] : block["offset"] + 5], p.gold) for p in pools]
        ours = predict_vote_curve(counts, np.arange(1, 16), prior=fit_answer_prior(counts, penalty=result.prior_penalty),
                                  n_boot=0)
        chen = fit_chen_law_pool(counts).predict(np.arange(1, 16))
        assert block["mae_ours"] == pytest.approx(np.abs(ours.mean - measured).mean())
        assert block["mae_chen"] == pytest.approx(np.abs(chen - measured).mean())
        assert block["k_star"] == ours.k_star
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
    assert len(result.predicted_all_lo) == len(result.predicted_all_hi) == len(result.predicted_k)
    k = np.array(result.predicted_k)
    beyond = k > 15
    truth = mixture_accuracy(0.5, 0.85, 0.4, k[beyond])
    error_all = np.abs(np.array(result.predicted_all)[beyond] - truth).mean()
    error_first = np.abs(np.array(result.predicted)[beyond] - truth).mean()
    assert error_all < 0.03 and error_all < error_first
    # In-sample, the all-sample curve follows the measured one (the mixture is in the prior's family).
    within = k <= 15
    assert result.mae_all == pytest.approx(np.abs(np.array(result.predicted_all)[within] - result.measured).mean())
    assert result.mae_all < 0.02
    # Fitting on every sample leaves nothing beyond: no second prediction.
    fitted_on_all = analyze_pools("mix", pools, fit_on=15, predict_to=61, n_boot=0)
    assert fitted_on_all.k_star_all is None and fitted_on_all.mae_all is None
    assert analyze_pools("mix", pools, fit_on=5, predict_to=15, n_boot=0).predicted_all == []
