"""The grid of answer distributions the shrinkage predictor works on.

A grid point (p, profile) is a distribution of non-abstaining answers: the correct answer has
probability p and the wrong mass 1 − p is split by a profile (shares of wrong answers 1..J and of
never-repeating answers, :func:`wrong_profiles`). Here: the likelihood of observed counts at every
grid point (:func:`log_likelihood`), posteriors over the grid (:func:`posterior`) and each point's
vote curve (:func:`grid_curves`: exact to K = 150, extended beyond by :func:`extend_curves`).

Example:
    >>> from callscale.scaling.estimate import ItemCounts
    >>> loglik = log_likelihood([ItemCounts(2, (1,))], np.array([0.5, 1.0]), np.array([[1.0, 0.0]]))
    >>> posterior(loglik, np.array([0.5, 0.5])).round(3).tolist()
    [[1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import special

from callscale.scaling.estimate import ItemCounts
from callscale.scaling.theory import DIRECT_MAX, vote_accuracy_grid

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "DEFAULT_P_GRID",
    "EXTEND_MAX",
    "extend_curves",
    "grid_curves",
    "log_likelihood",
    "log_likelihood_parts",
    "posterior",
    "repeated_wrong",
    "signature_table",
    "wrong_profiles",
]

DEFAULT_P_GRID = np.linspace(0.0, 1.0, 51)
"""The grid of probabilities of the correct answer."""

EXTEND_MAX = 1001
"""The largest K a grid curve reaches (exact to ``DIRECT_MAX``, extended beyond)."""

_EXTEND_FROM = 90
_GRID_CURVES: dict[bytes, FloatArray] = {}


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


def grid_curves(p_grid: FloatArray, profiles: FloatArray, kmax: int) -> FloatArray:
    """Vote accuracy (no abstain) at K = 1..kmax for every grid point, shape (G, kmax), p-major.

    Exact up to K = 150; beyond, extended by :func:`extend_curves` (up to ``EXTEND_MAX``). The curves
    depend on the grid only, which refits and bootstrap replicates share: the last few used are cached.

    >>> grid_curves(np.array([0.6, 0.3]), np.array([[1.0, 0.0]]), 3).round(4).tolist()
    [[0.6, 0.6, 0.648], [0.3, 0.3, 0.216]]
    """
    if kmax > EXTEND_MAX:
        raise ValueError(f"predictions reach K = {EXTEND_MAX} at most, got {kmax}")
    key = p_grid.tobytes() + b"|" + profiles.tobytes()
    curves = _GRID_CURVES.pop(key, None)  # put back last: the least recently used go first
    if curves is not None and curves.shape[1] >= kmax:
        _GRID_CURVES[key] = curves
    else:
        exact = curves[:, :DIRECT_MAX] if curves is not None and curves.shape[1] >= DIRECT_MAX else \
            vote_accuracy_grid(p_grid, profiles, min(kmax, DIRECT_MAX))
        curves = extend_curves(exact, kmax) if kmax > DIRECT_MAX else exact
        curves.flags.writeable = False
        _GRID_CURVES[key] = curves
        while len(_GRID_CURVES) > 4:
            del _GRID_CURVES[next(iter(_GRID_CURVES))]
    return curves[:, :kmax]


def repeated_wrong(counts: Sequence[ItemCounts]) -> int:
    """The most different wrong answers any item repeats: each needs an explicit answer in the profiles.

    >>> repeated_wrong([ItemCounts(1, (2, 2, 1)), ItemCounts(0, (3,))])
    2
    """
    return max((sum(1 for m in c.wrong if m > 1) for c in counts), default=0)


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


_PARTITION_CACHE: dict[tuple[tuple[int, ...], tuple[tuple[float, ...], ...]], FloatArray] = {}
_PARTITION_CACHE_MAX = 1 << 16


def _partition_step(dp: FloatArray, size: int, shares: FloatArray) -> FloatArray:
    """One more wrong cluster of ``size`` answers assigned: ``dp`` over the sets of explicit answers
    used (axis J − 1 − j tells whether answer j is) and profiles. Each set receives its terms explicit
    answers first, highest answer first, and the diffuse one last."""
    n_explicit = shares.shape[1] - 1
    new = np.zeros_like(dp)
    powered = shares[:, :n_explicit].T ** size  # (J, Q)
    for j in reversed(range(n_explicit)):
        axis = n_explicit - 1 - j
        new[(slice(None),) * axis + (1,)] += dp[(slice(None),) * axis + (0,)] * powered[j]
    if size == 1:
        new += dp * shares[:, n_explicit]
    return new


def _partition_log_weights(
    wrongs: Sequence[tuple[int, ...]], profiles: tuple[tuple[float, ...], ...]
) -> list[FloatArray]:
    """For each wrong-count tuple: log Σ over injective assignments of the observed wrong clusters to
    wrong answers of Π share^{size}, per profile (clusters of size one may also be diffuse answers).

    Dynamic programme over the set of explicit answers already used (:func:`_partition_step`). The
    tuples are walked in sorted order so that one shared with the previous is not computed again; the
    results are kept for later calls.
    """
    missing = sorted({w for w in wrongs if (w, profiles) not in _PARTITION_CACHE})
    if missing:
        shares = np.asarray(profiles, dtype=float)  # (Q, J+1)
        start = np.zeros((2,) * (shares.shape[1] - 1) + (shares.shape[0],))
        start[(0,) * (shares.shape[1] - 1)] = 1.0
        states = [start]  # states[i]: after the first i clusters of ``path``
        path: tuple[int, ...] = ()
        for w in missing:
            common = 0
            while common < min(len(path), len(w)) and path[common] == w[common]:
                common += 1
            del states[common + 1:]
            for size in w[common:]:
                states.append(_partition_step(states[-1], size, shares))
            path = w
            with np.errstate(divide="ignore"):
                out = np.log(states[-1].reshape(-1, shares.shape[0]).sum(axis=0))
            out.flags.writeable = False
            if len(_PARTITION_CACHE) >= _PARTITION_CACHE_MAX:
                del _PARTITION_CACHE[next(iter(_PARTITION_CACHE))]
            _PARTITION_CACHE[(w, profiles)] = out
    return [_PARTITION_CACHE[(w, profiles)] for w in wrongs]


def _partition_log_weight(wrong: tuple[int, ...], profiles: tuple[tuple[float, ...], ...]) -> FloatArray:
    """:func:`_partition_log_weights` of one tuple."""
    return _partition_log_weights([wrong], profiles)[0]


def log_likelihood_parts(
    counts: Sequence[ItemCounts], p_grid: FloatArray, profiles: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The two factors of :func:`log_likelihood`: per item, the part that depends on p only (items, P)
    and the part that depends on the profile only (items, Q); the log-likelihood of grid point
    (p_grid[i], profiles[j]) is their sum.

    >>> lp, lq = log_likelihood_parts([ItemCounts(1, (1,))], np.array([0.5]), np.array([[1.0, 0.0]]))
    >>> lp.round(4).tolist(), lq.tolist()
    ([[-1.3863]], [[0.0]])
    """
    key = tuple(tuple(float(x) for x in row) for row in profiles)
    correct = np.array([c.correct for c in counts], dtype=float)[:, None]
    n_wrong = np.array([sum(c.wrong) for c in counts], dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.where(correct > 0, correct * np.log(p_grid[None, :]), 0.0)
        log_q = np.where(n_wrong > 0, n_wrong * np.log1p(-p_grid[None, :]), 0.0)
    part = np.array(_partition_log_weights([c.wrong for c in counts], key)).reshape(len(counts), -1)  # (items, Q)
    return np.asarray(log_p + log_q, dtype=float), np.asarray(part, dtype=float)


def log_likelihood(counts: Sequence[ItemCounts], p_grid: FloatArray, profiles: FloatArray) -> FloatArray:
    """log P(observed answers | grid point) per item, shape (items, G), up to per-item constants.

    Abstains do not enter (they are independent of the grid point); grid points are p-major.

    >>> log_likelihood([ItemCounts(1, (1,))], np.array([0.5]), np.array([[1.0, 0.0]])).round(4).tolist()
    [[-1.3863]]
    """
    by_p, by_q = log_likelihood_parts(counts, p_grid, profiles)
    total = by_p[:, :, None] + by_q[:, None, :]
    return np.asarray(total.reshape(len(counts), -1), dtype=float)


def posterior(loglik: FloatArray, weights: FloatArray) -> FloatArray:
    """Posterior over grid points per item from log-likelihoods (items, G) and prior ``weights`` (G,);
    an item no grid point can produce gets a uniform posterior.

    >>> posterior(np.array([[0.0, np.log(3.0)]]), np.array([0.5, 0.5])).tolist()
    [[0.25, 0.75]]
    """
    with np.errstate(divide="ignore"):
        logpost = loglik + np.log(weights)[None, :]
    top = logpost.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    post = np.exp(logpost - top)
    norm = post.sum(axis=1, keepdims=True)
    return np.asarray(
        np.where(norm > 0, post / np.where(norm > 0, norm, 1.0), 1.0 / post.shape[1]), dtype=float
    )
