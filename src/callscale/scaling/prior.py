"""The prior over item answer distributions, fitted across items (the shrinkage predictor's estimate).

The prior over the (p, profile) grid (:mod:`callscale.scaling.grid`) is a smooth density over p (a
log-spline with point masses at 0 and 1, Efron's g-modelling) times weights over wrong-answer profiles
that differ between bands of p (``PROFILE_BANDS``: how an item errs depends on how often it is right),
fitted across items by penalised marginal likelihood, so every item is shrunk toward what the other
items say; the density is smoothed toward a beta law fitted to the correct counts
(:func:`~callscale.scaling.density.fit_base_law`), how hard is chosen by cross-validation over items
(:func:`select_penalty`); abstaining gets a beta prior fitted by beta-binomial likelihood.

Example:
    >>> prior = fit_answer_prior([ItemCounts(4, (1,)), ItemCounts(1, (3, 1))] * 20)
    >>> bool(abs(prior.weights.sum() - 1.0) < 1e-9), prior.penalty in PENALTY_CANDIDATES
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from callscale.executors.local import Mapper, local_map, one_blas_thread, serial_map
from callscale.scaling.density import (
    FactoredLikelihood,
    band_of,
    band_profile_weights,
    base_law_of,
    base_log_density,
    fit_abstain_prior,
    fit_banded_prior,
    fit_base_law,
    spline_basis,
    spline_density,
)
from callscale.scaling.estimate import ItemCounts
from callscale.scaling.grid import (
    DEFAULT_P_GRID,
    grid_curves,
    log_likelihood,
    log_likelihood_parts,
    posterior,
    repeated_wrong,
    signature_table,
    wrong_profiles,
)

FloatArray = NDArray[np.float64]

__all__ = [
    "DENSE_MAX",
    "FALLBACK_PENALTY",
    "PARALLEL_MIN_WORK",
    "PENALTY_CANDIDATES",
    "PROFILE_BANDS",
    "AnswerPrior",
    "PriorRefit",
    "fit_answer_prior",
    "mapper_for",
    "select_penalty",
]

PROFILE_BANDS = (0.05, 0.15, 0.35)
"""Edges of the bands of p whose items share profile weights. An item right 30 % of the time errs
differently from one that is almost never right: with one set of weights for all p, the few items that
are sometimes right inherit the scattered errors of the many that never are, and their vote gain is
overstated. The bands are finest where p meets the share of the top wrong answer."""

PENALTY_CANDIDATES = (1.0, 0.3, 0.1, 0.03)
"""Smoothing penalties :func:`select_penalty` chooses among (a larger penalty, a smoother density over p)."""
FALLBACK_PENALTY = 0.03
"""The penalty used when there are too few items to cross-validate."""
DENSE_MAX = 1 << 16
"""Largest distinct items × grid points for which the weights are fitted on the whole likelihood array,
summed as it always was; larger fits contract its two factors by matrix products instead
(:class:`~callscale.scaling.density.FactoredLikelihood`: the same fit to rounding, much faster, and
without arrays of that size)."""

PARALLEL_MIN_WORK = 2e7
"""Distinct items × grid points × fits from which independent fits (cross-validation folds, bootstrap
replicates) are fanned out over local processes by default; below, the pool costs more than it saves."""

Likelihood = FloatArray | FactoredLikelihood
def mapper_for(mapper: Mapper | None, work: float) -> Mapper:
    """The given mapper, or by default local processes when ``work`` (items × grid points × fits)
    reaches ``PARALLEL_MIN_WORK`` and this process otherwise.

    >>> mapper_for(None, 1.0) is serial_map, mapper_for(None, 1e12) is local_map
    (True, True)
    """
    if mapper is not None:
        return mapper
    return local_map if work >= PARALLEL_MIN_WORK else serial_map


@dataclass(frozen=True)
class AnswerPrior:
    """Prior over item answer distributions, fitted across items.

    The distribution of non-abstaining answers is a grid point (p, profile): the correct answer has
    probability p, the wrong mass 1 − p is split by one of ``profiles`` (rows: shares of wrong answers
    1..J and the diffuse share). ``weights[i, j]`` is the prior mass of (p_grid[i], profiles[j]): a smooth
    density over p (log-spline coefficients ``coef`` added to the log of the Beta ``base_law`` it is
    shrunk toward; ``None``: toward a flat density) times profile weights shared by the p in one band
    (``band_edges`` cut [0, 1] into bands; no edges, one set of weights for every p). The abstain rate
    has a Beta(abstain_a, abstain_b) prior (abstain_a = 0 means no item abstains).
    """

    p_grid: FloatArray
    profiles: FloatArray
    weights: FloatArray
    abstain_a: float
    abstain_b: float
    coef: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    df: int = 12
    penalty: float = 0.03
    band_edges: tuple[float, ...] = ()
    base_law: tuple[float, float] | None = None

    @property
    def n_explicit(self) -> int:
        """Number of explicit (repeatable) wrong answers in the profiles."""
        return int(self.profiles.shape[1] - 1)

    def grid_distributions(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(p_correct (G,), p_wrong (G, J), p_diffuse (G,)) of the grid points, flattened p-major.

        >>> prior = fit_answer_prior([ItemCounts(2, (1,))], p_grid=[0.5, 1.0], profiles=[[1.0, 0.0]])
        >>> [w.tolist() for w in prior.grid_distributions()]
        [[0.5, 1.0], [[0.5], [0.0]], [0.0, 0.0]]
        """
        n_prof = self.profiles.shape[0]
        p = np.repeat(self.p_grid, n_prof)
        shares = np.tile(self.profiles, (self.p_grid.size, 1))
        return p, (1.0 - p)[:, None] * shares[:, :-1], (1.0 - p) * shares[:, -1]

    def grid_curves(self, kmax: int) -> FloatArray:
        """Vote accuracy (no abstain) at K = 1..kmax for every grid point, shape (G, kmax).

        Exact up to K = 150; beyond, extended by :func:`~callscale.scaling.grid.extend_curves` (up to
        ``EXTEND_MAX``).
        """
        return grid_curves(self.p_grid, self.profiles, kmax)

    def log_likelihood(self, counts: Sequence[ItemCounts]) -> FloatArray:
        """log P(observed answers | grid point) per item, shape (items, G), up to per-item constants.

        Every repeated wrong answer needs an explicit answer in the profiles (a prior fitted on fewer
        samples per item may have too few); otherwise no grid point could have produced the counts.

        >>> prior = fit_answer_prior([ItemCounts(3, (2,))], profiles=[[1.0, 0.0]])
        >>> prior.log_likelihood([ItemCounts(1, (2, 2))])
        Traceback (most recent call last):
        ...
        ValueError: an item repeats 2 different wrong answers but the prior's profiles have 1; refit the prior on these counts
        """
        needed = repeated_wrong(counts)
        if needed > self.n_explicit:
            raise ValueError(
                f"an item repeats {needed} different wrong answers but the prior's profiles have "
                f"{self.n_explicit}; refit the prior on these counts"
            )
        return log_likelihood(counts, self.p_grid, self.profiles)

    def posterior(self, counts: Sequence[ItemCounts], weights: FloatArray | None = None) -> FloatArray:
        """Posterior over grid points for each item, shape (items, G).

        >>> prior = fit_answer_prior([ItemCounts(5, ()), ItemCounts(0, (5,))])
        >>> post = prior.posterior([ItemCounts(5, ())])
        >>> bool(post[0] @ prior.grid_distributions()[0] > 0.9)
        True
        """
        w = (self.weights if weights is None else weights).ravel()
        return posterior(self.log_likelihood(counts), w)


def _grid_and_profiles(
    counts: Sequence[ItemCounts], p_grid: ArrayLike | None, profiles: ArrayLike | None
) -> tuple[FloatArray, FloatArray]:
    """The p grid and wrong-answer profiles a prior for ``counts`` uses: the defaults unless given
    (:func:`wrong_profiles` with enough explicit wrong answers for the data)."""
    pg = DEFAULT_P_GRID if p_grid is None else np.asarray(p_grid, dtype=float)
    prof = wrong_profiles(max(5, repeated_wrong(counts))) if profiles is None else np.asarray(profiles, dtype=float)
    return pg, prof


def select_penalty(
    counts: Sequence[ItemCounts],
    candidates: Sequence[float] = PENALTY_CANDIDATES,
    *,
    folds: int = 5,
    seed: int = 0,
    p_grid: ArrayLike | None = None,
    profiles: ArrayLike | None = None,
    df: int = 12,
    iterations: int = 30,
    band_edges: Sequence[float] = PROFILE_BANDS,
    shrink_toward: str = "beta",
    mapper: Mapper | None = None,
) -> float:
    """The smoothing penalty whose prior best predicts held-out items (``folds``-fold cross-validation).

    Items are split at random into folds; for each candidate the prior is fitted on the other folds and
    scored by the marginal log-likelihood of the held-out items' answers; the best total wins (the
    first candidate on ties). How smooth the density over p must be is what five samples per item
    cannot settle from the fit alone; held-out items can. With fewer than two items per fold the
    answer is ``FALLBACK_PENALTY``. The folds × candidates fits are independent: ``mapper`` runs them
    (default :func:`mapper_for`: local processes when the work is large); the choice never depends on
    where they ran.

    >>> easy_hard = [ItemCounts(5, ())] * 20 + [ItemCounts(4, (1,))] * 20 + [ItemCounts(0, (5,))] * 20
    >>> select_penalty(easy_hard) in PENALTY_CANDIDATES
    True
    """
    if not candidates:
        raise ValueError("no candidate penalties")
    if len(counts) < 2 * folds:
        return FALLBACK_PENALTY
    pg, prof = _grid_and_profiles(counts, p_grid, profiles)
    edges = tuple(float(e) for e in band_edges)
    # Every fold's items are some of the same distinct counts: their likelihoods are computed once.
    sigs, inverse = signature_table(counts)
    by_p, by_q = log_likelihood_parts(sigs, pg, prof)
    lik = _likelihood(by_p, by_q)
    basis = spline_basis(pg, df)
    bands = band_of(pg, edges)
    order = np.random.default_rng(seed).permutation(len(counts))
    jobs: list[tuple[NDArray[np.int64], FloatArray, FloatArray, float]] = []
    held_out = []
    for fold in range(folds):
        held = np.zeros(len(counts), dtype=bool)
        held[order[fold::folds]] = True
        train, mult = _first_seen(inverse[~held], len(sigs))  # the training items' distinct counts, in order
        train_sigs = [sigs[i] for i in train]
        base = base_log_density(pg, fit_base_law(train_sigs, mult) if shrink_toward == "beta" else None)
        jobs += [(train, mult, base, float(penalty)) for penalty in candidates]
        held_out.append(np.unique(inverse[held], return_inverse=True))
    fits = _FoldFits(lik, basis, bands, iterations)
    run = mapper_for(mapper, lik_size(lik) * len(jobs))
    with one_blas_thread():
        weights = iter(run(fits, jobs))
    scores = np.zeros(len(candidates))
    for test, test_inverse in held_out:
        test_loglik = (by_p[test][:, :, None] + by_q[test][:, None, :]).reshape(test.size, -1)
        for i in range(len(candidates)):
            with np.errstate(divide="ignore"):
                log_w = np.log(next(weights).ravel())
            per_sig = special.logsumexp(test_loglik + log_w[None, :], axis=1)
            scores[i] += float(per_sig[test_inverse].sum())  # summed over the held-out items, in order
    return float(candidates[int(np.argmax(scores))])


@dataclass(frozen=True)
class _FoldFits:
    """Fits of the prior's weights on some of the distinct items (one cross-validation fold's training
    items with one candidate penalty a call)."""

    lik: Likelihood
    basis: FloatArray
    bands: NDArray[np.int64]
    iterations: int

    def __call__(self, job: tuple[NDArray[np.int64], FloatArray, FloatArray, float]) -> FloatArray:
        train, mult, base, penalty = job
        weights, _ = _fitted_weights(_rows(self.lik, train), mult, self.basis, self.bands, base, penalty,
                                     self.iterations, None)
        return weights


def lik_size(lik: Likelihood) -> int:
    """Items × grid points of a likelihood (dense or factored)."""
    n, n_p, n_q = lik.shape
    return int(n * n_p * n_q)


def _likelihood(by_p: FloatArray, by_q: FloatArray) -> Likelihood:
    """The items' likelihoods on the grid from their two log factors (:func:`log_likelihood_parts`),
    scaled per item: the whole (items, P, Q) array up to ``DENSE_MAX`` entries, beyond it the factors."""
    n, n_p, n_q = by_p.shape[0], by_p.shape[1], by_q.shape[1]
    if n * n_p * n_q > DENSE_MAX:
        return FactoredLikelihood.of(by_p, by_q)
    loglik = (by_p[:, :, None] + by_q[:, None, :]).reshape(n, -1)
    return np.asarray(np.exp(loglik - loglik.max(axis=1, keepdims=True)).reshape(n, n_p, n_q), dtype=float)


def _rows(lik: Likelihood, index: NDArray[np.int64]) -> Likelihood:
    """The likelihoods of some of the items."""
    return lik.rows(index) if isinstance(lik, FactoredLikelihood) else lik[index]


def _first_seen(inverse: NDArray[np.int64], n_sigs: int) -> tuple[NDArray[np.int64], FloatArray]:
    """The distinct values of ``inverse`` in order of first appearance, and how often each appears."""
    present, first = np.unique(inverse, return_index=True)
    ordered = present[np.argsort(first)]
    return ordered, np.bincount(inverse, minlength=n_sigs)[ordered].astype(float)


def _checked_edges(
    counts: Sequence[ItemCounts], pg: FloatArray, prof: FloatArray, band_edges: Sequence[float], shrink_toward: str
) -> tuple[float, ...]:
    """Validate a prior's inputs (one clear ``ValueError`` each); returns the band edges as floats."""
    if np.any(pg < 0) or np.any(pg > 1):
        raise ValueError("p_grid must lie in [0, 1]")
    if prof.ndim != 2 or np.any(prof < 0) or not np.allclose(prof.sum(axis=1), 1.0):
        raise ValueError("each profile is a row of non-negative shares summing to 1")
    needed = repeated_wrong(counts)
    if prof.shape[1] - 1 < needed:
        raise ValueError(f"profiles need at least {needed} explicit wrong answers for these counts")
    edges = tuple(float(e) for e in band_edges)
    if any(not 0.0 < e < 1.0 for e in edges) or list(edges) != sorted(set(edges)):
        raise ValueError("band_edges must be increasing and inside (0, 1)")
    if shrink_toward not in ("beta", "flat"):
        raise ValueError(f"shrink_toward must be 'beta' or 'flat', got {shrink_toward!r}")
    return edges


def fit_answer_prior(
    counts: Sequence[ItemCounts],
    *,
    p_grid: ArrayLike | None = None,
    profiles: ArrayLike | None = None,
    df: int = 12,
    penalty: float | None = None,
    iterations: int = 30,
    start: AnswerPrior | None = None,
    band_edges: Sequence[float] = PROFILE_BANDS,
    shrink_toward: str = "beta",
    mapper: Mapper | None = None,
) -> AnswerPrior:
    """Fit the prior over answer distributions across items by penalised marginal likelihood.

    The prior is a smooth density over p (log of a cubic spline with ``df`` degrees of freedom plus point
    masses at p = 0 and p = 1, ridge ``penalty`` on the coefficients, chosen by :func:`select_penalty`
    unless given) times weights over the wrong-answer ``profiles`` (default :func:`wrong_profiles`, with
    enough explicit wrong answers for the data), one set of weights per band of p cut at ``band_edges``
    (none: a product of the two). The penalty shrinks log g toward the Beta law of
    :func:`~callscale.scaling.density.fit_base_law` (``shrink_toward="beta"``) or toward a flat density
    (``"flat"``). ``start`` warm-starts the optimisation (used by the bootstrap). ``mapper`` runs the
    cross-validation's fits (see :func:`select_penalty`).

    >>> prior = fit_answer_prior([ItemCounts(4, (1,)), ItemCounts(1, (3, 1))] * 20)
    >>> bool(abs(prior.weights.sum() - 1.0) < 1e-9)
    True
    """
    if not counts:
        raise ValueError("no items")
    pg, prof = _grid_and_profiles(counts, p_grid, profiles)
    edges = _checked_edges(counts, pg, prof, band_edges, shrink_toward)
    with one_blas_thread():
        if penalty is None:
            penalty = select_penalty(
                counts, p_grid=pg, profiles=prof, df=df, iterations=iterations, band_edges=edges,
                shrink_toward=shrink_toward, mapper=mapper,
            )
        sigs, inverse = signature_table(counts)
        mult = np.bincount(inverse, minlength=len(sigs)).astype(float)
        law = fit_base_law(sigs, mult) if shrink_toward == "beta" else None
        lik = _likelihood(*log_likelihood_parts(sigs, pg, prof))
        basis = spline_basis(pg, df)
        weights, coef = _fitted_weights(
            lik, mult, basis, band_of(pg, edges), base_log_density(pg, law), penalty, iterations, start
        )
        a, b = fit_abstain_prior(counts) if start is None else (start.abstain_a, start.abstain_b)
    return AnswerPrior(pg, prof, weights, a, b, coef, df, penalty, edges, law)


def _fitted_weights(
    lik: Likelihood,
    mult: FloatArray,
    basis: FloatArray,
    bands: NDArray[np.int64],
    base: FloatArray,
    penalty: float,
    iterations: int,
    start: AnswerPrior | None,
) -> tuple[FloatArray, FloatArray]:
    """The prior weights (P, Q), normalised, and the spline coefficients fitted to items with these
    likelihoods counted ``mult`` times."""
    coef, h = _fit_weights(lik, mult, basis, penalty, iterations, start, bands, base)
    weights = spline_density(basis, coef, base)[:, None] * h[bands]
    return weights / weights.sum(), coef


def _fit_weights(
    lik: Likelihood,
    mult: FloatArray,
    basis: FloatArray,
    penalty: float,
    iterations: int,
    start: AnswerPrior | None,
    bands: NDArray[np.int64],
    base: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """The spline coefficients and band profile weights: from ``start`` when it fits the grid, else
    from a flat start, one band first."""
    _, n_p, n_q = lik.shape
    if start is not None and start.coef.size == basis.shape[1] and start.weights.shape == (n_p, n_q):
        return fit_banded_prior(
            lik, mult, basis, penalty, iterations, start.coef, band_profile_weights(start.weights, bands), bands, base
        )
    one_band = np.zeros(n_p, dtype=np.int64)
    flat = np.full((1, n_q), 1.0 / n_q)
    coef, h = fit_banded_prior(lik, mult, basis, penalty, iterations, np.zeros(basis.shape[1]), flat, one_band, base)
    n_bands = int(bands.max()) + 1
    if n_bands > 1:
        # The bands start from the product fit: from flat profile weights the alternation stalls on a
        # worse optimum of the penalised likelihood (lower on every real and simulated pool checked).
        h = np.repeat(h, n_bands, axis=0)
        coef, h = fit_banded_prior(lik, mult, basis, penalty, iterations, coef, h, bands, base)
    return coef, h


@dataclass(frozen=True)
class PriorRefit:
    """Refits of a fitted prior's weights on reweighted items (the bootstrap), warm-started from it.

    ``sigs`` are the distinct counts and ``loglik`` their log-likelihoods under the prior's grid. A
    prior without spline coefficients for its grid (fitted elsewhere) is not refitted: its weights
    are returned as they are.

    >>> sigs = [ItemCounts(4, (1,)), ItemCounts(1, (3, 1))]
    >>> prior = fit_answer_prior(sigs * 20)
    >>> refit = PriorRefit.of(prior, sigs, prior.log_likelihood(sigs))
    >>> w = refit.weights(np.array([30.0, 10.0]), prior.penalty, 6)
    >>> w.shape == (prior.weights.size,) and refit.spline
    True
    """

    prior: AnswerPrior
    sigs: Sequence[ItemCounts]
    lik: Likelihood
    basis: FloatArray
    bands: NDArray[np.int64]
    band_weights: FloatArray
    correct: NDArray[np.int64]
    voting: NDArray[np.int64]

    @classmethod
    def of(cls, prior: AnswerPrior, sigs: Sequence[ItemCounts], loglik: FloatArray | None = None) -> PriorRefit:
        """The refit machinery of ``prior`` for the distinct items ``sigs`` (their likelihoods on the
        prior's grid are computed from them; ``loglik`` is not needed)."""
        bands = band_of(prior.p_grid, prior.band_edges)
        lik = _likelihood(*log_likelihood_parts(sigs, prior.p_grid, prior.profiles))
        correct = np.array([c.correct for c in sigs], dtype=np.int64)
        voting = correct + np.array([sum(c.wrong) for c in sigs], dtype=np.int64)
        return cls(prior, sigs, lik, spline_basis(prior.p_grid, prior.df), bands,
                   band_profile_weights(prior.weights, bands), correct, voting)

    @property
    def spline(self) -> bool:
        """Whether the prior carries spline coefficients for its grid (and so can be refitted)."""
        return bool(self.prior.coef.size == self.basis.shape[1])

    def weights(self, mult: FloatArray, penalty: float, iterations: int) -> FloatArray:
        """Flattened prior weights refitted on the items counted ``mult`` times with ``penalty``; the base
        law is part of the estimate, refitted on the reweighted items like the rest."""
        fitted = self.prior
        if not self.spline:
            return np.asarray(fitted.weights.ravel(), dtype=float)
        law = None if fitted.base_law is None else base_law_of(self.correct, self.voting, mult)
        base = base_log_density(fitted.p_grid, law)
        coef, h = fit_banded_prior(
            self.lik, mult, self.basis, penalty, iterations, fitted.coef, self.band_weights, self.bands, base
        )
        return np.asarray((spline_density(self.basis, coef, base)[:, None] * h[self.bands]).ravel(), dtype=float)
