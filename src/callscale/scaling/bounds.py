"""How far a few samples per item pin down the vote curve: the likelihood range at each K.

With n samples of an item one sees only its answer counts, and across items the distribution of
those counts fixes little more than the first n moments of the items' answer distributions. Where
the vote curve depends on more than that — typically at large K, where it turns on how much mass
sits just above or just below the winning threshold — it is only *partially identified*: different
priors over answer distributions fit the counts equally well and predict different curves. The
shrinkage predictor (:func:`callscale.scaling.predict.predict_vote_curve`) settles this by assuming a
smooth prior; this module reports what the data alone allow.

The range at K is ``{F_K(w) : ℓ(w) ≥ ℓ̂ − χ²₁(level)/2}``: w runs over *every* prior on the predictor's
grid of answer distributions (no smoothness), ℓ is the marginal log-likelihood of the observed counts
and ℓ̂ its maximum (found by EM). F_K is linear in w and the set is convex, so each end is a convex
programme, solved by supporting hyperplanes (linear programmes with HiGHS) to within ``tol``; each
end reported is a member's value widened by what is left of that tolerance, so it errs on the side
of a wider range.

Example:
    >>> from callscale.scaling.estimate import ItemCounts
    >>> counts = [ItemCounts(4, (1,)), ItemCounts(1, (4,)), ItemCounts(3, (2,))] * 30
    >>> r = likelihood_range(counts, [1, 9])
    >>> bool(r.lo[0] < 8 / 15 < r.hi[0]) and bool(r.hi[1] - r.lo[1] > r.hi[0] - r.lo[0])
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from callscale.scaling.estimate import ItemCounts
from callscale.scaling.grid import signature_table
from callscale.scaling.predict import thinning_matrix
from callscale.scaling.prior import FALLBACK_PENALTY, AnswerPrior, fit_answer_prior

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class CurveRange:
    """Lowest and highest vote accuracy at each K among priors that fit the samples (see module docstring)."""

    k: IntArray
    lo: FloatArray
    hi: FloatArray
    level: float

    def width(self) -> FloatArray:
        """hi − lo at each K."""
        return np.asarray(self.hi - self.lo, dtype=float)


def _abstain_laws(prior: AnswerPrior, counts: Sequence[ItemCounts], level: float) -> list[tuple[float, float]]:
    """The prior's beta law of the abstain rate, and two with its mean at the ends of a ``level`` interval.

    The interval is mean ± z·(standard error of the items' abstain fractions), so it widens with
    overdispersion; the concentration is kept.
    """
    a, b = prior.abstain_a, prior.abstain_b
    if a == 0.0 or b == 0.0:
        return [(a, b)]
    rates = np.array([c.abstain / c.n for c in counts if c.n > 0])
    z = float(stats.norm.ppf((1.0 + level) / 2.0))
    half = z * float(rates.std(ddof=1)) / np.sqrt(rates.size) if rates.size > 1 else 0.0
    size, mean = a + b, a / (a + b)
    laws = [(a, b)]
    for m in (mean - half, mean + half):
        m = float(np.clip(m, 1e-6, 1.0 - 1e-6))
        laws.append((m * size, (1.0 - m) * size))
    return laws


def _accuracy_rows(prior: AnswerPrior, ks: IntArray, law: tuple[float, float]) -> FloatArray:
    """Population vote accuracy of every grid point at each K, abstains thinned by the beta ``law``."""
    curves = np.concatenate([np.zeros((prior.weights.size, 1)), prior.grid_curves(int(ks.max()))], axis=1)  # K = 0..
    return np.asarray(thinning_matrix(ks, *law) @ curves.T, dtype=float)


_CUT_POOL = 120


class _Mixture:
    """Marginal log-likelihood ℓ(w) of the items' signature counts under a prior w on the grid."""

    def __init__(self, lik: FloatArray, mult: FloatArray) -> None:
        self.lik = lik  # (signatures, grid), rows scaled by constants that cancel in differences
        self.mult = mult

    def loglik(self, w: FloatArray) -> float:
        mix = self.lik @ w
        if np.any(mix[self.mult > 0] <= 0):
            return -np.inf
        return float(self.mult @ np.log(np.where(mix > 0, mix, 1.0)))

    def gradient(self, w: FloatArray) -> FloatArray:
        return np.asarray(self.lik.T @ (self.mult / np.maximum(self.lik @ w, 1e-300)), dtype=float)

    def best_fit(self, w: FloatArray, iterations: int) -> tuple[FloatArray, float]:
        """Maximum-likelihood prior by EM (multiplicative updates), from ``w``."""
        total = self.mult.sum()
        for _ in range(iterations):
            w = w * self.gradient(w) / total
            w /= w.sum()
        return w, self.loglik(w)


def _extreme(model: _Mixture, target: FloatArray, centre: FloatArray, floor: float, tol: float,
             max_cuts: int, cuts: list[FloatArray], rhs: list[float]) -> tuple[FloatArray, float]:
    """max target·w over {w on the simplex : ℓ(w) ≥ floor}, by supporting hyperplanes.

    ℓ is concave, so its superlevel set is convex and lies on one side of the tangent plane at each of its
    boundary points: a linear programme over those planes bounds the maximum from above, and the boundary
    point on the segment from ``centre`` (inside) to the programme's solution is a member, bounding it
    from below. Returns the best member and the gap to the upper bound, once the gap is below ``tol``
    (or after ``max_cuts`` planes). The planes support the set whatever the objective, so ``cuts`` and
    ``rhs`` carry them from one call to the next.
    """
    n = target.size
    best, member, gap = float(target @ centre), centre, 1.0
    equality = np.ones((1, n))
    for _ in range(max_cuts):
        recent = slice(-_CUT_POOL, None)  # older planes are mostly slack and only slow the programme down
        result = optimize.linprog(-target, A_ub=np.array(cuts[recent]) if cuts else None,
                                  b_ub=np.array(rhs[recent]) if rhs else None, A_eq=equality, b_eq=[1.0],
                                  bounds=(0, None), method="highs-ds", options={"presolve": False})
        if result.status != 0:
            break
        outer = np.clip(result.x, 0.0, None)
        upper = float(target @ outer)
        if model.loglik(outer) >= floor:
            return outer, 0.0
        lo_t, hi_t = 0.0, 1.0  # ℓ along the segment is concave and ≥ floor at t = 0
        for _ in range(30):
            mid = (lo_t + hi_t) / 2
            if model.loglik(centre + mid * (outer - centre)) >= floor:
                lo_t = mid
            else:
                hi_t = mid
        edge = centre + lo_t * (outer - centre)
        if float(target @ edge) > best:
            best, member = float(target @ edge), edge
        gap = max(upper - best, 0.0)
        if gap < tol:
            break
        # Concavity: every member w has floor ≤ ℓ(w) ≤ ℓ(x) + g·(w − x), at any x; x just outside the set.
        x = centre + hi_t * (outer - centre)
        value = model.loglik(x)
        if not np.isfinite(value):  # the set reaches the edge of ℓ's domain there: cut at the member instead
            x, value = edge, model.loglik(edge)
        g = model.gradient(x)
        cuts.append(-g)
        rhs.append(-(float(g @ x) + floor - value))
    return member, gap


def likelihood_range(
    counts: Sequence[ItemCounts],
    k: ArrayLike,
    *,
    prior: AnswerPrior | None = None,
    level: float = 0.95,
    tol: float = 5e-3,
    max_cuts: int = 60,
) -> CurveRange:
    """The range of the population vote curve at each K that the items' counts cannot rule out.

    ``counts`` are the items' answer counts in the samples available (e.g. the first 5 of each pool);
    ``prior`` supplies the grid of answer distributions and the abstain law (fitted on ``counts`` when
    not given; pass the one :func:`~callscale.scaling.predict.predict_vote_curve` used to share its exact
    curves). See the module docstring for the definition; K ≤ 1001 (the grid's curves: exact to 150,
    extended beyond by :func:`~callscale.scaling.grid.extend_curves`). ``max_cuts`` caps the planes
    added per end.
    """
    ks = np.atleast_1d(np.asarray(k)).astype(np.int64)
    if np.any(ks < 1):
        raise ValueError("K must be ≥ 1")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if not counts:
        raise ValueError("no items")
    # Only the prior's grid, abstain law and starting point matter here, not its smoothness: no need to
    # cross-validate the penalty.
    fitted = prior if prior is not None else fit_answer_prior(counts, penalty=FALLBACK_PENALTY)
    # Abstains are independent of w: only the voting answers' signatures enter ℓ.
    sigs, inverse = signature_table([ItemCounts(c.correct, c.wrong) for c in counts])
    mult = np.bincount(inverse, minlength=len(sigs)).astype(float)
    loglik = fitted.log_likelihood(sigs)
    top = loglik.max(axis=1, keepdims=True)
    model = _Mixture(np.exp(loglik - np.where(np.isfinite(top), top, 0.0)), mult)
    centre, best = model.best_fit(fitted.weights.ravel().copy(), 2000)
    floor = best - float(stats.chi2.ppf(level, 1)) / 2.0
    # The abstain rate is independent of w: each end is searched under the fitted law, then the member
    # found is also scored under the laws at the ends of the abstain rate's interval.
    laws = [_accuracy_rows(fitted, ks, law) for law in _abstain_laws(fitted, counts, level)]
    cuts: list[FloatArray] = []
    rhs: list[float] = []
    lo = np.empty(ks.size)
    hi = np.empty(ks.size)
    for i, row in enumerate(laws[0]):
        highest, high_gap = _extreme(model, row, centre, floor, tol, max_cuts, cuts, rhs)
        lowest, low_gap = _extreme(model, -row, centre, floor, tol, max_cuts, cuts, rhs)
        # Widened by the solver's remaining gap, so the range contains every prior that fits.
        hi[i] = min(1.0, max(float(rows[i] @ highest) for rows in laws) + high_gap)
        lo[i] = max(0.0, min(float(rows[i] @ lowest) for rows in laws) - low_gap)
    return CurveRange(ks, lo, hi, level)
