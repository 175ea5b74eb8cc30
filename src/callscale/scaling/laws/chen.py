"""Chen et al.'s fitted law of Vote accuracy: per item, G(K) = 1 − exp(−a₁K − a₂√K − a₃) if the correct
answer is the mode, else exp(−a₁K − a₂√K − a₃), with a₁, a₂ ≥ 0, fitted on accuracies at a few K and
averaged over items.

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", ("4", "5", "4", "4", "6")) for i in range(4)]
    >>> law = ChenLaw(fit_on=5).fit(pools)
    >>> bool(law.predict([1])[0] > 0.5), law.best_k([1, 3, 5]).k
    (True, 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from callscale.scaling.estimate import ItemCounts, subset_vote_curves
from callscale.scaling.laws.base import ScalingLaw

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

__all__ = ["ChenLaw", "ChenLawFit", "chen_law", "fit_chen_law", "fit_chen_law_pool"]

_A3_BOUND = 40.0


def chen_law(k: ArrayLike, a1: float, a2: float, a3: float, correct_is_mode: bool) -> FloatArray:
    """Chen et al.'s per-item law: 1 − exp(−a₁K − a₂√K − a₃) if the correct answer is the mode, else
    exp(−a₁K − a₂√K − a₃).

    >>> chen_law([1, 4], 0.1, 0.0, 0.0, True).round(4).tolist()
    [0.0952, 0.3297]
    """
    kk = np.asarray(k, dtype=float)
    e = np.exp(-(a1 * kk + a2 * np.sqrt(kk) + a3))
    return np.asarray(1.0 - e if correct_is_mode else e, dtype=float)


@dataclass(frozen=True)
class ChenLawFit:
    """Fitted per-item parameters (a₁, a₂, a₃) and branches of Chen et al.'s law.

    >>> fit = fit_chen_law([1, 2, 5], [[0.5, 0.6, 0.8]], [True])
    >>> round(float(fit.predict([5])[0]), 2)
    0.8
    """

    params: FloatArray
    correct_is_mode: BoolArray

    def predict_items(self, k: ArrayLike) -> FloatArray:
        """Per-item predictions, shape (items, len(k)), clipped to [0, 1]."""
        ks = np.atleast_1d(np.asarray(k, dtype=float))
        e = np.exp(
            -(
                np.outer(self.params[:, 0], ks)
                + np.outer(self.params[:, 1], np.sqrt(ks))
                + self.params[:, 2:3]
            )
        )
        return np.asarray(np.clip(np.where(self.correct_is_mode[:, None], 1.0 - e, e), 0.0, 1.0), dtype=float)

    def predict(self, k: ArrayLike) -> FloatArray:
        """Task accuracy: the item average of the per-item laws."""
        return np.asarray(self.predict_items(k).mean(axis=0), dtype=float)

    def best_k(self, k: ArrayLike) -> int:
        """The K among ``k`` with the highest predicted accuracy."""
        ks = np.atleast_1d(np.asarray(k))
        return int(ks[int(np.argmax(self.predict(ks)))])


def _fit_one_chen(ks: FloatArray, acc: FloatArray, mode: bool) -> FloatArray:
    design = np.column_stack([ks, np.sqrt(ks), np.ones_like(ks)])
    eps = 1e-9
    target = -np.log(np.clip(1.0 - acc if mode else acc, eps, 1.0))
    lower, upper = [0.0, 0.0, -_A3_BOUND], [np.inf, np.inf, _A3_BOUND]
    start = optimize.lsq_linear(design, target, bounds=(lower, upper)).x
    start = np.clip(start, [0.0, 0.0, -_A3_BOUND + 1e-6], [np.inf, np.inf, _A3_BOUND - 1e-6])

    def residual(a: FloatArray) -> FloatArray:
        return chen_law(ks, float(a[0]), float(a[1]), float(a[2]), mode) - acc

    result = optimize.least_squares(residual, start, bounds=(lower, upper), x_scale="jac")
    return np.asarray(result.x, dtype=float)


def fit_chen_law(k: ArrayLike, accuracy: ArrayLike, correct_is_mode: ArrayLike) -> ChenLawFit:
    """Fit Chen et al.'s law per item by least squares on accuracies measured at a few K.

    ``accuracy`` has shape (items, len(k)); ``correct_is_mode`` chooses each item's branch.

    >>> ks = [2, 5, 10, 20]
    >>> acc = [chen_law(ks, 0.05, 0.1, 0.2, True), chen_law(ks, 0.02, 0.0, 1.0, False)]
    >>> fit = fit_chen_law(ks, acc, [True, False])
    >>> truth = (chen_law(100, 0.05, 0.1, 0.2, True) + chen_law(100, 0.02, 0.0, 1.0, False)) / 2
    >>> bool(np.allclose(fit.predict([100]), truth))
    True
    """
    ks = np.atleast_1d(np.asarray(k, dtype=float))
    acc = np.asarray(accuracy, dtype=float).reshape(-1, ks.size)
    mode = np.asarray(correct_is_mode, dtype=bool).reshape(-1)
    if mode.size != acc.shape[0]:
        raise ValueError("one branch per item")
    cache: dict[tuple[bool, tuple[float, ...]], FloatArray] = {}
    params = np.empty((acc.shape[0], 3))
    for i, (row, m) in enumerate(zip(acc, mode, strict=True)):
        key = (bool(m), tuple(np.round(row, 12)))
        if key not in cache:
            cache[key] = _fit_one_chen(ks, row, bool(m))
        params[i] = cache[key]
    return ChenLawFit(params, mode)


def fit_chen_law_pool(counts: Sequence[ItemCounts], k: ArrayLike | None = None) -> ChenLawFit:
    """Fit Chen et al.'s law on a pool: accuracies at ``k`` (default 1..n) by exact subset averaging;
    the branch is whether the correct answer is the pool's mode.

    >>> fit = fit_chen_law_pool([ItemCounts(3, (2,)), ItemCounts(1, (4,))])
    >>> fit.correct_is_mode.tolist()
    [True, False]
    """
    n = min(c.n for c in counts)
    ks = np.arange(1, n + 1) if k is None else np.atleast_1d(np.asarray(k)).astype(int)
    acc = subset_vote_curves(counts, ks)
    return fit_chen_law(ks, acc, [c.correct_is_mode for c in counts])


class ChenLaw(ScalingLaw):
    """Chen et al.'s law as a :class:`~callscale.scaling.laws.base.ScalingLaw`: fitted per item on the
    exact subset-averaged accuracies at K = 1..n of the window's n samples (no band)."""

    label = "Chen et al.'s law"
    short = "Chen"

    def _fit(self, counts: Sequence[ItemCounts]) -> None:
        self.fit_ = fit_chen_law_pool(counts)

    def predict(self, ks: ArrayLike) -> FloatArray:
        """The item average of the fitted per-item laws at each K."""
        return self.fit_.predict(ks)
