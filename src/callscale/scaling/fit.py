"""Predicting Vote accuracy at large K from few samples: Chen et al.'s law and a shrinkage predictor.

* :func:`fit_chen_law` — the baseline of Chen et al.: per item, G(K) = 1 − exp(−a₁K − a₂√K − a₃) if the
  correct answer is the mode, else exp(−a₁K − a₂√K − a₃), with a₁, a₂ ≥ 0, fitted on accuracies at a few
  K and averaged over items.
* :func:`predict_vote_curve` — the exact vote formula is the law; what must be estimated is each item's
  answer distribution. The distribution of non-abstaining answers is modelled on a grid of (p, profile):
  the correct answer has probability p and the wrong mass 1 − p is split by a profile (shares of the
  wrong answers and of never-repeating answers, :func:`wrong_profiles`). The prior over the grid — a
  smooth density over p (a log-spline with point masses at 0 and 1, Efron's g-modelling) times weights
  over profiles that differ between bands of p (``PROFILE_BANDS``: how an item errs depends on how often
  it is right) — is fitted across items by penalised marginal likelihood, so every item is shrunk
  toward what the other items say; the density is smoothed toward a beta law fitted to the correct
  counts (:func:`fit_base_law`), how hard is chosen by cross-validation over items
  (:func:`select_penalty`); abstaining gets a beta prior fitted by beta-binomial likelihood.
  Each item's posterior is pushed through the exact vote formula (abstains by exact beta-binomial
  thinning) and averaged. Bands come from refitting the prior on items resampled with replacement and
  drawing each item's distribution from its posterior.
* :func:`fit_coverage_law` — Brown et al.'s coverage law log C(k) ≈ a·k^b.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats
from scipy.interpolate import BSpline

from callscale.scaling.estimate import ItemCounts, subset_vote_curves
from callscale.scaling.theory import DIRECT_MAX, vote_accuracy_grid

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

__all__ = [
    "BASE_CONCENTRATION",
    "FALLBACK_PENALTY",
    "PENALTY_CANDIDATES",
    "PROFILE_BANDS",
    "AnswerPrior",
    "ChenLawFit",
    "CoverageLaw",
    "CurvePrediction",
    "chen_law",
    "fit_answer_prior",
    "fit_base_law",
    "fit_chen_law",
    "fit_chen_law_pool",
    "fit_coverage_law",
    "predict_vote_curve",
    "select_penalty",
    "wrong_profiles",
]


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


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


_A3_BOUND = 40.0


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


# --------------------------------------------------------------------------------------------------
# Coverage law
# --------------------------------------------------------------------------------------------------


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
        raise ValueError("need at least two coverage values strictly between 0 and 1")
    ks, log_cov = ks[ok], np.log(cov[ok])
    slope, intercept = np.polyfit(np.log(ks), np.log(-log_cov), 1)

    def residual(x: FloatArray) -> FloatArray:
        return np.asarray(-np.exp(x[0]) * np.power(ks, x[1]) - log_cov, dtype=float)

    result = optimize.least_squares(residual, np.array([intercept, slope]))
    return CoverageLaw(float(-np.exp(result.x[0])), float(result.x[1]))


# --------------------------------------------------------------------------------------------------
# The shrinkage predictor
# --------------------------------------------------------------------------------------------------

DEFAULT_P_GRID = np.linspace(0.0, 1.0, 51)


def wrong_profiles(
    n_explicit: int = 5,
    ratios: Sequence[float] = (0.0, 0.25, 0.5, 0.75),
    flat: Sequence[int] = (2, 3),
    diffuse: Sequence[float] = (0.0, 0.2, 0.45, 0.7, 0.9),
) -> FloatArray:
    """Shapes of the wrong-answer mass: rows of (share of wrong answer 1..J, diffuse share).

    For each diffuse share δ the explicit wrong answers share 1 − δ either geometrically (∝ r^{j−1},
    j = 1..J, for each ratio r) or equally among the first m answers (for each m in ``flat``); a last row
    puts all wrong mass on never-repeating answers.

    >>> wrong_profiles(2, ratios=(0.0, 0.5), flat=(), diffuse=(0.0, 0.4)).round(3).tolist()
    [[1.0, 0.0, 0.0], [0.667, 0.333, 0.0], [0.6, 0.0, 0.4], [0.4, 0.2, 0.4], [0.0, 0.0, 1.0]]
    """
    j = np.arange(n_explicit)
    shapes = [np.power(float(r), j) if r > 0 else (j == 0).astype(float) for r in ratios]
    shapes += [(j < m).astype(float) for m in flat if 1 < m <= n_explicit]
    rows = [np.concatenate([(1.0 - d) * sh / sh.sum(), [d]]) for d in diffuse for sh in shapes]
    rows.append(np.concatenate([np.zeros(n_explicit), [1.0]]))
    return np.asarray(rows, dtype=float)


EXTEND_MAX = 1001
_EXTEND_FROM = 90
_GRID_CURVES: dict[bytes, FloatArray] = {}


def extend_curves(curves: FloatArray, kmax: int) -> FloatArray:
    """Extend exact vote curves (K = 1..k0, k0 ≥ 120) to K = 1..kmax by a probit law in √K.

    For large K the vote's error decays like a Gaussian tail in the margin, so Φ⁻¹(F(K)) is close to
    a + b·√K + c/√K; the three coefficients are fitted by least squares to each curve on K ≥ 90,
    separately for odd and even K (even K carry ties), and the law continues the curve. Checked against
    the exact Poissonised programme on the predictor's grid: median error ~1e-6, at most 0.002 at
    K = 301 and 0.015 at K = 1001 (tests/scaling/test_scaling_fit.py).

    >>> from callscale.scaling.theory import binary_vote_accuracy
    >>> exact = binary_vote_accuracy(np.array([[0.55]]), np.arange(1, 151)[None, :])
    >>> extended = extend_curves(exact, 401)
    >>> bool(abs(extended[0, 400] - binary_vote_accuracy(0.55, 401)) < 1e-3)
    True
    """
    k0 = curves.shape[1]
    if kmax <= k0:
        return curves[:, :kmax]
    if k0 < 120:
        raise ValueError(f"need exact curves up to at least K = 120 to extend them, got {k0}")
    out = np.empty((curves.shape[0], kmax))
    out[:, :k0] = curves
    ks = np.arange(1, k0 + 1, dtype=float)
    new = np.arange(k0 + 1, kmax + 1, dtype=float)
    for parity in (0, 1):
        fit = (ks >= _EXTEND_FROM) & (ks % 2 == parity)
        design = np.column_stack([np.ones(fit.sum()), np.sqrt(ks[fit]), 1.0 / np.sqrt(ks[fit])])
        probit = special.ndtri(np.clip(curves[:, fit], 1e-15, 1.0 - 1e-15))
        coef = np.linalg.lstsq(design, probit.T, rcond=None)[0]  # (3, G)
        target = new % 2 == parity
        ahead = np.column_stack([np.ones(target.sum()), np.sqrt(new[target]), 1.0 / np.sqrt(new[target])])
        last = curves[:, k0 - 1 if k0 % 2 == parity else k0 - 2][:, None]  # column i holds K = i + 1
        # Curves already within 1e-9 of 0 or 1 stay there (their probits sit on the clip and fit nothing).
        settled = np.minimum(last, 1.0 - last) < 1e-9
        out[:, k0:][:, target] = np.where(settled, last, special.ndtr(ahead @ coef).T)
    return out


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

        Exact up to K = 150; beyond, extended by :func:`extend_curves` (up to ``EXTEND_MAX``).
        """
        if kmax > EXTEND_MAX:
            raise ValueError(f"predictions reach K = {EXTEND_MAX} at most, got {kmax}")
        # The curves depend on the grid only, which refits and bootstrap replicates share.
        key = self.p_grid.tobytes() + b"|" + self.profiles.tobytes()
        curves = _GRID_CURVES.get(key)
        if curves is None or curves.shape[1] < kmax:
            exact = curves[:, :DIRECT_MAX] if curves is not None and curves.shape[1] >= DIRECT_MAX else \
                vote_accuracy_grid(self.p_grid, self.profiles, min(kmax, DIRECT_MAX))
            curves = extend_curves(exact, kmax) if kmax > DIRECT_MAX else exact
            curves.flags.writeable = False
            _GRID_CURVES[key] = curves
            while len(_GRID_CURVES) > 4:
                del _GRID_CURVES[next(iter(_GRID_CURVES))]
        return curves[:, :kmax]

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
        needed = _repeated_wrong(counts)
        if needed > self.n_explicit:
            raise ValueError(
                f"an item repeats {needed} different wrong answers but the prior's profiles have "
                f"{self.n_explicit}; refit the prior on these counts"
            )
        return _log_likelihood(counts, self.p_grid, self.profiles)

    def posterior(self, counts: Sequence[ItemCounts], weights: FloatArray | None = None) -> FloatArray:
        """Posterior over grid points for each item, shape (items, G).

        >>> prior = fit_answer_prior([ItemCounts(5, ()), ItemCounts(0, (5,))])
        >>> post = prior.posterior([ItemCounts(5, ())])
        >>> bool(post[0] @ prior.grid_distributions()[0] > 0.9)
        True
        """
        w = (self.weights if weights is None else weights).ravel()
        return _posterior(self.log_likelihood(counts), w)


@lru_cache(maxsize=8192)
def _partition_log_weight(wrong: tuple[int, ...], profiles: tuple[tuple[float, ...], ...]) -> FloatArray:
    """log Σ over injective assignments of the observed wrong clusters to wrong answers of Π share^{size}.

    Clusters of size one may also be diffuse answers. Dynamic programme over the set of explicit
    answers already used, vectorised over profiles.
    """
    shares = np.asarray(profiles, dtype=float)  # (Q, J+1)
    n_explicit = shares.shape[1] - 1
    n_masks = 1 << n_explicit
    dp = np.zeros((n_masks, shares.shape[0]))
    dp[0] = 1.0
    for size in wrong:
        new = np.zeros_like(dp)
        powered = shares[:, :n_explicit].T ** size  # (J, Q)
        for mask in range(n_masks):
            if not dp[mask].any():
                continue
            for j in range(n_explicit):
                if not mask >> j & 1:
                    new[mask | 1 << j] += dp[mask] * powered[j]
            if size == 1:
                new[mask] += dp[mask] * shares[:, n_explicit]
        dp = new
    with np.errstate(divide="ignore"):
        out = np.log(dp.sum(axis=0))
    out.flags.writeable = False
    return out


def _log_likelihood(counts: Sequence[ItemCounts], p_grid: FloatArray, profiles: FloatArray) -> FloatArray:
    key = tuple(tuple(float(x) for x in row) for row in profiles)
    correct = np.array([c.correct for c in counts], dtype=float)[:, None]
    n_wrong = np.array([sum(c.wrong) for c in counts], dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.where(correct > 0, correct * np.log(p_grid[None, :]), 0.0)
        log_q = np.where(n_wrong > 0, n_wrong * np.log1p(-p_grid[None, :]), 0.0)
    part = np.array([_partition_log_weight(c.wrong, key) for c in counts]).reshape(
        len(counts), -1
    )  # (items, Q)
    total = (log_p + log_q)[:, :, None] + part[:, None, :]
    return np.asarray(total.reshape(len(counts), -1), dtype=float)


def _posterior(loglik: FloatArray, weights: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        logpost = loglik + np.log(weights)[None, :]
    top = logpost.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    post = np.exp(logpost - top)
    norm = post.sum(axis=1, keepdims=True)
    return np.asarray(
        np.where(norm > 0, post / np.where(norm > 0, norm, 1.0), 1.0 / post.shape[1]), dtype=float
    )


def signature_table(counts: Sequence[ItemCounts]) -> tuple[list[ItemCounts], IntArray]:
    """The distinct counts, and for each item the index of its own among them.

    >>> signature_table([ItemCounts(1, (2,)), ItemCounts(3), ItemCounts(1, (2,))])[1].tolist()
    [0, 1, 0]
    """
    index: dict[ItemCounts, int] = {}
    inverse = np.empty(len(counts), dtype=np.int64)
    for i, c in enumerate(counts):
        inverse[i] = index.setdefault(c, len(index))
    return list(index), inverse


def _beta_binomial_fit(successes: IntArray, trials: IntArray, weights: FloatArray | None = None) -> tuple[float, float]:
    """(a, b) of the Beta law maximising the (weighted) beta-binomial likelihood of ``successes`` of ``trials``.

    Searched over the mean's logit and the log of a + b (clipped to [e⁻⁵, e¹⁰]); needs some successes
    and some failures.
    """
    w = np.ones(len(successes)) if weights is None else np.asarray(weights, dtype=float)
    # Items share few (successes, trials) pairs: sum their weights once (the binomial coefficient is a
    # constant of the likelihood and drops out).
    pairs, which = np.unique(np.column_stack([successes, trials]), axis=0, return_inverse=True)
    pair_w = np.bincount(which.ravel(), weights=w, minlength=len(pairs))
    k, n = pairs[:, 0].astype(float), pairs[:, 1].astype(float)

    def split(x: FloatArray) -> tuple[float, float]:
        mean = float(special.expit(x[0]))
        size = float(np.exp(np.clip(x[1], -5.0, 10.0)))
        return mean * size, (1.0 - mean) * size

    def neg(x: FloatArray) -> float:
        a, b = split(x)
        return -float(pair_w @ (special.betaln(k + a, n - k + b) - special.betaln(a, b)))

    rate = float(w @ successes) / float(w @ trials)
    result = optimize.minimize(neg, np.array([special.logit(rate), np.log(10.0)]), method="Nelder-Mead")
    return split(result.x)


def _fit_abstain_prior(counts: Sequence[ItemCounts]) -> tuple[float, float]:
    """Beta prior on the abstain rate by beta-binomial maximum likelihood."""
    m_a = np.array([c.abstain for c in counts])
    n = np.array([c.n for c in counts])
    if m_a.sum() == 0:
        return 0.0, 1.0
    if np.all(m_a == n):
        return 1.0, 0.0
    return _beta_binomial_fit(m_a, n)


BASE_CONCENTRATION = 2.0
"""The most concentrated base law the density over p is shrunk toward: a + b of Beta(a, b) at most 2."""


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
    w = np.ones(len(counts)) if weights is None else np.asarray(weights, dtype=float)
    keep = (voting > 0) & (w > 0)
    if not keep.any() or np.all(correct[keep] == 0) or np.all(correct[keep] == voting[keep]):
        return None
    a, b = _beta_binomial_fit(correct[keep], voting[keep], w[keep])
    scale = min(1.0, BASE_CONCENTRATION / (a + b))
    return a * scale, b * scale


def _base_log_density(p_grid: FloatArray, law: tuple[float, float] | None) -> FloatArray:
    """Log mass of Beta(a, b) on each grid point's cell (cells meet halfway between points); zeros for
    ``None`` (a flat density over the grid points)."""
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


def _spline_basis(p_grid: FloatArray, df: int) -> FloatArray:
    """Cubic B-splines with ``df`` columns on [0, 1], plus indicators of p = 0 and p = 1, centred."""
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


def _density(basis: FloatArray, coef: FloatArray, base: FloatArray) -> FloatArray:
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

    def value(a: FloatArray) -> float:
        mix = np.maximum(lik_p @ _density(basis, a, base), 1e-300)
        return -float(mult @ np.log(mix)) + penalty * float(a @ a)

    current = value(coef)
    for _ in range(max_iter):
        g = _density(basis, coef, base)
        mix = np.maximum(lik_p @ g, 1e-300)
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
            new = value(trial)
            if new <= current - 1e-4 * t * float(-grad @ step):
                break
            t *= 0.5
        else:
            break
        coef, improvement, current = trial, current - new, new
        if improvement < 1e-9 * max(1.0, abs(current)):
            break
    return coef


def _band_of(p_grid: FloatArray, band_edges: Sequence[float]) -> IntArray:
    """The band of each grid p (0 .. len(band_edges)); a band starts at its lower edge."""
    return np.asarray(np.digitize(p_grid, np.asarray(band_edges, dtype=float)), dtype=np.int64)


def _band_profile_weights(weights: FloatArray, band_of: IntArray) -> FloatArray:
    """Each band's profile weights (rows summing to 1) from (P, Q) prior weights or expected item counts;
    a band without mass gets uniform weights."""
    per_band = np.zeros((int(band_of.max()) + 1, weights.shape[1]))
    np.add.at(per_band, band_of, weights)
    totals = per_band.sum(axis=1, keepdims=True)
    uniform = np.full_like(per_band, 1.0 / weights.shape[1])
    return np.asarray(np.where(totals > 0, per_band / np.where(totals > 0, totals, 1.0), uniform), dtype=float)


def _fit_banded_prior(
    lik: FloatArray,
    mult: FloatArray,
    basis: FloatArray,
    penalty: float,
    iterations: int,
    coef: FloatArray,
    band_weights: FloatArray,
    band_of: IntArray,
    base: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Penalised marginal likelihood for w(p, q) = g(p)·h_b(p)(q), log g a spline (Efron's g-modelling).

    ``lik`` has shape (S, P, Q) (scaled per row), ``mult`` counts each row, ``band_of`` maps each p to
    its band and ``band_weights`` (B, Q) holds each band's profile weights; log g is ``base`` plus the
    spline. Alternates a Newton fit of the spline coefficients (penalty·‖coef‖²) with an EM step for
    every band's profile weights.
    """
    h = band_weights.copy()
    for _ in range(iterations):
        coef = _newton_spline(np.einsum("spq,pq->sp", lik, h[band_of]), mult, basis, penalty, coef, base)
        g = _density(basis, coef, base)
        joint = lik * g[None, :, None] * h[band_of][None, :, :]
        norm = np.maximum(joint.sum(axis=(1, 2)), 1e-300)
        expected = np.einsum("spq,s->pq", joint, mult / norm)  # expected items at each (p, q)
        h = _band_profile_weights(expected, band_of)
    return coef, h


PROFILE_BANDS = (0.05, 0.15, 0.35)
"""Edges of the bands of p whose items share profile weights. An item right 30 % of the time errs
differently from one that is almost never right: with one set of weights for all p, the few items that
are sometimes right inherit the scattered errors of the many that never are, and their vote gain is
overstated. The bands are finest where p meets the share of the top wrong answer."""

PENALTY_CANDIDATES = (1.0, 0.3, 0.1, 0.03)
"""Smoothing penalties :func:`select_penalty` chooses among (a larger penalty, a smoother density over p)."""
FALLBACK_PENALTY = 0.03
"""The penalty used when there are too few items to cross-validate."""


def _repeated_wrong(counts: Sequence[ItemCounts]) -> int:
    """The most different wrong answers any item repeats: each needs an explicit answer in the profiles."""
    return max((sum(1 for m in c.wrong if m > 1) for c in counts), default=0)


def _grid_and_profiles(
    counts: Sequence[ItemCounts], p_grid: ArrayLike | None, profiles: ArrayLike | None
) -> tuple[FloatArray, FloatArray]:
    """The p grid and wrong-answer profiles a prior for ``counts`` uses: the defaults unless given
    (:func:`wrong_profiles` with enough explicit wrong answers for the data)."""
    pg = DEFAULT_P_GRID if p_grid is None else np.asarray(p_grid, dtype=float)
    prof = wrong_profiles(max(5, _repeated_wrong(counts))) if profiles is None else np.asarray(profiles, dtype=float)
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
) -> float:
    """The smoothing penalty whose prior best predicts held-out items (``folds``-fold cross-validation).

    Items are split at random into folds; for each candidate the prior is fitted on the other folds and
    scored by the marginal log-likelihood of the held-out items' answers; the best total wins (the
    first candidate on ties). How smooth the density over p must be is what five samples per item
    cannot settle from the fit alone; held-out items can. With fewer than two items per fold the
    answer is ``FALLBACK_PENALTY``.

    >>> easy_hard = [ItemCounts(5, ())] * 20 + [ItemCounts(4, (1,))] * 20 + [ItemCounts(0, (5,))] * 20
    >>> select_penalty(easy_hard) in PENALTY_CANDIDATES
    True
    """
    if not candidates:
        raise ValueError("no candidate penalties")
    if len(counts) < 2 * folds:
        return FALLBACK_PENALTY
    pg, prof = _grid_and_profiles(counts, p_grid, profiles)
    order = np.random.default_rng(seed).permutation(len(counts))
    scores = np.zeros(len(candidates))
    for fold in range(folds):
        held = np.zeros(len(counts), dtype=bool)
        held[order[fold::folds]] = True
        train = [c for c, h in zip(counts, held, strict=True) if not h]
        test_loglik = _log_likelihood([c for c, h in zip(counts, held, strict=True) if h], pg, prof)
        for i, penalty in enumerate(candidates):
            prior = fit_answer_prior(
                train, p_grid=pg, profiles=prof, df=df, penalty=penalty, iterations=iterations,
                band_edges=band_edges, shrink_toward=shrink_toward,
            )
            with np.errstate(divide="ignore"):
                log_w = np.log(prior.weights.ravel())
            scores[i] += float(special.logsumexp(test_loglik + log_w[None, :], axis=1).sum())
    return float(candidates[int(np.argmax(scores))])


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
) -> AnswerPrior:
    """Fit the prior over answer distributions across items by penalised marginal likelihood.

    The prior is a smooth density over p (log of a cubic spline with ``df`` degrees of freedom plus point
    masses at p = 0 and p = 1, ridge ``penalty`` on the coefficients, chosen by :func:`select_penalty`
    unless given) times weights over the wrong-answer ``profiles`` (default :func:`wrong_profiles`, with
    enough explicit wrong answers for the data), one set of weights per band of p cut at ``band_edges``
    (none: a product of the two). The penalty shrinks log g toward the Beta law of
    :func:`fit_base_law` (``shrink_toward="beta"``) or toward a flat density (``"flat"``). ``start``
    warm-starts the optimisation (used by the bootstrap).

    >>> prior = fit_answer_prior([ItemCounts(4, (1,)), ItemCounts(1, (3, 1))] * 20)
    >>> bool(abs(prior.weights.sum() - 1.0) < 1e-9)
    True
    """
    if not counts:
        raise ValueError("no items")
    pg, prof = _grid_and_profiles(counts, p_grid, profiles)
    needed = _repeated_wrong(counts)
    if np.any(pg < 0) or np.any(pg > 1):
        raise ValueError("p_grid must lie in [0, 1]")
    if prof.ndim != 2 or np.any(prof < 0) or not np.allclose(prof.sum(axis=1), 1.0):
        raise ValueError("each profile is a row of non-negative shares summing to 1")
    if prof.shape[1] - 1 < needed:
        raise ValueError(f"profiles need at least {needed} explicit wrong answers for these counts")
    edges = tuple(float(e) for e in band_edges)
    if any(not 0.0 < e < 1.0 for e in edges) or list(edges) != sorted(set(edges)):
        raise ValueError("band_edges must be increasing and inside (0, 1)")
    if shrink_toward not in ("beta", "flat"):
        raise ValueError(f"shrink_toward must be 'beta' or 'flat', got {shrink_toward!r}")
    if penalty is None:
        penalty = select_penalty(
            counts, p_grid=pg, profiles=prof, df=df, iterations=iterations, band_edges=edges,
            shrink_toward=shrink_toward,
        )
    sigs, inverse = signature_table(counts)
    mult = np.bincount(inverse, minlength=len(sigs)).astype(float)
    law = fit_base_law(sigs, mult) if shrink_toward == "beta" else None
    base = _base_log_density(pg, law)
    loglik = _log_likelihood(sigs, pg, prof)
    lik = np.exp(loglik - loglik.max(axis=1, keepdims=True)).reshape(len(sigs), pg.size, prof.shape[0])
    basis = _spline_basis(pg, df)
    band_of = _band_of(pg, edges)
    n_bands = int(band_of.max()) + 1
    if (
        start is not None
        and start.coef.size == basis.shape[1]
        and start.weights.shape == (pg.size, prof.shape[0])
    ):
        coef, h = _fit_banded_prior(
            lik,
            mult,
            basis,
            penalty,
            iterations,
            start.coef,
            _band_profile_weights(start.weights, band_of),
            band_of,
            base,
        )
    else:
        one_band = np.zeros(pg.size, dtype=np.int64)
        flat = np.full((1, prof.shape[0]), 1.0 / prof.shape[0])
        coef, h = _fit_banded_prior(
            lik, mult, basis, penalty, iterations, np.zeros(basis.shape[1]), flat, one_band, base
        )
        if n_bands > 1:
            # The bands start from the product fit: from flat profile weights the alternation stalls on a
            # worse optimum of the penalised likelihood (lower on every real and simulated pool checked).
            h = np.repeat(h, n_bands, axis=0)
            coef, h = _fit_banded_prior(lik, mult, basis, penalty, iterations, coef, h, band_of, base)
    a, b = _fit_abstain_prior(counts) if start is None else (start.abstain_a, start.abstain_b)
    weights = _density(basis, coef, base)[:, None] * h[band_of]
    return AnswerPrior(pg, prof, weights / weights.sum(), a, b, coef, df, penalty, edges, law)


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
    else:
        j = np.arange(kmax + 1)
        for i, k in enumerate(ks):
            valid = j <= k
            mats[i, valid] = stats.betabinom.pmf(k - j[valid], k, a, b)
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
) -> CurvePrediction:
    """Predict the task's Vote accuracy at each K (≤ 1001; exact vote formula to 150, see
    :func:`extend_curves` beyond) from a few samples per item.

    ``counts`` are the items' answer counts in the samples available (e.g. the first 5 of each pool);
    the prior is fitted on them unless given. Each item's posterior over answer distributions is pushed
    through the exact vote formula (abstains by exact beta-binomial thinning) and the results averaged.
    The band at ``level`` and the K* band come from refitting the prior on items resampled with
    replacement (warm-started, ``boot_iterations`` alternations) and drawing every item's distribution
    from its posterior under the refitted prior. Because extrapolation beyond the sampled K depends on
    how smooth the prior is assumed to be — which few samples cannot settle — each replicate also draws
    its smoothing penalty log-uniformly from ``penalty_range`` (default: the span of
    ``PENALTY_CANDIDATES`` and a factor 3 below; ``None`` keeps the fitted one). K* is
    the argmax over ``k_star_candidates`` (default: all of ``k``).

    >>> counts = [ItemCounts(4, (1,)), ItemCounts(2, (3,)), ItemCounts(5, ()), ItemCounts(1, (2, 2))] * 10
    >>> pred = predict_vote_curve(counts, [1, 3, 9], n_boot=20)
    >>> bool(abs(pred.mean[0] - np.mean([c.correct / c.n for c in counts])) < 0.05)
    True
    """
    ks = np.atleast_1d(np.asarray(k)).astype(np.int64)
    if np.any(ks < 1):
        raise ValueError("K must be ≥ 1")
    if not counts:
        raise ValueError("no items")
    fitted = prior if prior is not None else fit_answer_prior(counts)
    kmax = int(ks.max())
    curves = np.concatenate(
        [np.zeros((fitted.weights.size, 1)), fitted.grid_curves(kmax)], axis=1
    )  # K = 0..kmax

    sigs, inverse = signature_table(counts)
    mult = np.bincount(inverse, minlength=len(sigs)).astype(float)
    mats, group_of = _thinning(fitted, sigs, ks)  # per abstain group: P(j voting answers | K)
    thinned = np.einsum("aij,gj->agi", mats, curves)  # (groups, G, len(ks))
    loglik = fitted.log_likelihood(sigs)

    def curve_of(group_mass: FloatArray) -> FloatArray:
        return np.asarray(np.einsum("ag,agk->k", group_mass, thinned) / mult.sum(), dtype=float)

    def by_group(per_sig: FloatArray) -> FloatArray:
        out = np.zeros((thinned.shape[0], per_sig.shape[1]))
        np.add.at(out, group_of, per_sig)
        return out

    post = _posterior(loglik, fitted.weights.ravel())
    mean = curve_of(by_group(post * mult[:, None]))

    cand = ks if k_star_candidates is None else np.atleast_1d(np.asarray(k_star_candidates)).astype(np.int64)
    cand_idx = np.flatnonzero(np.isin(ks, cand))
    if cand_idx.size == 0:
        raise ValueError("k_star_candidates must be among k")
    k_star = int(ks[cand_idx[np.argmax(mean[cand_idx])]])
    if n_boot <= 0:
        return CurvePrediction(ks, mean, mean.copy(), mean.copy(), k_star, k_star, k_star, level)

    rng = np.random.default_rng(seed)
    n_p, n_q = fitted.weights.shape
    lik = np.exp(loglik - loglik.max(axis=1, keepdims=True)).reshape(len(sigs), n_p, n_q)
    basis = _spline_basis(fitted.p_grid, fitted.df)
    use_spline = fitted.coef.size == basis.shape[1]
    band_of = _band_of(fitted.p_grid, fitted.band_edges)
    band_weights = _band_profile_weights(fitted.weights, band_of)
    reps = np.empty((n_boot, ks.size))
    stars = np.empty(n_boot, dtype=np.int64)
    mult_int = mult.astype(np.int64)
    for b in range(n_boot):
        draw = rng.multinomial(int(mult.sum()), mult / mult.sum()).astype(float)
        if use_spline:
            penalty = (
                fitted.penalty
                if penalty_range is None
                else float(np.exp(rng.uniform(np.log(penalty_range[0]), np.log(penalty_range[1]))))
            )
            # The base law is part of the estimate: refitted on the resampled items like the rest.
            base_b = _base_log_density(
                fitted.p_grid, None if fitted.base_law is None else fit_base_law(sigs, draw)
            )
            coef_b, h_b = _fit_banded_prior(
                lik, draw, basis, penalty, boot_iterations, fitted.coef, band_weights, band_of, base_b
            )
            w_b = (_density(basis, coef_b, base_b)[:, None] * h_b[band_of]).ravel()
        else:
            w_b = fitted.weights.ravel()
        post_b = _posterior(loglik, w_b / w_b.sum())
        picks = rng.multinomial(mult_int, post_b).astype(
            float
        )  # each item's distribution drawn from its posterior
        reps[b] = curve_of(by_group(picks))
        stars[b] = ks[cand_idx[np.argmax(reps[b, cand_idx])]]
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [tail, 1.0 - tail], axis=0)
    k_lo, k_hi = np.quantile(stars, [tail, 1.0 - tail], method="inverted_cdf")
    return CurvePrediction(ks, mean, np.asarray(lo), np.asarray(hi), k_star, int(k_lo), int(k_hi), level)
