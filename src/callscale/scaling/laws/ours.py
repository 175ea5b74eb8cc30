"""Our predictor as a scaling law: the answer prior fitted across items (:mod:`callscale.scaling.prior`)
pushed through the exact vote formula (:mod:`callscale.scaling.predict`), with bootstrap bands for the
curve and for the best K.

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", ("4", "5", "4", "4", "5", "4")) for i in range(20)]
    >>> law = ShrinkageLaw(fit_on=3, n_boot=10).fit(pools)
    >>> lo, hi = law.band([1, 3, 9])
    >>> bool(np.all(lo <= hi)), law.best_k([1, 3, 9]).interval is not None
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from callscale.executors.local import Mapper
from callscale.scaling.estimate import ItemCounts
from callscale.scaling.laws.base import DEFAULT_HORIZON, BestK, ScalingLaw, prediction_ks
from callscale.scaling.predict import CurveDraws, CurvePrediction, vote_curve_draws
from callscale.scaling.prior import fit_answer_prior

FloatArray = NDArray[np.float64]

__all__ = ["ShrinkageLaw"]


class ShrinkageLaw(ScalingLaw):
    """Each item shrunk toward a prior fitted across items, through the exact vote formula.

    ``n_boot`` (default 100) bootstrap replicates make the bands. Options beyond the common ones:
    ``penalty`` (the prior's smoothing; ``None``: chosen by cross-validation over items),
    ``boot_iterations`` and ``penalty_range`` of the bootstrap (see
    :func:`~callscale.scaling.predict.predict_vote_curve`). After :meth:`fit`, ``prior_`` is the fitted
    :class:`~callscale.scaling.prior.AnswerPrior`. The bootstrap runs once per set of K asked about;
    the curve, its band at any level and the best K among any candidates all come from it.
    """

    label = "ours"
    short = "ours"
    has_band = True
    BAND_SCALE: ClassVar[float] = 1.4
    """The bootstrap band's half-widths are multiplied by 1.4: the 90 % quantile, over every (block, K) of
    the study's real pools (15 disjoint blocks of 5 samples), of the factor at which the band fitted on
    the block holds the curve measured on the samples held out of it (``bench/scaling_prediction.py``)."""

    def __init__(self, *, fit_on: int | None = None, offset: int = 0, seed: int = 0, n_boot: int = 100,
                 level: float = 0.9, band_scale: float | None = None, penalty: float | None = None,
                 boot_iterations: int = 6, penalty_range: tuple[float, float] | None = (0.01, 1.0),
                 mapper: Mapper | None = None) -> None:
        super().__init__(fit_on=fit_on, offset=offset, seed=seed, n_boot=n_boot, level=level, band_scale=band_scale)
        self.penalty = penalty
        self.mapper = mapper  # where independent fits run (None: local processes when the work is large)
        self.boot_iterations = boot_iterations
        self.penalty_range = penalty_range

    def options(self) -> dict[str, Any]:
        """The constructor's options."""
        return {**super().options(), "penalty": self.penalty, "boot_iterations": self.boot_iterations,
                "penalty_range": self.penalty_range, "mapper": self.mapper}

    def fitted_options(self) -> dict[str, Any]:
        """The smoothing penalty this fit used (chosen by cross-validation unless given)."""
        return {"penalty": self.prior_.penalty}

    def params(self) -> dict[str, Any]:
        """The prior's smoothing penalty, its profile bands and the Beta law its density is shrunk toward."""
        prior = self.prior_
        return {"penalty": prior.penalty, "bands": list(prior.band_edges),
                "base": None if prior.base_law is None else [float(x) for x in prior.base_law]}

    def _fit(self, counts: Sequence[ItemCounts]) -> None:
        self.prior_ = fit_answer_prior(counts, penalty=self.penalty, mapper=self.mapper)
        self._draws: dict[bytes, CurveDraws] = {}

    def draws(self, ks: ArrayLike) -> CurveDraws:
        """The predicted curve at ``ks`` and its ``n_boot`` bootstrap replicates (computed once per ``ks``)."""
        k = np.atleast_1d(np.asarray(ks)).astype(np.int64)
        key = k.tobytes()
        if key not in self._draws:
            self._draws[key] = vote_curve_draws(
                self.counts_, k, prior=self.prior_, n_boot=self.n_boot, seed=self.seed,
                boot_iterations=self.boot_iterations, penalty_range=self.penalty_range, mapper=self.mapper,
            )
        return self._draws[key]

    def prediction(self, ks: ArrayLike, level: float | None = None, among: ArrayLike | None = None) -> CurvePrediction:
        """Curve, band at ``level`` and best K among ``among`` (default: all of ``ks``) in one record."""
        return self.draws(ks).summary(self.level if level is None else level, among)

    def predict(self, ks: ArrayLike) -> FloatArray:
        """The posterior-mean vote accuracy at each K."""
        return self.draws(ks).mean

    def band(self, ks: ArrayLike, level: float | None = None) -> tuple[FloatArray, FloatArray]:
        """The bootstrap band at ``level`` (under the prior's smoothness, not beyond it), its half-widths
        times :attr:`scale` (1: the bootstrap band as it is; see ``BAND_SCALE``)."""
        pred = self.prediction(ks, level)
        if self.scale == 1.0:
            return pred.lo, pred.hi
        return self.widen(pred.mean, pred.lo, pred.hi)

    def best_k(self, ks: ArrayLike | None = None, *, level: float | None = None,
               among: ArrayLike | None = None) -> BestK:
        """The best K and its bootstrap interval at ``level``."""
        pred = self.prediction(prediction_ks(DEFAULT_HORIZON) if ks is None else ks, level, among)
        return BestK(pred.k_star, pred.k_star_lo, pred.k_star_hi, pred.level)
