"""Fitting the answer prior's parts: a smooth density over p (Efron's g-modelling), per-band profile
weights, the Beta law the density is shrunk toward and the abstain rate's Beta prior.

The density over the p grid is log g = base + basis·coef (cubic B-splines plus point masses at 0 and
1, :func:`spline_basis`), fitted by penalised marginal likelihood (:func:`fit_banded_prior`, which
alternates Newton steps on the coefficients with EM steps on the profile weights of each band of p).

Example:
    >>> p = np.linspace(0.0, 1.0, 11)
    >>> g = spline_density(spline_basis(p, 6), np.zeros(8), np.zeros(11))
    >>> bool(abs(g.sum() - 1.0) < 1e-12 and np.allclose(g, g[0]))
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats
from scipy.interpolate import BSpline

from callscale.scaling.estimate import ItemCounts

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "BASE_CONCENTRATION",
    "FactoredLikelihood",
    "band_of",
    "band_profile_weights",
    "base_law_of",
    "base_log_density",
    "fit_abstain_prior",
    "fit_banded_prior",
    "fit_base_law",
    "spline_basis",
    "spline_density",
]

BASE_CONCENTRATION = 2.0
"""The most concentrated base law the density over p is shrunk toward: a + b of Beta(a, b) at most 2."""


_LOG_SIZE = (-5.0, 10.0)
"""Bounds of log(a + b) in the beta-binomial fit."""


def _beta_binomial_fit(successes: IntArray, trials: IntArray, weights: FloatArray | None = None) -> tuple[float, float]:
    """(a, b) of the Beta law maximising the (weighted) beta-binomial likelihood of ``successes`` of ``trials``.

    Searched over x = (logit of the mean, log of a + b), log(a + b) within [−5, 10], by Newton's method
    with the exact gradient and Hessian (digamma, trigamma), an eigenvalue-clipped Hessian and
    backtracking, from the pooled rate and a + b = 10; at a bound of log(a + b) the step moves the mean
    only. Needs some successes and some failures.

    >>> a, b = _beta_binomial_fit(np.array([0, 1, 4, 2]), np.array([5, 5, 5, 5]))
    >>> round(a / (a + b), 3)
    0.349
    """
    w = np.ones(len(successes)) if weights is None else np.asarray(weights, dtype=float)
    # Items share few (successes, trials) pairs: sum their weights once (the binomial coefficient is a
    # constant of the likelihood and drops out).
    trials = np.asarray(trials, dtype=np.int64)
    width = int(trials.max()) + 1
    keys, which = np.unique(np.asarray(successes, dtype=np.int64) * width + trials, return_inverse=True)
    pair_w = np.bincount(which.ravel(), weights=w, minlength=len(keys))
    k, n = (keys // width).astype(float), (keys % width).astype(float)
    total = float(pair_w.sum())
    lo, hi = _LOG_SIZE

    def split(x: FloatArray) -> tuple[float, float]:
        mean = float(special.expit(x[0]))
        size = float(np.exp(x[1]))
        return mean * size, (1.0 - mean) * size

    def neg(x: FloatArray) -> float:
        a, b = split(x)
        return -float(pair_w @ (special.betaln(k + a, n - k + b) - special.betaln(a, b)))

    def derivatives(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Gradient and Hessian of ``neg`` at x (chain rule from (a, b))."""
        mean, size = float(special.expit(x[0])), float(np.exp(x[1]))
        a, b = mean * size, (1.0 - mean) * size
        args = np.concatenate([k + a, n - k + b, n + a + b, [a, b, a + b]])
        psi, tri = special.digamma(args), special.polygamma(1, args)
        s = k.size
        d_a = float(pair_w @ (psi[:s] - psi[2 * s:3 * s])) - total * (psi[-3] - psi[-1])
        d_b = float(pair_w @ (psi[s:2 * s] - psi[2 * s:3 * s])) - total * (psi[-2] - psi[-1])
        both = total * tri[-1] - float(pair_w @ tri[2 * s:3 * s])
        h_aa = float(pair_w @ tri[:s]) - total * tri[-3] + both
        h_bb = float(pair_w @ tri[s:2 * s]) - total * tri[-2] + both
        v = mean * (1.0 - mean) * size
        jac = np.array([[v, mean * size], [-v, (1.0 - mean) * size]])  # ∂(a, b)/∂x
        curv = np.array([[v * (1.0 - 2.0 * mean), v], [v, 0.0]])  # ∂²a/∂x² = curv + diag(0, a); b: minus, + diag(0, b)
        hess = jac.T @ np.array([[h_aa, both], [both, h_bb]]) @ jac + (d_a - d_b) * curv
        hess[1, 1] += d_a * a + d_b * b
        return -(jac.T @ np.array([d_a, d_b])), -hess

    rate = float(w @ successes) / float(w @ trials)
    x = np.array([special.logit(rate), np.log(10.0)])
    current = neg(x)
    for _ in range(100):
        grad, hess = derivatives(x)
        free = [0] if (x[1] <= lo and grad[1] > 0) or (x[1] >= hi and grad[1] < 0) else [0, 1]
        vals, vecs = np.linalg.eigh(hess[np.ix_(free, free)])
        vals = np.maximum(np.abs(vals), 1e-8 * max(1.0, float(np.abs(vals).max())))
        step = np.zeros(2)
        step[free] = -(vecs @ ((vecs.T @ grad[free]) / vals))
        t = 1.0
        while t > 1e-10:
            trial = x + t * step
            trial[1] = min(max(trial[1], lo), hi)
            new = neg(trial)
            if new < current:
                break
            t *= 0.5
        else:
            break
        improvement, x, current = current - new, trial, new
        if improvement < 1e-12 * max(1.0, abs(current)):
            break
    return split(x)


def fit_abstain_prior(counts: Sequence[ItemCounts]) -> tuple[float, float]:
    """Beta prior (a, b) on the abstain rate by beta-binomial maximum likelihood; (0, 1) when nobody
    abstains, (1, 0) when every sample does.

    >>> fit_abstain_prior([ItemCounts(3, (2,))]), fit_abstain_prior([ItemCounts(0, (), 4)])
    ((0.0, 1.0), (1.0, 0.0))
    """
    m_a = np.array([c.abstain for c in counts])
    n = np.array([c.n for c in counts])
    if m_a.sum() == 0:
        return 0.0, 1.0
    if np.all(m_a == n):
        return 1.0, 0.0
    return _beta_binomial_fit(m_a, n)


def fit_base_law(counts: Sequence[ItemCounts], weights: ArrayLike | None = None) -> tuple[float, float] | None:
    """The Beta law the density over p is shrunk toward: beta-binomial fit to the correct answers among
    the voting ones, concentration capped at ``BASE_CONCENTRATION`` (mean kept); ``None`` (flat) when
    every item is always right or never right. ``weights`` counts each item (for resampled items).

    Shrinking toward a flat density pulls mass from where the items are toward the middle; a few samples
    per item cannot tell which density with the same first moments is right, and on a task where most
    items are almost never right that mass lands where items start winning the vote. The fitted law
    bends the target toward the items' own mean and spread; the cap (a + b ≤ 2 never has a peak inside
    (0, 1)) keeps it from claiming the items are alike, which few samples cannot show either.

    >>> a, b = fit_base_law([ItemCounts(0, (5,))] * 80 + [ItemCounts(1, (4,))] * 15 + [ItemCounts(4, (1,))] * 5)
    >>> bool(a + b <= BASE_CONCENTRATION + 1e-9 and a / (a + b) < 0.2)
    True
    """
    voting = np.array([c.correct + sum(c.wrong) for c in counts])
    correct = np.array([c.correct for c in counts])
    return base_law_of(correct, voting, weights)


def base_law_of(correct: IntArray, voting: IntArray, weights: ArrayLike | None = None) -> tuple[float, float] | None:
    """:func:`fit_base_law` from the items' correct and voting counts (arrays kept by a caller that
    refits often, e.g. every bootstrap replicate).

    >>> base_law_of(np.array([0, 0]), np.array([3, 4])) is None
    True
    """
    w = np.ones(len(correct)) if weights is None else np.asarray(weights, dtype=float)
    keep = (voting > 0) & (w > 0)
    if not keep.any() or np.all(correct[keep] == 0) or np.all(correct[keep] == voting[keep]):
        return None
    a, b = _beta_binomial_fit(correct[keep], voting[keep], w[keep])
    scale = min(1.0, BASE_CONCENTRATION / (a + b))
    return a * scale, b * scale


def base_log_density(p_grid: FloatArray, law: tuple[float, float] | None) -> FloatArray:
    """Log mass of Beta(a, b) on each grid point's cell (cells meet halfway between points, the largest
    is 0, none below −50); zeros for ``None`` (a flat density over the grid points).

    >>> base_log_density(np.array([0.0, 0.5, 1.0]), (1.0, 1.0)).round(4).tolist()
    [-0.6931, 0.0, -0.6931]
    """
    if law is None:
        return np.zeros(p_grid.size)
    order = np.argsort(p_grid)
    sorted_p = p_grid[order]
    edges = np.concatenate([[0.0], (sorted_p[1:] + sorted_p[:-1]) / 2.0, [1.0]])
    cdf = stats.beta.cdf(edges, *law)
    mass = np.empty(p_grid.size)
    mass[order] = np.diff(cdf)
    log_mass = np.log(np.maximum(mass, 1e-300))
    return np.asarray(np.maximum(log_mass - log_mass.max(), -50.0), dtype=float)


def spline_basis(p_grid: FloatArray, df: int) -> FloatArray:
    """Cubic B-splines with ``df`` columns on [0, 1], plus indicators of p = 0 and p = 1, centred.

    >>> spline_basis(np.linspace(0.0, 1.0, 11), 6).shape
    (11, 8)
    """
    degree = 3
    inner = np.linspace(0.0, 1.0, max(df, degree + 1) - degree + 1)
    knots = np.concatenate([np.zeros(degree), inner, np.ones(degree)])
    basis = BSpline.design_matrix(np.clip(p_grid, 0.0, 1.0), knots, degree).toarray()
    cols = [basis]
    for end in (0.0, 1.0):
        if np.any(p_grid == end):
            cols.append((p_grid == end).astype(float)[:, None])
    full = np.hstack(cols)
    return np.asarray(full - full.mean(axis=0), dtype=float)


def spline_density(basis: FloatArray, coef: FloatArray, base: FloatArray) -> FloatArray:
    """The normalised density exp(base + basis·coef) over the grid points.

    >>> spline_density(np.zeros((2, 1)), np.zeros(1), np.array([0.0, np.log(3.0)])).tolist()
    [0.25, 0.75]
    """
    z = basis @ coef + base
    z = np.exp(z - z.max())
    return np.asarray(z / z.sum(), dtype=float)


def _newton_spline(
    lik_p: FloatArray,
    mult: FloatArray,
    basis: FloatArray,
    penalty: float,
    coef: FloatArray,
    base: FloatArray,
    max_iter: int = 50,
) -> FloatArray:
    """Maximise Σ_s m_s log(lik_p[s]·g(coef)) − penalty·‖coef‖² over the log-spline coefficients
    (log g = base + basis·coef, up to normalisation).

    Newton's method with an eigenvalue-clipped Hessian (the mixture likelihood is not concave in
    general) and backtracking; the problem has only ~10 parameters.
    """
    total = mult.sum()
    eye = np.eye(basis.shape[1])

    def value(a: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """The objective at ``a``, with the density and the mixture it took (the next step starts from them)."""
        g = spline_density(basis, a, base)
        mix = np.maximum(lik_p @ g, 1e-300)
        return -float(mult @ np.log(mix)) + penalty * float(a @ a), g, mix

    current, g, mix = value(coef)
    for _ in range(max_iter):
        post = lik_p * g[None, :] / mix[:, None]  # (S, P)
        mean_g = g @ basis
        mean_post = post @ basis  # (S, D)
        grad = -(mult @ mean_post - total * mean_g) + 2.0 * penalty * coef
        cov_g = basis.T @ (basis * g[:, None]) - np.outer(mean_g, mean_g)
        pooled = basis.T @ (basis * (mult @ post)[:, None]) - mean_post.T @ (mean_post * mult[:, None])
        hess = total * cov_g - pooled + 2.0 * penalty * eye
        vals, vecs = np.linalg.eigh(hess)
        vals = np.maximum(vals, 1e-3 * max(float(vals.max()), 1e-12) + 1e-9)
        step = -(vecs @ ((vecs.T @ grad) / vals))
        t = 1.0
        while t > 1e-6:
            trial = coef + t * step
            new, g_trial, mix_trial = value(trial)
            if new <= current - 1e-4 * t * float(-grad @ step):
                break
            t *= 0.5
        else:
            break
        coef, improvement, current, g, mix = trial, current - new, new, g_trial, mix_trial
        if improvement < 1e-9 * max(1.0, abs(current)):
            break
    return coef


def band_of(p_grid: FloatArray, band_edges: Sequence[float]) -> IntArray:
    """The band of each grid p (0 .. len(band_edges)); a band starts at its lower edge.

    >>> band_of(np.array([0.0, 0.05, 0.1, 0.5]), (0.05, 0.35)).tolist()
    [0, 1, 1, 2]
    """
    return np.asarray(np.digitize(p_grid, np.asarray(band_edges, dtype=float)), dtype=np.int64)


def band_profile_weights(weights: FloatArray, bands: IntArray) -> FloatArray:
    """Each band's profile weights (rows summing to 1) from (P, Q) prior weights or expected item counts;
    a band without mass gets uniform weights. ``bands`` maps each p to its band (:func:`band_of`).

    >>> band_profile_weights(np.array([[1.0, 3.0], [0.0, 0.0]]), np.array([0, 1])).tolist()
    [[0.25, 0.75], [0.5, 0.5]]
    """
    per_band = np.zeros((int(bands.max()) + 1, weights.shape[1]))
    np.add.at(per_band, bands, weights)
    totals = per_band.sum(axis=1, keepdims=True)
    uniform = np.full_like(per_band, 1.0 / weights.shape[1])
    return np.asarray(np.where(totals > 0, per_band / np.where(totals > 0, totals, 1.0), uniform), dtype=float)


@dataclass(frozen=True)
class FactoredLikelihood:
    """Likelihoods over a (p, profile) grid kept as their two factors: lik[s, p, q] = by_p[s, p]·by_q[s, q].

    Each row's likelihood of grid point (p, q) is a term in p times a term in the profile
    (:func:`~callscale.scaling.grid.log_likelihood_parts`), so the (S, P, Q) array is never formed:
    its contractions with the prior weights are matrix products of the factors.

    >>> lik = FactoredLikelihood.of(np.log([[1.0, 2.0]]), np.log([[4.0, 1.0, 2.0]]))
    >>> lik.shape, lik.dense().tolist()
    ((1, 2, 3), [[[0.5, 0.125, 0.25], [1.0, 0.25, 0.5]]])
    """

    by_p: FloatArray
    by_q: FloatArray

    @classmethod
    def of(cls, log_p: FloatArray, log_q: FloatArray) -> FactoredLikelihood:
        """From the log factors, each row scaled so that its largest entry is 1."""
        return cls(_scaled_exp(log_p), _scaled_exp(log_q))

    @property
    def shape(self) -> tuple[int, int, int]:
        """(S, P, Q) of the likelihood array the factors stand for."""
        return self.by_p.shape[0], self.by_p.shape[1], self.by_q.shape[1]

    def rows(self, index: IntArray) -> FactoredLikelihood:
        """The likelihoods of the rows ``index``."""
        return FactoredLikelihood(self.by_p[index], self.by_q[index])

    def dense(self) -> FloatArray:
        """The (S, P, Q) array itself (for checks on small grids)."""
        return np.asarray(self.by_p[:, :, None] * self.by_q[:, None, :], dtype=float)


def _scaled_exp(log_lik: FloatArray) -> FloatArray:
    """exp of each row minus its largest finite entry."""
    top = log_lik.max(axis=1, keepdims=True)
    return np.asarray(np.exp(log_lik - np.where(np.isfinite(top), top, 0.0)), dtype=float)


def fit_banded_prior(
    lik: FloatArray | FactoredLikelihood,
    mult: FloatArray,
    basis: FloatArray,
    penalty: float,
    iterations: int,
    coef: FloatArray,
    band_weights: FloatArray,
    bands: IntArray,
    base: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Penalised marginal likelihood for w(p, q) = g(p)·h_b(p)(q), log g a spline (Efron's g-modelling).

    ``lik`` has shape (S, P, Q) (scaled per row), as an array or as its factors
    (:class:`FactoredLikelihood`: the same fit in matrix products, without (S, P, Q) temporaries),
    ``mult`` counts each row, ``bands`` maps each p to
    its band and ``band_weights`` (B, Q) holds each band's profile weights; log g is ``base`` plus the
    spline. Alternates a Newton fit of the spline coefficients (penalty·‖coef‖²) with an EM step for
    every band's profile weights. Returns the coefficients and the band weights.

    >>> p = np.linspace(0.0, 1.0, 11)
    >>> lik = np.ones((1, 11, 2))
    >>> coef, h = fit_banded_prior(lik, np.ones(1), spline_basis(p, 6), 1.0, 2, np.zeros(8),
    ...                            np.full((1, 2), 0.5), np.zeros(11, dtype=np.int64), np.zeros(11))
    >>> h.round(3).tolist()
    [[0.5, 0.5]]
    """
    h = band_weights.copy()
    if isinstance(lik, FactoredLikelihood):
        by_p, by_q = lik.by_p, lik.by_q
        for _ in range(iterations):
            h_p = h[bands]  # (P, Q)
            lik_p = by_p * (by_q @ h_p.T)  # Σ_q lik[s, p, q]·h(q | p)
            coef = _newton_spline(lik_p, mult, basis, penalty, coef, base)
            g = spline_density(basis, coef, base)
            norm = np.maximum(lik_p @ g, 1e-300)
            # Expected items at each (p, q): g(p)·h(q | p)·Σ_s m_s/norm_s·by_p[s, p]·by_q[s, q].
            expected = (g[:, None] * h_p) * ((by_p * (mult / norm)[:, None]).T @ by_q)
            h = band_profile_weights(expected, bands)
        return coef, h
    for _ in range(iterations):
        coef = _newton_spline(np.einsum("spq,pq->sp", lik, h[bands]), mult, basis, penalty, coef, base)
        g = spline_density(basis, coef, base)
        joint = lik * g[None, :, None] * h[bands][None, :, :]
        norm = np.maximum(joint.sum(axis=(1, 2)), 1e-300)
        expected = np.einsum("spq,s->pq", joint, mult / norm)  # expected items at each (p, q)
        h = band_profile_weights(expected, bands)
    return coef, h
