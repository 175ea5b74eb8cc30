"""The beta-binomial law (the distributional approach of Schaeffer et al. 2025, "How do large language
monkeys get their power (laws)?", and Kazdan et al. 2025, "Efficient prediction of pass@k scaling"):
the items' rates p of a correct answer follow a Beta(a, b) law, fitted by maximum beta-binomial
likelihood on each item's correct count among its n samples (abstains count as not correct; the fit is
:func:`callscale.scaling.density._beta_binomial_fit`, the one the answer prior's base law uses).

* **pass@k** (coverage) is exact: 1 − E[(1 − p)^k] = 1 − B(a, b + k) / B(a, b) (:func:`beta_pass_at_k`).
* **Vote accuracy** is the exact vote formula (:func:`callscale.scaling.exact.vote_accuracy_grid`)
  integrated over the fitted Beta. The vote is two-way: an item answers correctly with probability p,
  with its *modal wrong answer* with probability s·(1 − p), and otherwise with a wrong answer that
  never repeats (abstains are counted among those). The share s is one number for the task: the
  pooled share of the non-correct samples that are their item's most frequent wrong answer. s = 1 is
  the binary vote of correct against one wrong answer. The vote curves are exact at the points of a
  fixed grid over p (up to K = 150, continued beyond by
  :func:`~callscale.scaling.grid.extend_curves`) and integrated against the Beta by product
  integration: the curve is linear between grid points and each piece is integrated exactly against
  the Beta (through the Beta(a, b) and Beta(a + 1, b) distribution functions), so the singular
  densities of hard tasks (a < 1) cost no accuracy.
* **Band**: a parametric bootstrap over items — the items are resampled with replacement, (a, b) is
  refitted on the resample (s held at its fit), with a fixed seed; pointwise quantiles at ``level``,
  their half-widths around the fitted curve multiplied by ``BAND_SCALE``. Resampling items shows how
  well the items pin down (a, b), not whether a Beta law is the right shape, so the raw band is too
  narrow on real tasks; the factor is calibrated on held-out samples (see ``BAND_SCALE`` and
  ``bench/scaling_prediction.py``).

``beta`` (:class:`BetaBinomialLaw`) is the law of vote accuracy, ``beta_coverage``
(:class:`BetaPassAtKLaw`) the same fit's law of pass@k.

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", tuple("4" if (i * j) % 7 < 3 else "5" for j in range(6))) for i in range(30)]
    >>> law = BetaBinomialLaw(fit_on=6, n_boot=20).fit(pools)
    >>> lo, hi = law.band([1, 5, 25])
    >>> bool(np.all(lo <= law.predict([1, 5, 25])) and np.all(law.predict([1, 5, 25]) <= hi))
    True
    >>> round(float(beta_pass_at_k(1.0, 1.0, 1)[0]), 6)  # Beta(1, 1): pass@1 = 1/2
    0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from callscale.scaling.density import _beta_binomial_fit
from callscale.scaling.estimate import ItemCounts
from callscale.scaling.grid import EXTEND_MAX, grid_curves
from callscale.scaling.laws.base import DEFAULT_HORIZON, BestK, CannotFit, ScalingLaw, prediction_ks

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "BETA_P_GRID",
    "BetaBinomialLaw",
    "BetaPassAtKLaw",
    "beta_grid_weights",
    "beta_pass_at_k",
    "beta_vote_curve",
    "fit_beta_law",
    "grid_vote_curve",
    "modal_wrong_share",
]

BETA_P_GRID = np.sin(np.linspace(0.0, np.pi / 2.0, 301)) ** 2
"""The grid over p the vote curves are computed on: 301 points, denser towards 0 and 1 (spacing ≤ .0053)."""


def beta_pass_at_k(a: float, b: float, ks: ArrayLike) -> FloatArray:
    """pass@k of items whose correct rate follows Beta(a, b): 1 − B(a, b + k) / B(a, b), exactly.

    >>> beta_pass_at_k(0.5, 1.5, [1, 2]).round(6).tolist()  # 1 − E[1 − p], 1 − E[(1 − p)²]
    [0.25, 0.375]
    """
    k = np.atleast_1d(np.asarray(ks, dtype=float))
    return np.asarray(-np.expm1(special.betaln(a, b + k) - special.betaln(a, b)), dtype=float)


def beta_grid_weights(a: float, b: float, p_grid: FloatArray = BETA_P_GRID) -> FloatArray:
    """Weights w on the (sorted) grid points with Σ w·f(p_i) = E[f̃(p)], p ~ Beta(a, b), f̃ the linear
    interpolant of f between grid points: product integration, exact for piecewise-linear f.

    On a cell [x, y] with mass M₀ = F(y) − F(x) and first moment M₁ = a/(a + b)·(F₁(y) − F₁(x))
    (F, F₁ the distribution functions of Beta(a, b), Beta(a + 1, b)), x gets (y·M₀ − M₁)/(y − x) and y
    gets (M₁ − x·M₀)/(y − x).

    >>> w = beta_grid_weights(2.0, 3.0, np.linspace(0, 1, 5))
    >>> round(float(w.sum()), 12), round(float(w @ np.linspace(0, 1, 5)), 12)  # mass 1, mean 2/5
    (1.0, 0.4)
    """
    x = np.asarray(p_grid, dtype=float)
    f0 = special.betainc(a, b, x)
    f1 = special.betainc(a + 1.0, b, x)
    m0 = np.diff(f0)
    m1 = a / (a + b) * np.diff(f1)
    left, right, h = x[:-1], x[1:], np.diff(x)
    # Within the cell the mean lies between its ends; clip rounding so no weight is negative.
    m1 = np.clip(m1, left * m0, right * m0)
    w = np.zeros(x.size)
    w[:-1] += (right * m0 - m1) / h
    w[1:] += (m1 - left * m0) / h
    return w


def grid_vote_curve(weights: ArrayLike, share: float, ks: ArrayLike, p_grid: FloatArray = BETA_P_GRID) -> FloatArray:
    """Σ_i w_i · vote accuracy at K of an item with correct rate p_i, modal wrong answer s·(1 − p_i) and
    never-repeating answers (1 − s)·(1 − p_i); ``weights`` may be (G,) or (R, G) for R mixtures at once.

    >>> grid_vote_curve([0.5, 0.5], 1.0, [1, 3], np.array([0.8, 0.4])).round(4).tolist()
    [0.6, 0.624]
    """
    k = np.atleast_1d(np.asarray(ks)).astype(np.int64)
    if k.size == 0:
        return np.zeros(0)
    if np.any(k < 1) or np.any(k > EXTEND_MAX):
        raise ValueError(f"K must lie in 1..{EXTEND_MAX}")
    shape = np.array([[share, 1.0 - share]])
    curves = grid_curves(np.asarray(p_grid, dtype=float), shape, int(k.max()))  # (G, kmax)
    return np.asarray(np.clip(np.asarray(weights, dtype=float) @ curves[:, k - 1], 0.0, 1.0), dtype=float)


def beta_vote_curve(a: float, b: float, share: float, ks: ArrayLike) -> FloatArray:
    """Vote accuracy at each K of items with p ~ Beta(a, b) and modal wrong share ``share``.

    >>> beta_vote_curve(1.0, 1.0, 1.0, [1, 3]).round(4).tolist()  # p uniform: 1/2 at every K
    [0.5, 0.5]
    """
    return grid_vote_curve(beta_grid_weights(a, b), share, ks)


def modal_wrong_share(counts: Sequence[ItemCounts], weights: ArrayLike | None = None) -> float:
    """The pooled share of the non-correct samples (wrong and abstaining) that are their item's most
    frequent wrong answer; 1 when no sample is wrong.

    >>> modal_wrong_share([ItemCounts(1, (3, 1)), ItemCounts(0, (2,), 2)])
    0.625
    """
    w = np.ones(len(counts)) if weights is None else np.asarray(weights, dtype=float)
    modal = np.array([c.max_wrong for c in counts], dtype=float)
    other = np.array([c.n - c.correct for c in counts], dtype=float)
    total = float(w @ other)
    return 1.0 if total <= 0 else float(w @ modal) / total


def fit_beta_law(counts: Sequence[ItemCounts], weights: ArrayLike | None = None) -> tuple[float, float]:
    """(a, b) of the Beta law of the correct rate by maximum beta-binomial likelihood on the items' correct
    counts among all their samples (``weights`` count each item, for resampled items); :class:`CannotFit`
    when every item is always right or never right.

    >>> a, b = fit_beta_law([ItemCounts(1, (4,)), ItemCounts(0, (5,)), ItemCounts(3, (2,))] * 10)
    >>> bool(0.2 < a / (a + b) < 0.35)
    True
    """
    correct = np.array([c.correct for c in counts], dtype=np.int64)
    n = np.array([c.n for c in counts], dtype=np.int64)
    w = np.ones(len(counts)) if weights is None else np.asarray(weights, dtype=float)
    keep = (n > 0) & (w > 0)
    if not keep.any() or np.all(correct[keep] == 0) or np.all(correct[keep] == n[keep]):
        raise CannotFit("the beta-binomial law needs some correct and some non-correct samples")
    return _beta_binomial_fit(correct[keep], n[keep], w[keep])


class BetaBinomialLaw(ScalingLaw):
    """Vote accuracy of items whose correct rate follows a fitted Beta law, through the exact two-way vote
    formula (see the module docstring); ``n_boot`` (default 200) item-bootstrap refits make the band.
    After :meth:`fit`: ``a_``, ``b_`` (the Beta law), ``share_`` (the modal wrong share) and ``boot_``
    (the replicates' (a, b), shape (n_boot, 2))."""

    label = "beta-binomial law"
    short = "beta"
    has_band = True
    BAND_SCALE: ClassVar[float] = 2.0
    """The bootstrap band's half-widths are doubled: the 90 % quantile, over every (block, K) of the
    study's real pools, of the factor at which the band fitted on a block of 5 samples holds the curve
    measured on the samples held out of it (``bench/scaling_prediction.py``)."""

    def __init__(self, *, fit_on: int | None = None, offset: int = 0, seed: int = 0, n_boot: int = 200,
                 level: float = 0.9, band_scale: float | None = None) -> None:
        super().__init__(fit_on=fit_on, offset=offset, seed=seed, n_boot=n_boot, level=level, band_scale=band_scale)

    def _fit(self, counts: Sequence[ItemCounts]) -> None:
        self.a_, self.b_ = fit_beta_law(counts)
        self.share_ = modal_wrong_share(counts)
        rng = np.random.default_rng(self.seed)
        reps = []
        for _ in range(self.n_boot):
            w = np.bincount(rng.integers(0, len(counts), len(counts)), minlength=len(counts)).astype(float)
            try:
                reps.append(fit_beta_law(counts, w))
            except CannotFit:  # a resample without any correct (or any wrong) sample: the law's edge
                reps.append((self.a_, self.b_))
        self.boot_ = np.asarray(reps, dtype=float).reshape(-1, 2)

    def params(self) -> dict[str, Any]:
        """The fitted Beta law (a, b), its mean and the modal wrong share."""
        return {"a": self.a_, "b": self.b_, "mean": self.a_ / (self.a_ + self.b_), "share": self.share_}

    def _curves(self, ab: FloatArray, ks: ArrayLike) -> FloatArray:
        """The curves at ``ks`` of the Beta laws in the rows of ``ab``, shape (rows, len(ks))."""
        weights = np.stack([beta_grid_weights(a, b) for a, b in ab])
        return grid_vote_curve(weights, self.share_, ks)

    def predict(self, ks: ArrayLike) -> FloatArray:
        """The vote accuracy at each K under the fitted Beta law."""
        return np.asarray(self._curves(np.array([[self.a_, self.b_]]), ks)[0], dtype=float)

    def replicates(self, ks: ArrayLike) -> FloatArray:
        """The bootstrap replicates' curves at ``ks``, shape (n_boot, len(ks))."""
        if len(self.boot_) == 0:
            return np.zeros((0, np.size(ks)))
        return self._curves(self.boot_, ks)

    def band(self, ks: ArrayLike, level: float | None = None) -> tuple[FloatArray, FloatArray]:
        """The item-bootstrap band at ``level``, its half-widths times :attr:`scale`."""
        mean = self.predict(ks)
        reps = self.replicates(ks)
        if reps.shape[0] == 0:
            return mean, mean.copy()
        tail = (1.0 - (self.level if level is None else level)) / 2.0
        lo, hi = np.quantile(reps, [tail, 1.0 - tail], axis=0)
        return self.widen(mean, np.minimum(lo, mean), np.maximum(hi, mean))


class BetaPassAtKLaw(BetaBinomialLaw):
    """pass@k (coverage) of the fitted Beta law, exactly: 1 − B(a, b + k)/B(a, b); the same item-bootstrap
    band. Coverage only grows with k, so its best K is the largest one considered."""

    label = "beta-binomial pass@k"
    short = "beta-cov"
    target = "coverage"
    BAND_SCALE: ClassVar[float] = 1.0
    """Not widened: on the real pools' held-out samples the raw band already holds pass@k at 90 % of
    (block, K) with a factor below 1 (a band is never narrowed)."""

    def _curves(self, ab: FloatArray, ks: ArrayLike) -> FloatArray:
        return np.stack([beta_pass_at_k(a, b, ks) for a, b in ab])

    def best_k(self, ks: ArrayLike | None = None, *, level: float | None = None,
               among: ArrayLike | None = None) -> BestK:
        """The largest K considered (coverage never falls with more calls)."""
        k = prediction_ks(DEFAULT_HORIZON) if ks is None else np.atleast_1d(np.asarray(ks))
        return BestK(int(np.max(k if among is None else np.asarray(among))))
