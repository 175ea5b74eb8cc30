"""The two exact programmes behind vote accuracy (no Monte Carlo).

* for K up to ``DIRECT_MAX`` a dynamic programme over counts on exponential generating functions, which
  yields the whole curve K = 1..kmax at once and is batched over many distributions
  (:func:`vote_accuracy_grid` runs it over a whole grid of distributions, once per wrong-answer shape);
* for larger K, a Poissonised dynamic programme (the number of draws is made Poisson(K) so that answer
  counts become independent, then the exact multinomial result is recovered by conditioning on the
  total), with the products evaluated by FFT and terms below 1e-18 dropped.

Ties are handled exactly through 1/(1+T) = ∫₀¹ u^T du, evaluated with Gauss-Legendre quadrature, which is
exact because T is bounded. :mod:`callscale.scaling.theory` is the public face.

Example:
    >>> vote_accuracy_grid([0.6], [[1.0, 0.0]], 3).round(3).tolist()
    [[0.6, 0.6, 0.648]]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sfft
from scipy import stats

FloatArray = NDArray[np.float64]

DIRECT_MAX = 150
"""Largest K computed by the direct (all-K) programme; larger K use the Poissonised FFT programme."""

_NEGLIGIBLE = 1e-18

__all__ = ["DIRECT_MAX", "vote_accuracy_grid"]


@lru_cache(maxsize=256)
def _gauss01(n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes and weights on [0, 1]; exact for polynomials of degree ≤ 2n−1."""
    x, w = np.polynomial.legendre.leggauss(max(int(n), 1))
    nodes, weights = (x + 1.0) / 2.0, w / 2.0
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights



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
