"""The laws behind one interface: each equals the functions it wraps, and the registry."""

from __future__ import annotations

import numpy as np
import pytest

from callscale.scaling.estimate import PoolItem, coverage_curve, item_counts
from callscale.scaling.laws import (
    BestK,
    CannotFit,
    ChenLaw,
    PassAtKLaw,
    ScalingLaw,
    ShrinkageLaw,
    get_law,
    law_names,
    register_law,
    unregister_law,
    window_counts,
)
from callscale.scaling.laws.chen import fit_chen_law_pool
from callscale.scaling.laws.coverage import fit_coverage_law
from callscale.scaling.predict import predict_vote_curve
from callscale.scaling.prior import fit_answer_prior


def pools(n: int = 80, m: int = 12, seed: int = 0) -> list[PoolItem]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = rng.beta(0.6, 1.2)
        out.append(PoolItem(str(i), "g", tuple("g" if rng.random() < p else ("w" if rng.random() < 0.7 else f"u{j}")
                                               for j in range(m))))
    return out


def test_ours_is_the_shrinkage_predictor() -> None:
    data = pools()
    counts = [item_counts(p.answers[:5], p.gold) for p in data]
    ks = np.arange(1, 40)
    odd = ks[ks % 2 == 1]
    law = ShrinkageLaw(fit_on=5, n_boot=15, seed=3, band_scale=1.0).fit(data)
    expected = predict_vote_curve(counts, ks, prior=fit_answer_prior(counts), n_boot=15, seed=3, level=0.8,
                                  k_star_candidates=odd)
    assert law.predict(ks).tolist() == expected.mean.tolist()
    lo, hi = law.band(ks, 0.8)
    assert lo.tolist() == expected.lo.tolist() and hi.tolist() == expected.hi.tolist()
    assert law.best_k(ks, level=0.8, among=odd) == BestK(expected.k_star, expected.k_star_lo, expected.k_star_hi, 0.8)
    assert law.fitted_options() == {"penalty": law.prior_.penalty}
    assert set(law.params()) == {"penalty", "bands", "base"}
    assert len(law._draws) == 1  # predict, band and best K at one set of K: one bootstrap


def test_chen_and_coverage_are_their_functions() -> None:
    data = pools(seed=1)
    counts = [item_counts(p.answers[2:7], p.gold) for p in data]
    ks = np.array([1, 3, 9, 27, 81])
    chen = ChenLaw(fit_on=5, offset=2).fit(data)
    assert chen.predict(ks).tolist() == fit_chen_law_pool(counts).predict(ks).tolist()
    assert chen.best_k(ks) == BestK(fit_chen_law_pool(counts).best_k(ks)) and not chen.has_band
    lo, hi = chen.band(ks)
    assert lo.tolist() == hi.tolist() == chen.predict(ks).tolist()
    everything = [item_counts(p.answers, p.gold) for p in data]
    cov = coverage_curve(everything, np.arange(1, 13))
    law = PassAtKLaw().fit(data)
    expected = fit_coverage_law(np.arange(1, 13)[cov > 0], cov[cov > 0])
    assert law.params() == {"a": expected.a, "b": expected.b} and law.target == "coverage"
    assert law.best_k([1, 5, 9]).k == 9


def test_the_window_of_samples_is_checked() -> None:
    data = pools(n=3, m=6)
    assert [c.n for c in window_counts(data, 2, offset=4)] == [2, 2, 2]
    assert [c.n for c in window_counts(data, None, offset=1)] == [5, 5, 5]
    with pytest.raises(ValueError, match="samples 4…6"):
        window_counts(data, 3, offset=4)
    with pytest.raises(ValueError, match="no items"):
        ChenLaw().fit([])
    with pytest.raises(CannotFit):
        PassAtKLaw().fit([PoolItem("a", "g", ("w", "w"))] * 3)


def test_clone_keeps_the_options() -> None:
    law = ShrinkageLaw(fit_on=5, n_boot=7, seed=2, penalty=0.3)
    again = law.clone(offset=5)
    assert again.options() == {**law.options(), "offset": 5} and type(again) is ShrinkageLaw


def test_the_band_is_calibrated_around_the_curve() -> None:
    data = pools(n=40, seed=4)
    ks = np.arange(1, 30)
    law = ShrinkageLaw(fit_on=5, n_boot=8, band_scale=1.0, penalty=0.3).fit(data)
    assert law.scale == 1.0 and ShrinkageLaw(band_scale=None).scale == ShrinkageLaw.BAND_SCALE
    mean = law.predict(ks)
    lo, hi = law.band(ks)
    law.band_scale = 1.5  # same bootstrap, half-widths × 1.5 around the curve, within [0, 1]
    wide_lo, wide_hi = law.band(ks)
    assert np.allclose(wide_lo, np.clip(mean - 1.5 * (mean - lo), 0, 1))
    assert np.allclose(wide_hi, np.clip(mean + 1.5 * (hi - mean), 0, 1))


def test_the_registry() -> None:
    assert law_names()[:5] == ["ours", "chen", "coverage", "beta", "beta_coverage"]
    assert get_law("ours") is ShrinkageLaw and get_law("coverage") is PassAtKLaw
    with pytest.raises(KeyError, match="known: ours, chen, coverage, beta"):
        get_law("nope")
    with pytest.raises(TypeError):
        register_law("bad", int)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already registered"):
        register_law("chen", ShrinkageLaw)
    register_law("chen", ChenLaw)  # the same class again is fine

    class Constant(ScalingLaw):
        label = "constant"

        def _fit(self, counts: object) -> None:
            self.value_ = 0.5

        def predict(self, ks: object) -> np.ndarray:
            return np.full(np.size(np.asarray(ks)), self.value_)

    register_law("constant", Constant)
    try:
        assert law_names()[-1] == "constant"
        assert get_law("constant")().fit(pools(n=2)).best_k([3, 1]) == BestK(3)
    finally:
        unregister_law("constant")
    assert "constant" not in law_names()
