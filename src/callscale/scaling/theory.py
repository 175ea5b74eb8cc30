"""Exact accuracy of Vote and Filter-Vote, and the two-level mixture theory of Chen et al.

The vote rule, used everywhere in callscale: plurality over parsed answers; abstains (unparseable
answers) cast no vote; if every sample abstains the result is an abstain (scored wrong); ties among
the top answers are broken uniformly at random, so a t-way tie that includes the correct answer counts
1/t.

An answer distribution is given by the probability of the correct answer, of each wrong answer, of
abstaining, and optionally a *diffuse* mass: wrong answers so rare that every such draw is a new, unique
answer (free-form numeric answers behave like this).

Two exact algorithms compute vote accuracy, both without Monte Carlo:

* for K up to ``DIRECT_MAX`` a dynamic programme over counts on exponential generating functions, which
  yields the whole curve K = 1..kmax at once and is batched over many distributions;
* for larger K, a Poissonised dynamic programme (the number of draws is made Poisson(K) so that answer
  counts become independent, then the exact multinomial result is recovered by conditioning on the
  total), with the products evaluated by FFT and terms below 1e-18 dropped.

Ties are handled exactly through 1/(1+T) = ∫₀¹ u^T du, evaluated with Gauss-Legendre quadrature, which is
exact because T is bounded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sfft
from scipy import special, stats

FloatArray = NDArray[np.float64]

DIRECT_MAX = 150
"""Largest K computed by the direct (all-K) programme; larger K use the Poissonised FFT programme."""

_NEGLIGIBLE = 1e-18
_TOL = 1e-9

__all__ = [
    "DIRECT_MAX",
    "AnswerDistribution",
    "Shape",
    "binary_vote_accuracy",
    "filter_vote_accuracy",
    "mixture_accuracy",
    "mixture_best_k",
    "mixture_increment",
    "mixture_shape",
    "mixture_threshold",
    "vote_accuracy",
    "vote_accuracy_curves",
    "vote_accuracy_grid",
]


# --------------------------------------------------------------------------------------------------
# Answer distributions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerDistribution:
    """Categorical distribution of one item's answers.

    ``p_wrong`` lists the probabilities of distinct wrong answers (labelled by ``wrong_answers`` when
    known); ``p_diffuse`` is mass on wrong answers that never repeat; the rest abstains.

    >>> d = AnswerDistribution.from_probs(0.5, [0.3, 0.1])
    >>> round(d.p_abstain, 12), round(d.difficulty, 12), d.is_easy
    (0.1, -0.2, True)
    """

    p_correct: float
    p_wrong: tuple[float, ...] = ()
    p_abstain: float = 0.0
    p_diffuse: float = 0.0
    wrong_answers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        probs = [self.p_correct, self.p_abstain, self.p_diffuse, *self.p_wrong]
        if any(not math.isfinite(p) or p < -_TOL for p in probs):
            raise ValueError(f"probabilities must be finite and non-negative: {probs}")
        total = sum(probs)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"probabilities must sum to 1, got {total}")
        if self.wrong_answers and len(self.wrong_answers) != len(self.p_wrong):
            raise ValueError("wrong_answers must label every entry of p_wrong")

    @classmethod
    def from_probs(
        cls,
        p_correct: float,
        p_wrong: Sequence[float] = (),
        p_diffuse: float = 0.0,
        wrong_answers: Sequence[str] = (),
    ) -> AnswerDistribution:
        """Build a distribution whose abstain probability is whatever mass remains.

        >>> AnswerDistribution.from_probs(0.6, [0.4]).p_abstain
        0.0
        """
        rest = 1.0 - p_correct - float(sum(p_wrong)) - p_diffuse
        if rest < -_TOL:
            raise ValueError("probabilities exceed 1")
        return cls(
            float(p_correct),
            tuple(float(p) for p in p_wrong),
            max(rest, 0.0),
            float(p_diffuse),
            tuple(wrong_answers),
        )

    @property
    def max_wrong(self) -> float:
        """Probability of the most likely wrong answer (0 if there is none)."""
        return max(self.p_wrong, default=0.0)

    @property
    def difficulty(self) -> float:
        """d(x) = max_{y≠y*} p(y) − p(y*); negative means the infinite vote is correct."""
        return self.max_wrong - self.p_correct

    @property
    def is_easy(self) -> bool:
        """True iff d(x) < 0."""
        return self.difficulty < 0

    @property
    def is_hard(self) -> bool:
        """True iff d(x) > 0."""
        return self.difficulty > 0

    def vote_accuracy(self, k: ArrayLike) -> FloatArray:
        """Exact plurality-vote accuracy at K samples (array in, array out).

        >>> AnswerDistribution.from_probs(0.6, [0.4]).vote_accuracy([1, 3]).round(3).tolist()
        [0.6, 0.648]
        """
        return np.asarray(
            vote_accuracy(
                self.p_correct,
                self.p_wrong,
                np.atleast_1d(np.asarray(k)),
                p_abstain=self.p_abstain,
                p_diffuse=self.p_diffuse,
            ),
            dtype=float,
        )


def _normalise(
    p_correct: float, p_wrong: ArrayLike, p_abstain: float | None, p_diffuse: float
) -> tuple[float, FloatArray, float, float]:
    w = np.atleast_1d(np.asarray(p_wrong, dtype=float)).ravel()
    pc = float(p_correct)
    pd = float(p_diffuse)
    if p_abstain is None:
        pa = 1.0 - pc - float(w.sum()) - pd
        if pa < -_TOL:
            raise ValueError("probabilities exceed 1")
        pa = max(pa, 0.0)
    else:
        pa = float(p_abstain)
    vals = np.concatenate([[pc, pa, pd], w])
    if not np.all(np.isfinite(vals)) or np.any(vals < -_TOL):
        raise ValueError("probabilities must be finite and non-negative")
    total = float(vals.sum())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"probabilities must sum to 1, got {total}")
    vals = np.clip(vals, 0.0, None) / total
    return float(vals[0]), vals[3:][vals[3:] > 0], float(vals[1]), float(vals[2])


@lru_cache(maxsize=256)
def _gauss01(n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes and weights on [0, 1]; exact for polynomials of degree ≤ 2n−1."""
    x, w = np.polynomial.legendre.leggauss(max(int(n), 1))
    nodes, weights = (x + 1.0) / 2.0, w / 2.0
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


# --------------------------------------------------------------------------------------------------
# Exact vote accuracy
# --------------------------------------------------------------------------------------------------


def vote_accuracy_curves(
    p_correct: ArrayLike,
    p_wrong: ArrayLike,
    kmax: int,
    *,
    p_abstain: ArrayLike | None = None,
    p_diffuse: ArrayLike | None = None,
) -> FloatArray:
    """Exact vote accuracy for K = 1..kmax for a batch of distributions (kmax ≤ DIRECT_MAX).

    ``p_correct`` has shape (G,), ``p_wrong`` (G, J); abstain defaults to the remaining mass.
    Returns an array of shape (G, kmax) whose column K−1 is the accuracy at K.

    >>> vote_accuracy_curves([0.6, 0.3], [[0.4], [0.7]], 3).round(4).tolist()
    [[0.6, 0.6, 0.648], [0.3, 0.3, 0.216]]
    """
    pc = np.atleast_1d(np.asarray(p_correct, dtype=float))
    w = np.asarray(p_wrong, dtype=float)
    if w.ndim == 1:
        w = w.reshape(pc.shape[0], -1) if w.size else np.zeros((pc.shape[0], 0))
    if w.ndim != 2 or w.shape[0] != pc.shape[0]:
        raise ValueError("p_wrong must have shape (G, J)")
    g = pc.shape[0]
    pd = (
        np.zeros(g) if p_diffuse is None else np.broadcast_to(np.asarray(p_diffuse, dtype=float), (g,)).copy()
    )
    pa = (
        1.0 - pc - w.sum(axis=1) - pd
        if p_abstain is None
        else np.broadcast_to(np.asarray(p_abstain, dtype=float), (g,)).copy()
    )
    if np.any(pa < -1e-6) or np.any(pc < -_TOL) or np.any(w < -_TOL) or np.any(pd < -_TOL):
        raise ValueError("probabilities must be non-negative and sum to 1")
    pa = np.clip(pa, 0.0, None)
    total = pc + w.sum(axis=1) + pa + pd
    if np.any(np.abs(total - 1.0) > 1e-6):
        raise ValueError("probabilities must sum to 1")
    pc, w, pa, pd = pc / total, w / total[:, None], pa / total, pd / total
    kmax = int(kmax)
    if kmax < 1:
        return np.zeros((g, 0))
    if kmax > DIRECT_MAX:
        raise ValueError(f"kmax must be ≤ {DIRECT_MAX}; use vote_accuracy for larger K")
    # Work is linear in the number of wrong answers: group rows by how many are non-zero.
    w = -np.sort(-w, axis=1)
    n_nonzero = (w > 0).sum(axis=1)
    out = np.empty((g, kmax))
    for m in np.unique(n_nonzero):
        rows = np.flatnonzero(n_nonzero == m)
        out[rows] = _curves_direct(pc[rows], w[rows, :m], pa[rows], pd[rows], kmax)
    return out


def _factorials(n: int) -> FloatArray:
    """0!, 1!, …, n! as floats (finite up to 170!, beyond DIRECT_MAX)."""
    return np.concatenate([[1.0], np.cumprod(np.arange(1, n + 1, dtype=float))])


def _curves_direct(pc: FloatArray, w: FloatArray, pa: FloatArray, pd: FloatArray, n_max: int) -> FloatArray:
    """All-K programme on exponential generating functions (all quantities non-negative).

    Accuracy(K) = K!·Σ_c p^c/c! · [x^{K−c}] Π_j E_c(q_j x) · e^{(a+δ)x}, where E_c is the exponential
    series truncated at degree c with its degree-c term weighted by the tie variable u.
    """
    g = pc.shape[0]
    idx = np.arange(n_max + 1)
    fact = _factorials(n_max)
    pck = pc[:, None] ** idx[None, :] / fact  # (G, N+1)
    out = np.zeros((g, n_max + 1))
    for c, h in _other_answers(w, pa, pd, np.clip(1.0 - pc, 0.0, None), n_max):
        out[:, c:] += pck[:, c, None] * h
    return (out * fact[None, :])[:, 1:]


def _other_answers(
    w: FloatArray, pa: FloatArray, pd: FloatArray, other: FloatArray, n_max: int
) -> Iterator[tuple[int, FloatArray]]:
    """For c = 1..n_max: (c, h) with h[:, n] = [x^n] Π_j E_c(q_j x)·e^{(a+δ)x}, integrated over the tie variable.

    ``other`` is each row's total non-correct mass (wrong, diffuse and abstain), used when no other
    answer can reach c.
    """
    g, j_classes = w.shape
    idx = np.arange(n_max + 1)
    fact = _factorials(n_max)
    inv_fact = 1.0 / fact
    wk = w[:, :, None] ** idx[None, None, :] * inv_fact  # EGF coefficients q^k/k!, (G, J, N+1)
    nodes_multi, weights_multi = _gauss01((j_classes + 2) // 2)
    for c in range(1, n_max + 1):
        n = n_max - c  # highest degree still needed for the non-correct draws
        if c > n and c > 1:
            # No other answer can reach c: the product is the untruncated exponential series.
            yield c, other[:, None] ** idx[None, : n + 1] * inv_fact[: n + 1]
            continue
        if c == 1:
            # Diffuse draws are singletons: at c = 1 each one ties with the correct answer.
            u, wts = _gauss01((j_classes + n + 2) // 2 if np.any(pd > 0) else (j_classes + 2) // 2)
            base = pa[:, None] + pd[:, None] * u[None, :]  # (G, U)
        else:
            u, wts = nodes_multi, weights_multi
            base = np.broadcast_to((pa + pd)[:, None], (g, u.size))
        acc = base[:, :, None] ** idx[None, None, : n + 1] * inv_fact[: n + 1]  # (G, U, n+1)
        top = min(c, n)
        for j in range(j_classes):
            ker = np.repeat(wk[:, j, None, : top + 1], u.size, axis=1)  # (G, U, top+1)
            if top == c:
                ker[:, :, c] *= u[None, :]
            if g * u.size <= 32:
                flat_acc = acc.reshape(-1, n + 1)
                flat_ker = ker.reshape(-1, top + 1)
                acc = np.stack(
                    [np.convolve(r, q)[: n + 1] for r, q in zip(flat_acc, flat_ker, strict=True)]
                ).reshape(acc.shape)
            else:
                new = acc * ker[:, :, 0, None]
                for kk in range(1, top + 1):
                    new[:, :, kk:] += acc[:, :, : n + 1 - kk] * ker[:, :, kk, None]
                acc = new
        yield c, np.einsum("gun,u->gn", acc, wts)


def vote_accuracy_grid(p_grid: ArrayLike, shapes: ArrayLike, kmax: int) -> FloatArray:
    """Exact vote curves K = 1..kmax for every (p, shape) pair of a grid, without abstains.

    Grid point (p, s) has the correct answer with probability p and the rest split by the shape
    ``s`` = (shares of wrong answers 1..J, diffuse share), summing to 1. Because every non-correct
    probability is (1 − p) times the shape's share, the generating function of the other answers at
    degree n is (1 − p)^n times the shape's own, so the costly part runs once per shape, not per point.
    Rows are ordered p-major, as ``np.repeat(p_grid, len(shapes))``; equals
    :func:`vote_accuracy_curves` on the same distributions.

    >>> vote_accuracy_grid([0.6, 0.3], [[1.0, 0.0]], 3).round(4).tolist()
    [[0.6, 0.6, 0.648], [0.3, 0.3, 0.216]]
    """
    p = np.atleast_1d(np.asarray(p_grid, dtype=float))
    sh = np.atleast_2d(np.asarray(shapes, dtype=float))
    if np.any(p < 0) or np.any(p > 1) or np.any(sh < 0) or not np.allclose(sh.sum(axis=1), 1.0):
        raise ValueError("p must lie in [0, 1] and each shape be non-negative shares summing to 1")
    kmax = int(kmax)
    if not 1 <= kmax <= DIRECT_MAX:
        raise ValueError(f"kmax must lie in 1..{DIRECT_MAX}")
    idx = np.arange(kmax + 1)
    fact = _factorials(kmax)
    pck = p[:, None] ** idx[None, :] / fact  # (P, N+1)
    scale = (1.0 - p)[:, None] ** idx[None, :]  # (P, N+1): (1 − p)^n
    out = np.zeros((p.size, sh.shape[0], kmax + 1))
    wrong = -np.sort(-sh[:, :-1], axis=1)
    n_nonzero = (wrong > 0).sum(axis=1)
    for m in np.unique(n_nonzero):
        rows = np.flatnonzero(n_nonzero == m)
        zeros = np.zeros(rows.size)
        for c, h in _other_answers(wrong[rows, :m], zeros, sh[rows, -1], np.ones(rows.size), kmax):
            n = h.shape[1]
            out[:, rows, c:] += (pck[:, c, None] * scale[:, :n])[:, None, :] * h[None, :, :]
    return (out * fact).reshape(p.size * sh.shape[0], kmax + 1)[:, 1:]


def _fold(vec: FloatArray, size: int) -> FloatArray:
    """Wrap a coefficient vector onto a circle of ``size`` points (for circular convolution)."""
    pad = (-vec.size) % size
    return np.asarray(np.pad(vec, (0, pad)).reshape(-1, size).sum(axis=0), dtype=float)


def _vote_poissonised(pc: float, w: FloatArray, pa: float, pd: float, k: int) -> float:
    """Accuracy at one (large) K by the Poissonised programme; see the module docstring.

    With the number of draws Poisson(K), answer counts are independent Poisson variables and
    P_multinomial(event) = P_Poisson(event, total = K) / Poisson(K; K). For each count c of the correct
    answer, the probability that every wrong answer has count ≤ c (ties weighted) and the other draws
    total K − c is a coefficient of a product of truncated Poisson pmfs, evaluated by FFT on a circle
    just large enough that no non-negligible coefficient aliases onto the ones read.
    """
    if pc <= 0.0:
        return 0.0
    if pc >= 1.0:
        return 1.0
    lam = float(k)
    c_all = np.arange(1, k + 1)
    pmf_c = stats.binom.pmf(c_all, k, pc)
    rows = c_all[pmf_c > _NEGLIGIBLE]
    total = 0.0
    if rows.size and rows[0] == 1:
        total += _row_one(pc, w, pa, pd, k)
        rows = rows[1:]
    if rows.size == 0:
        return total
    c_min, c_max = int(rows[0]), int(rows[-1])
    rates = lam * w
    competitive = stats.poisson.sf(c_min - 1, rates) > _NEGLIGIBLE
    rest_rate = lam * (pa + pd) + float(rates[~competitive].sum())
    # All coefficients of the product are bounded by the Poisson(mu) pmf (mu = total non-correct rate),
    # so its mass lies in [lo, hi] up to far less than 1e-18.
    mu = lam * (1.0 - pc)
    spread = 12.0 * math.sqrt(mu) + 50.0
    lo, hi = max(0.0, mu - spread), mu + spread
    size = sfft.next_fast_len(int(max(k - c_min - lo, hi - (k - c_max), 1.0)) + 1, real=True)
    grid = np.arange(math.ceil(hi) + 1)
    spectrum = sfft.rfft(_fold(stats.poisson.pmf(grid, rest_rate), size))[None, :]  # (1, F)
    freq = np.arange(size // 2 + 1)
    n_comp = int(competitive.sum())
    # Fourier transforms of each competitive class's pmf truncated below c, for every row c, built as a
    # running sum over k (rows are consecutive), and of its single term at c (the tie term).
    phase = np.exp(-2j * np.pi * np.outer(rows % size, freq) / size)  # (R, F)
    below: list[NDArray[np.complex128]] = []
    at: list[NDArray[np.complex128]] = []
    for rate in rates[competitive]:
        pmf = stats.poisson.pmf(np.arange(max(math.ceil(hi), c_max) + 1), rate)
        start = sfft.rfft(_fold(np.where(np.arange(pmf.size) < c_min, pmf, 0.0), size))
        term = pmf[rows][:, None] * phase
        run = np.cumsum(term, axis=0)
        run[1:] = run[:-1]
        run[0] = 0.0
        run += start[None, :]
        below.append(run)
        at.append(term)
    # A t-way tie at count c needs (t+1)·c ≤ K draws; rows are grouped (contiguously) by the largest
    # possible t so that the Gauss-Legendre rule is exact with as few nodes as possible.
    max_ties = np.minimum(n_comp, (k - rows) // rows)
    acc_spec = np.zeros((rows.size, freq.size), dtype=complex)
    tmp = np.empty_like(acc_spec)
    for t_max in np.unique(max_ties):
        where = np.flatnonzero(max_ties == t_max)
        sl = slice(int(where[0]), int(where[-1]) + 1)
        u, wts = _gauss01(int(t_max) // 2 + 1)
        for ui, wi in zip(u, wts, strict=True):
            prod = np.repeat(spectrum * wi, sl.stop - sl.start, axis=0)
            part = tmp[sl]
            for b, a in zip(below, at, strict=True):
                np.multiply(a[sl], ui, out=part)
                part += b[sl]
                prod *= part
            acc_spec[sl] += prod
    coef = sfft.irfft(acc_spec, n=size, axis=1)[np.arange(rows.size), (k - rows) % size]
    joint = stats.poisson.pmf(rows, lam * pc) * np.clip(coef, 0.0, None)
    total += float(np.sum(joint)) / float(stats.poisson.pmf(k, lam))
    return total


def _row_one(pc: float, w: FloatArray, pa: float, pd: float, k: int) -> float:
    """The c = 1 term (correct answer drawn once) of the Poissonised programme, exactly.

    Every other answer must be drawn at most once; each one drawn (including every diffuse draw) ties.
    """
    lam = float(k)
    p0 = np.exp(-lam * w)
    p1 = lam * w * p0
    degree = w.size + (k - 1 if pd > 0 else 0)
    u, wts = _gauss01(degree // 2 + 1)
    poly = np.zeros((u.size, w.size + 1))  # per node, polynomial in x of Π_j (p0_j + u·p1_j·x)
    poly[:, 0] = 1.0
    for a0, a1 in zip(p0, p1, strict=True):
        poly[:, 1:] = poly[:, 1:] * a0 + poly[:, :-1] * (u[:, None] * a1)
        poly[:, 0] *= a0
    need = k - 1 - np.arange(w.size + 1)
    rate = lam * (pa + pd * u)[:, None]
    rest = (
        np.where(need >= 0, stats.poisson.pmf(np.maximum(need, 0)[None, :], rate), 0.0)
        * np.exp(-lam * pd * (1.0 - u))[:, None]
    )
    value = float(np.sum(wts * np.sum(poly * rest, axis=1)))
    return float(stats.poisson.pmf(1, lam * pc)) * value / float(stats.poisson.pmf(k, lam))


@overload
def vote_accuracy(
    p_correct: float, p_wrong: ArrayLike, k: int, *, p_abstain: float | None = ..., p_diffuse: float = ...
) -> float: ...
@overload
def vote_accuracy(
    p_correct: float,
    p_wrong: ArrayLike,
    k: Sequence[int] | NDArray[np.integer],
    *,
    p_abstain: float | None = ...,
    p_diffuse: float = ...,
) -> FloatArray: ...
def vote_accuracy(
    p_correct: float,
    p_wrong: ArrayLike,
    k: int | Sequence[int] | NDArray[np.integer],
    *,
    p_abstain: float | None = None,
    p_diffuse: float = 0.0,
) -> float | FloatArray:
    """Exact accuracy of plurality vote over K i.i.d. answers (ties uniform, abstains cast no vote).

    ``p_wrong`` holds the probability of each distinct wrong answer; abstain defaults to the remaining
    mass; ``p_diffuse`` is mass on never-repeating wrong answers. ``k`` may be an int or an array.

    >>> round(vote_accuracy(0.5, [0.3, 0.2], 3), 6)
    0.56
    >>> vote_accuracy(0.5, [0.3], [1, 2, 1000]).round(4).tolist()
    [0.5, 0.6, 1.0]
    """
    pc, w, pa, pd = _normalise(p_correct, p_wrong, p_abstain, p_diffuse)
    ks = np.asarray(k)
    scalar = ks.ndim == 0
    ks = np.atleast_1d(ks).astype(int)
    if np.any(ks < 0):
        raise ValueError("k must be non-negative")
    result = np.zeros(ks.shape, dtype=float)
    small = (ks >= 1) & (ks <= DIRECT_MAX)
    if np.any(small):
        curve = _curves_direct(
            np.array([pc]), w[None, :], np.array([pa]), np.array([pd]), int(ks[small].max())
        )[0]
        result[small] = curve[ks[small] - 1]
    for i in np.flatnonzero(ks > DIRECT_MAX):
        result[i] = _vote_poissonised(pc, w, pa, pd, int(ks[i]))
    result = np.clip(result, 0.0, 1.0)
    return float(result[0]) if scalar else result


# --------------------------------------------------------------------------------------------------
# Filter-Vote
# --------------------------------------------------------------------------------------------------


@overload
def filter_vote_accuracy(
    p_correct: float,
    p_wrong: ArrayLike,
    k: int,
    *,
    tpr: float,
    fpr: float,
    p_abstain: float | None = ...,
    p_diffuse: float = ...,
) -> float: ...
@overload
def filter_vote_accuracy(
    p_correct: float,
    p_wrong: ArrayLike,
    k: Sequence[int] | NDArray[np.integer],
    *,
    tpr: float,
    fpr: float,
    p_abstain: float | None = ...,
    p_diffuse: float = ...,
) -> FloatArray: ...
def filter_vote_accuracy(
    p_correct: float,
    p_wrong: ArrayLike,
    k: int | Sequence[int] | NDArray[np.integer],
    *,
    tpr: float,
    fpr: float,
    p_abstain: float | None = None,
    p_diffuse: float = 0.0,
) -> float | FloatArray:
    """Exact accuracy of Filter-Vote with K generations (and K filter calls).

    The filter keeps a correct answer with probability ``tpr`` and a wrong one with probability ``fpr``;
    abstains are never kept. The vote runs over the kept answers, or over all K if none is kept:
    acc = Vote(kept, dropped as abstain) + s^K · Vote(answers conditional on being dropped), s = P(dropped).

    >>> round(filter_vote_accuracy(0.5, [0.5], 1, tpr=0.9, fpr=0.2), 4)
    0.5
    >>> round(filter_vote_accuracy(0.4, [0.6], 5, tpr=0.9, fpr=0.2), 4)
    0.7663
    """
    if not (0.0 <= tpr <= 1.0 and 0.0 <= fpr <= 1.0):
        raise ValueError("tpr and fpr must lie in [0, 1]")
    pc, w, pa, pd = _normalise(p_correct, p_wrong, p_abstain, p_diffuse)
    kept_c, kept_w, kept_d = pc * tpr, w * fpr, pd * fpr
    s = 1.0 - kept_c - float(kept_w.sum()) - kept_d
    ks = np.asarray(k)
    scalar = ks.ndim == 0
    ks = np.atleast_1d(ks).astype(int)
    kept = np.asarray(vote_accuracy(kept_c, kept_w, ks, p_abstain=max(s, 0.0), p_diffuse=kept_d), dtype=float)
    if s > 0:
        dropped = np.asarray(
            vote_accuracy(
                pc * (1 - tpr) / s, w * (1 - fpr) / s, ks, p_abstain=pa / s, p_diffuse=pd * (1 - fpr) / s
            ),
            dtype=float,
        )
        kept = kept + np.power(s, ks.astype(float)) * dropped
    kept = np.clip(kept, 0.0, 1.0)
    return float(kept[0]) if scalar else kept


# --------------------------------------------------------------------------------------------------
# Binary answers and the two-level mixture
# --------------------------------------------------------------------------------------------------


def binary_vote_accuracy(p: ArrayLike, k: ArrayLike) -> FloatArray:
    """Vote accuracy with two answers (correct with probability p), closed form.

    Odd K: P[Bin(K,p) ≥ (K+1)/2] = I_p((K+1)/2, (K+1)/2); even K: P[Bin > K/2] + ½·P[Bin = K/2].

    >>> binary_vote_accuracy(0.6, [1, 2, 3]).round(4).tolist()
    [0.6, 0.6, 0.648]
    """
    pp, kk = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(k))
    kk = kk.astype(int)
    if np.any(kk < 1):
        raise ValueError("k must be ≥ 1")
    odd = kk % 2 == 1
    h_odd = (kk + 1) / 2.0
    half = kk // 2
    with np.errstate(invalid="ignore"):
        odd_val = special.betainc(h_odd, h_odd, pp)
        even_val = special.betainc(half + 1.0, np.maximum(half, 1).astype(float), pp) + 0.5 * stats.binom.pmf(
            half, kk, pp
        )
    return np.asarray(np.where(odd, odd_val, even_val), dtype=float)


def mixture_accuracy(alpha: float, p1: float, p2: float, k: ArrayLike) -> FloatArray:
    """F(K) = α·I_{p₁} + (1−α)·I_{p₂}: vote accuracy of a two-level binary mixture.

    >>> mixture_accuracy(0.5, 0.85, 0.4, [1, 3, 5]).round(4).tolist()
    [0.625, 0.6456, 0.6454]
    """
    return np.asarray(
        alpha * binary_vote_accuracy(p1, k) + (1.0 - alpha) * binary_vote_accuracy(p2, k), dtype=float
    )


class Shape(Enum):
    """Shape of F over odd K for a two-level mixture (Chen et al.'s theorem)."""

    INVERSE_U = "inverse_u"
    DECREASING = "decreasing"
    INCREASING = "increasing"
    U = "u"


def _check_mixture(alpha: float, p1: float, p2: float) -> None:
    if not (0.0 < alpha < 1.0):
        raise ValueError("alpha must lie in (0, 1)")
    if not (0.5 < p1 <= 1.0 and 0.0 <= p2 < 0.5):
        raise ValueError("need 1/2 < p1 ≤ 1 (easy items) and 0 ≤ p2 < 1/2 (hard items)")


def mixture_threshold(p1: float, p2: float) -> float:
    """The threshold 1 − 1/t with t = p₂q₂(½−p₂) / [p₁q₁(p₁−½)] + 1.

    >>> round(mixture_threshold(0.85, 0.4), 4), round(mixture_threshold(0.65, 0.1), 4)
    (0.3497, 0.5134)
    """
    _check_mixture(0.5, p1, p2)
    easy = p1 * (1 - p1) * (p1 - 0.5)
    hard = p2 * (1 - p2) * (0.5 - p2)
    if easy == 0.0:
        return 1.0
    t = hard / easy + 1.0
    return 1.0 - 1.0 / t


def mixture_increment(alpha: float, p1: float, p2: float, m: ArrayLike) -> FloatArray:
    """F(2m+3) − F(2m+1) = C(2m+1, m)·[α(2p₁−1)(p₁q₁)^{m+1} − (1−α)(1−2p₂)(p₂q₂)^{m+1}].

    >>> float(mixture_increment(0.5, 0.85, 0.4, 0).round(4))
    0.0206
    """
    mm = np.asarray(m, dtype=float)
    log_c = special.gammaln(2 * mm + 2) - special.gammaln(mm + 1) - special.gammaln(mm + 2)
    q1, q2 = 1 - p1, 1 - p2
    with np.errstate(divide="ignore"):
        easy = np.exp(log_c + (mm + 1) * np.log(p1 * q1)) if p1 * q1 > 0 else np.zeros_like(mm)
        hard = np.exp(log_c + (mm + 1) * np.log(p2 * q2)) if p2 * q2 > 0 else np.zeros_like(mm)
    return np.asarray(alpha * (2 * p1 - 1) * easy - (1 - alpha) * (1 - 2 * p2) * hard, dtype=float)


def mixture_shape(alpha: float, p1: float, p2: float) -> Shape:
    """Shape of F over odd K, by the theorem (needs 0 < α < 1, p₁ > ½ > p₂).

    When p₁ + p₂ = 1 the increments never change sign: F is increasing if α ≥ ½, else decreasing.

    >>> mixture_shape(0.5, 0.85, 0.4), mixture_shape(0.5, 0.65, 0.1)
    (<Shape.INVERSE_U: 'inverse_u'>, <Shape.U: 'u'>)
    """
    _check_mixture(alpha, p1, p2)
    thr = mixture_threshold(p1, p2)
    s = p1 + p2
    if math.isclose(s, 1.0, rel_tol=0.0, abs_tol=1e-12):
        return Shape.INCREASING if alpha >= 0.5 else Shape.DECREASING
    if s > 1.0:
        return Shape.INVERSE_U if alpha > thr else Shape.DECREASING
    return Shape.INCREASING if alpha >= thr else Shape.U


def mixture_best_k(alpha: float, p1: float, p2: float) -> float:
    """Best odd K for a two-level mixture: closed-form K* (inverse U), 1 (decreasing), ∞ (increasing).

    K* = 2·⌈log[(1−α)(1−2p₂)/(α(2p₁−1))] / log[p₁q₁/(p₂q₂)]⌉ − 1. For a U shape the best K is 1 or ∞,
    whichever of F(1) = αp₁ + (1−α)p₂ and F(∞) = α is larger.

    >>> mixture_best_k(0.5, 0.85, 0.4), mixture_best_k(0.5, 0.65, 0.1)
    (3.0, inf)
    """
    shape = mixture_shape(alpha, p1, p2)
    if shape is Shape.DECREASING:
        return 1.0
    if shape is Shape.INCREASING:
        return math.inf
    if shape is Shape.U:
        return 1.0 if alpha * p1 + (1 - alpha) * p2 >= alpha else math.inf
    x = math.log((1 - alpha) * (1 - 2 * p2) / (alpha * (2 * p1 - 1))) / math.log(
        p1 * (1 - p1) / (p2 * (1 - p2))
    )
    return float(2 * math.ceil(x) - 1)
