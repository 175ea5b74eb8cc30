"""Predicting Vote accuracy at large K from a few samples per item: the shrinkage predictor.

The exact vote formula is the law; what must be estimated is each item's answer distribution. Each
item's posterior under the prior fitted across items (:mod:`callscale.scaling.prior`) is pushed
through the exact vote formula (abstains by exact beta-binomial thinning) and averaged. Bands come
from refitting the prior on items resampled with replacement and drawing each item's distribution
from its posterior (:func:`vote_curve_draws`); :func:`predict_vote_curve` summarises them.

Example:
    >>> counts = [ItemCounts(4, (1,)), ItemCounts(2, (3,)), ItemCounts(5, ()), ItemCounts(1, (2, 2))] * 10
    >>> draws = vote_curve_draws(counts, [1, 3, 9], n_boot=10)
    >>> draws.replicates.shape, draws.summary(0.8).k_star in (1, 3, 9)
    ((10, 3), True)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from callscale.executors.local import Mapper, available_cpus, one_blas_thread
from callscale.scaling.density import FactoredLikelihood
from callscale.scaling.estimate import ItemCounts
from callscale.scaling.grid import posterior, signature_table
from callscale.scaling.prior import AnswerPrior, PriorRefit, fit_answer_prior, mapper_for

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "CurveDraws",
    "CurvePrediction",
    "predict_vote_curve",
    "thinning_matrix",
    "vote_curve_draws",
]


@dataclass(frozen=True)
class CurvePrediction:
    """A predicted accuracy curve with a pointwise band and the best K with its band.

    >>> p = CurvePrediction(np.array([1, 3]), np.array([0.6, 0.7]), np.array([0.5, 0.6]),
    ...                     np.array([0.7, 0.8]), 3, 3, 3)
    >>> p.at(3)
    0.7
    """

    k: IntArray
    mean: FloatArray
    lo: FloatArray
    hi: FloatArray
    k_star: int
    k_star_lo: int
    k_star_hi: int
    level: float = 0.9

    def at(self, k: int) -> float:
        """Predicted mean accuracy at one of the predicted K."""
        idx = np.flatnonzero(self.k == k)
        if idx.size == 0:
            raise KeyError(k)
        return float(self.mean[idx[0]])


def _candidate_index(ks: IntArray, candidates: ArrayLike | None) -> IntArray:
    """Positions in ``ks`` of the K the best K is chosen among (default: all)."""
    cand = ks if candidates is None else np.atleast_1d(np.asarray(candidates)).astype(np.int64)
    idx = np.flatnonzero(np.isin(ks, cand))
    if idx.size == 0:
        raise ValueError("k_star_candidates must be among k")
    return idx


@dataclass(frozen=True)
class CurveDraws:
    """The posterior-mean curve at ``k`` and its bootstrap ``replicates`` (n_boot × len(k); none: no band).

    >>> d = CurveDraws(np.array([1, 3]), np.array([0.6, 0.7]), np.array([[0.5, 0.6], [0.7, 0.65]]))
    >>> s = d.summary(0.5)
    >>> s.k_star, (s.k_star_lo, s.k_star_hi)
    (3, (1, 3))
    """

    k: IntArray
    mean: FloatArray
    replicates: FloatArray

    def summary(self, level: float = 0.9, k_star_candidates: ArrayLike | None = None) -> CurvePrediction:
        """The band at ``level`` and the best K (argmax over ``k_star_candidates``, default all of ``k``)
        with its band over the replicates."""
        ks, mean = self.k, self.mean
        cand_idx = _candidate_index(ks, k_star_candidates)
        k_star = int(ks[cand_idx[np.argmax(mean[cand_idx])]])
        if self.replicates.shape[0] == 0:
            return CurvePrediction(ks, mean, mean.copy(), mean.copy(), k_star, k_star, k_star, level)
        stars = ks[cand_idx[np.argmax(self.replicates[:, cand_idx], axis=1)]]
        tail = (1.0 - level) / 2.0
        lo, hi = np.quantile(self.replicates, [tail, 1.0 - tail], axis=0)
        k_lo, k_hi = np.quantile(stars, [tail, 1.0 - tail], method="inverted_cdf")
        return CurvePrediction(ks, mean, np.asarray(lo), np.asarray(hi), k_star, int(k_lo), int(k_hi), level)


def thinning_matrix(ks: IntArray, a: float, b: float) -> FloatArray:
    """T[i, j] = P(j of ks[i] samples vote) when the abstain rate is Beta(a, b); shape (len(ks), max(ks) + 1).

    a = 0 means nobody abstains, b = 0 that everybody does.

    >>> thinning_matrix(np.array([2]), 1.0, 1.0).round(4).tolist()  # abstain rate uniform on [0, 1]
    [[0.3333, 0.3333, 0.3333]]
    """
    kmax = int(ks.max())
    mats = np.zeros((ks.size, kmax + 1))
    if a == 0.0:
        mats[np.arange(ks.size), ks] = 1.0
    elif b == 0.0:
        mats[:, 0] = 1.0
    else:  # every K at once: the pmf is elementwise
        j = np.arange(kmax + 1)[None, :]
        k = ks[:, None]
        valid = j <= k
        trials = np.broadcast_to(k, valid.shape)[valid]
        mats[valid] = stats.betabinom.pmf(np.broadcast_to(k - j, valid.shape)[valid], trials, a, b)
    return mats


def _thinning(prior: AnswerPrior, counts: Sequence[ItemCounts], ks: IntArray) -> tuple[FloatArray, IntArray]:
    """Exact abstain thinning matrices per abstain group: T[g, i, j] = P(j voting answers among K = ks[i])."""
    groups: dict[tuple[int, int], int] = {}
    group_of = np.array([groups.setdefault((c.abstain, c.n), len(groups)) for c in counts], dtype=np.int64)
    mats = np.zeros((len(groups), ks.size, int(ks.max()) + 1))
    for (m_a, n), g in groups.items():
        if prior.abstain_a == 0.0 or prior.abstain_b == 0.0:  # nobody, or everybody, abstains whatever the item
            mats[g] = thinning_matrix(ks, prior.abstain_a, prior.abstain_b)
        else:  # the item's own abstains update the prior
            mats[g] = thinning_matrix(ks, prior.abstain_a + m_a, prior.abstain_b + n - m_a)
    return mats, group_of


@dataclass(frozen=True)
class _VoteModel:
    """Every grid point's curve at K = 0..max(ks), the abstain thinning of each group, and the items by
    signature. ``thinned`` (every grid point's thinned curve at ``ks``, per group) is formed only when
    bootstrap replicates need it: the point curve contracts the items first."""

    sigs: list[ItemCounts]
    mult: FloatArray
    group_of: IntArray
    curves: FloatArray  # (G, max(ks) + 1)
    mats: FloatArray  # (groups, len(ks), max(ks) + 1)
    loglik: FloatArray  # (signatures, G)

    @classmethod
    def of(cls, prior: AnswerPrior, counts: Sequence[ItemCounts], ks: IntArray) -> _VoteModel:
        curves = np.concatenate(
            [np.zeros((prior.weights.size, 1)), prior.grid_curves(int(ks.max()))], axis=1
        )  # K = 0..kmax
        sigs, inverse = signature_table(counts)
        mult = np.bincount(inverse, minlength=len(sigs)).astype(float)
        mats, group_of = _thinning(prior, sigs, ks)  # per abstain group: P(j voting answers | K)
        return cls(sigs, mult, group_of, curves, mats, prior.log_likelihood(sigs))

    @functools.cached_property
    def thinned(self) -> FloatArray:
        """(groups, G, len(ks)): each grid point's curve thinned for each abstain group, by BLAS."""
        return np.asarray(np.matmul(self.curves[None, :, :], self.mats.transpose(0, 2, 1)), dtype=float)

    def curve(self, per_sig: FloatArray) -> FloatArray:
        """The task's curve when signature s puts mass ``per_sig[s, g]`` on grid point g."""
        if self.mats.shape[0] == 1:  # one abstain group: its rows summed in order, as np.add.at would
            by_group = np.add.reduce(per_sig, axis=0, keepdims=True)
        else:
            by_group = np.zeros((self.mats.shape[0], per_sig.shape[1]))
            np.add.at(by_group, self.group_of, per_sig)
        mixed = by_group @ self.curves  # (groups, K = 0..kmax): each group's mixture of curves
        return np.asarray(np.einsum("gj,gij->i", mixed, self.mats) / self.mult.sum(), dtype=float)

    def picked_curve(self, picks: IntArray) -> FloatArray:
        """:meth:`curve` for whole draws: ``picks[s, g]`` of signature s's items drawn at grid point g
        (at most one entry per item is non-zero, so only those rows of the curves are read)."""
        rows, points = np.nonzero(picks)
        counts = picks[rows, points].astype(float)
        return np.asarray(counts @ self.thinned[self.group_of[rows], points] / self.mult.sum(), dtype=float)


def _bootstrap(
    model: _VoteModel,
    prior: AnswerPrior,
    n_boot: int,
    seed: int,
    boot_iterations: int,
    penalty_range: tuple[float, float] | None,
    mapper: Mapper | None = None,
) -> FloatArray:
    """``n_boot`` replicate curves: items resampled, the prior refitted on them (its penalty drawn
    log-uniformly from ``penalty_range`` unless ``None``), each item's distribution drawn from its posterior.

    Each replicate has its own stream (spawned from ``seed``) and they are fanned out by ``mapper``
    (default: local processes when the work is large): the same replicates whatever runs them. Only
    tiny problems, whose likelihood is kept as one dense array (:data:`~callscale.scaling.prior.DENSE_MAX`),
    share one random stream and run in turn here."""
    refit = PriorRefit.of(prior, model.sigs)
    if not isinstance(refit.lik, FactoredLikelihood):
        return _sequential_replicates(model, refit, n_boot, seed, boot_iterations, penalty_range)
    job = _Replicates(refit, model.mult, model.group_of, model.thinned, seed, boot_iterations, penalty_range)
    run = mapper_for(mapper, len(model.sigs) * prior.weights.size * n_boot)
    # A few pieces per CPU: they balance better than one each, and carry the shared state fewer times than one a replicate.
    chunks = np.array_split(np.arange(n_boot), min(n_boot, 4 * available_cpus()))
    return np.concatenate(run(job, [c.tolist() for c in chunks if c.size]), axis=0)


def _sequential_replicates(
    model: _VoteModel,
    refit: PriorRefit,
    n_boot: int,
    seed: int,
    boot_iterations: int,
    penalty_range: tuple[float, float] | None,
) -> FloatArray:
    """The replicates of :func:`_bootstrap` drawn in turn from one stream."""
    prior = refit.prior
    rng = np.random.default_rng(seed)
    mult = model.mult
    mult_int = mult.astype(np.int64)
    reps = np.empty((n_boot, model.thinned.shape[2]))
    for b in range(n_boot):
        draw = rng.multinomial(int(mult.sum()), mult / mult.sum()).astype(float)
        penalty = prior.penalty
        if refit.spline and penalty_range is not None:
            penalty = float(np.exp(rng.uniform(np.log(penalty_range[0]), np.log(penalty_range[1]))))
        w_b = refit.weights(draw, penalty, boot_iterations)
        post_b = posterior(model.loglik, w_b / w_b.sum())
        picks = rng.multinomial(mult_int, post_b)  # each item's distribution drawn from its posterior
        reps[b] = model.picked_curve(picks)
    return reps


@dataclass(frozen=True)
class _Replicates:
    """Bootstrap replicates with a stream each (spawned from ``seed``), for many distinct items: the
    refit and the draws from the posteriors work on the likelihood's two factors, never on the
    (items × grid points) arrays. A call computes the replicates whose numbers it is given."""

    refit: PriorRefit
    mult: FloatArray
    group_of: IntArray
    thinned: FloatArray  # (groups, G, len(ks))
    seed: int
    iterations: int
    penalty_range: tuple[float, float] | None

    def __call__(self, which: Sequence[int]) -> FloatArray:
        return np.stack([self.one(b) for b in which]).reshape(len(which), self.thinned.shape[2])

    def one(self, b: int) -> FloatArray:
        """Replicate ``b``."""
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(b,)))
        refit, mult = self.refit, self.mult
        total = int(mult.sum())
        draw = rng.multinomial(total, mult / mult.sum()).astype(float)
        penalty = refit.prior.penalty
        if refit.spline and self.penalty_range is not None:
            lo, hi = self.penalty_range
            penalty = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        w_b = refit.weights(draw, penalty, self.iterations)
        grid_points = self._draw_points(rng, (w_b / w_b.sum()).reshape(refit.prior.weights.shape))
        owners = np.repeat(np.arange(mult.size), mult.astype(np.int64))
        return np.asarray(self.thinned[self.group_of[owners], grid_points].sum(axis=0) / total, dtype=float)

    def _draw_points(self, rng: np.random.Generator, weights: FloatArray) -> IntArray:
        """A grid point for every item (distinct items repeated by their counts) drawn from its
        posterior under ``weights`` (P, Q): p from its marginal, then the profile given p."""
        lik = self.refit.lik
        assert isinstance(lik, FactoredLikelihood)
        n_q = weights.shape[1]
        counts = self.mult.astype(np.int64)
        owners = np.repeat(np.arange(counts.size), counts)
        marginal = lik.by_p * (lik.by_q @ weights.T)  # (S, P): Σ_q lik·w
        bad = ~(marginal.sum(axis=1) > 0)  # no grid point explains the counts under these weights (or underflow)
        if bad.any():
            marginal[bad] = self._log_space_marginal(np.flatnonzero(bad), weights)
        cum_p = np.cumsum(marginal, axis=1)[owners]
        u = rng.random((owners.size, 2))
        p_idx = np.minimum((cum_p < u[:, :1] * cum_p[:, -1:]).sum(axis=1), weights.shape[0] - 1)
        given_p = lik.by_q[owners] * weights[p_idx]  # (N, Q)
        given_p[~(given_p.sum(axis=1) > 0)] = 1.0
        cum_q = np.cumsum(given_p, axis=1)
        q_idx = np.minimum((cum_q < u[:, 1:] * cum_q[:, -1:]).sum(axis=1), n_q - 1)
        return np.asarray(p_idx * n_q + q_idx, dtype=np.int64)

    def _log_space_marginal(self, rows: IntArray, weights: FloatArray) -> FloatArray:
        """The posterior's marginal over p for some items, from the full log-likelihood (uniform where
        no grid point can produce their counts, as :func:`posterior` has it)."""
        prior = self.refit.prior
        sigs = [self.refit.sigs[i] for i in rows]
        post = posterior(prior.log_likelihood(sigs), weights.ravel())
        return np.asarray(post.reshape(rows.size, *weights.shape).sum(axis=2), dtype=float)


def vote_curve_draws(
    counts: Sequence[ItemCounts],
    k: ArrayLike,
    *,
    prior: AnswerPrior | None = None,
    n_boot: int = 100,
    seed: int = 0,
    boot_iterations: int = 6,
    penalty_range: tuple[float, float] | None = (0.01, 1.0),
    mapper: Mapper | None = None,
) -> CurveDraws:
    """The predicted Vote curve at each K (≤ 1001) and ``n_boot`` bootstrap replicates of it (see
    :func:`predict_vote_curve` for the method; :meth:`CurveDraws.summary` gives bands and the best K at
    any level and among any candidates without drawing again). ``mapper`` runs the independent fits
    (the penalty's cross-validation when no ``prior`` is given, the bootstrap replicates when there
    are many distinct items; see :func:`_bootstrap`): by default local processes when the work is
    large, or e.g. :func:`callscale.executors.ray.ray_map`; the draws never depend on it.

    >>> draws = vote_curve_draws([ItemCounts(3, (2,)), ItemCounts(1, (4,))] * 10, [1, 5], n_boot=0)
    >>> draws.replicates.shape
    (0, 2)
    """
    ks = np.atleast_1d(np.asarray(k)).astype(np.int64)
    if np.any(ks < 1):
        raise ValueError("K must be ≥ 1")
    if not counts:
        raise ValueError("no items")
    with one_blas_thread():
        fitted = prior if prior is not None else fit_answer_prior(counts, mapper=mapper)
        model = _VoteModel.of(fitted, counts, ks)
        mean = model.curve(posterior(model.loglik, fitted.weights.ravel()) * model.mult[:, None])
        if n_boot <= 0:
            return CurveDraws(ks, mean, np.empty((0, ks.size)))
        return CurveDraws(ks, mean, _bootstrap(model, fitted, n_boot, seed, boot_iterations, penalty_range, mapper))


def predict_vote_curve(
    counts: Sequence[ItemCounts],
    k: ArrayLike,
    *,
    prior: AnswerPrior | None = None,
    n_boot: int = 100,
    level: float = 0.9,
    seed: int = 0,
    k_star_candidates: ArrayLike | None = None,
    boot_iterations: int = 6,
    penalty_range: tuple[float, float] | None = (0.01, 1.0),
    mapper: Mapper | None = None,
) -> CurvePrediction:
    """Predict the task's Vote accuracy at each K (≤ 1001; exact vote formula to 150, see
    :func:`~callscale.scaling.grid.extend_curves` beyond) from a few samples per item.

    ``counts`` are the items' answer counts in the samples available (e.g. the first 5 of each pool);
    the prior is fitted on them unless given. Each item's posterior over answer distributions is pushed
    through the exact vote formula (abstains by exact beta-binomial thinning) and the results averaged.
    The band at ``level`` and the K* band come from refitting the prior on items resampled with
    replacement (warm-started, ``boot_iterations`` alternations) and drawing every item's distribution
    from its posterior under the refitted prior. Because extrapolation beyond the sampled K depends on
    how smooth the prior is assumed to be — which few samples cannot settle — each replicate also draws
    its smoothing penalty log-uniformly from ``penalty_range`` (default: the span of
    ``PENALTY_CANDIDATES`` and a factor 3 below; ``None`` keeps the fitted one). K* is
    the argmax over ``k_star_candidates`` (default: all of ``k``). ``mapper``: see
    :func:`vote_curve_draws`.

    >>> counts = [ItemCounts(4, (1,)), ItemCounts(2, (3,)), ItemCounts(5, ()), ItemCounts(1, (2, 2))] * 10
    >>> pred = predict_vote_curve(counts, [1, 3, 9], n_boot=20)
    >>> bool(abs(pred.mean[0] - np.mean([c.correct / c.n for c in counts])) < 0.05)
    True
    """
    ks = np.atleast_1d(np.asarray(k)).astype(np.int64)
    _candidate_index(ks, k_star_candidates)  # a bad candidate list fails before any work
    draws = vote_curve_draws(counts, ks, prior=prior, n_boot=n_boot, seed=seed, boot_iterations=boot_iterations,
                             penalty_range=penalty_range, mapper=mapper)
    return draws.summary(level, k_star_candidates)
