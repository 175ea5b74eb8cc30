"""The coverage law of Brown et al.: the share of items some of k calls answers correctly (pass@k)
follows log C(k) ≈ a·k^b (a < 0), fitted on the unbiased pass@k estimates of a pool.

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", tuple("4" if (i + j) % 5 == 0 else "5" for j in range(8))) for i in range(10)]
    >>> law = PassAtKLaw().fit(pools)
    >>> bool(law.predict([1])[0] < law.predict([8])[0]), sorted(law.params())
    (True, ['a', 'b'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from callscale.scaling.estimate import ItemCounts, coverage_curve
from callscale.scaling.laws.base import DEFAULT_HORIZON, BestK, CannotFit, ScalingLaw, prediction_ks

FloatArray = NDArray[np.float64]

__all__ = ["CoverageLaw", "PassAtKLaw", "fit_coverage_law"]


@dataclass(frozen=True)
class CoverageLaw:
    """log coverage ≈ a·k^b (a < 0), so coverage(k) = exp(a·k^b).

    >>> CoverageLaw(-1.0, -0.5).predict([1, 4]).round(4).tolist()
    [0.3679, 0.6065]
    """

    a: float
    b: float

    def predict(self, k: ArrayLike) -> FloatArray:
        """Predicted coverage at each k."""
        return np.asarray(np.exp(self.a * np.power(np.asarray(k, dtype=float), self.b)), dtype=float)


def fit_coverage_law(k: ArrayLike, coverage: ArrayLike) -> CoverageLaw:
    """Fit log C(k) = a·k^b on (preferably log-spaced) k by least squares on log coverage.

    >>> law = fit_coverage_law([1, 2, 4, 8, 16, 32], CoverageLaw(-1.2, -0.4).predict([1, 2, 4, 8, 16, 32]))
    >>> round(law.a, 6), round(law.b, 6)
    (-1.2, -0.4)
    """
    ks = np.asarray(k, dtype=float)
    cov = np.asarray(coverage, dtype=float)
    ok = (cov > 0) & (cov < 1)
    if ok.sum() < 2:
        raise CannotFit("need at least two coverage values strictly between 0 and 1")
    ks, log_cov = ks[ok], np.log(cov[ok])
    slope, intercept = np.polyfit(np.log(ks), np.log(-log_cov), 1)

    def residual(x: FloatArray) -> FloatArray:
        return np.asarray(-np.exp(x[0]) * np.power(ks, x[1]) - log_cov, dtype=float)

    result = optimize.least_squares(residual, np.array([intercept, slope]))
    return CoverageLaw(float(-np.exp(result.x[0])), float(result.x[1]))


class PassAtKLaw(ScalingLaw):
    """The coverage law as a :class:`~callscale.scaling.laws.base.ScalingLaw`: fitted on the pass@k
    estimates at k = 1..n of the window's n samples (those above 0); no band. Coverage only grows
    with k, so its best K is the largest one considered."""

    label = "coverage law exp(a·k^b)"
    short = "cov"
    target = "coverage"

    def _fit(self, counts: Sequence[ItemCounts]) -> None:
        ks = np.arange(1, min(c.n for c in counts) + 1)
        cov = coverage_curve(counts, ks)
        seen = np.isfinite(cov) & (cov > 0)
        if seen.sum() < 2:
            raise CannotFit("need coverage above 0 at two k at least")
        self.law_ = fit_coverage_law(ks[seen], cov[seen])

    def predict(self, ks: ArrayLike) -> FloatArray:
        """Predicted coverage at each k."""
        return self.law_.predict(ks)

    def params(self) -> dict[str, Any]:
        """The fitted a and b."""
        return {"a": self.law_.a, "b": self.law_.b}

    def best_k(self, ks: ArrayLike | None = None, *, level: float | None = None,
               among: ArrayLike | None = None) -> BestK:
        """The largest K considered (coverage never falls with more calls)."""
        k = prediction_ks(DEFAULT_HORIZON) if ks is None else np.atleast_1d(np.asarray(ks))
        return BestK(int(np.max(k if among is None else np.asarray(among))))
