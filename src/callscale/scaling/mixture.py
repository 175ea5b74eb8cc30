"""Binary answers and the two-level mixture of Chen et al.: closed-form vote accuracy with two answers,
and the theorem on the shape of the curve (and its best K) for a mixture of easy and hard items.

Example:
    >>> mixture_shape(0.5, 0.85, 0.4), mixture_best_k(0.5, 0.85, 0.4)
    (<Shape.INVERSE_U: 'inverse_u'>, 3.0)
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

FloatArray = NDArray[np.float64]

__all__ = [
    "Shape",
    "binary_vote_accuracy",
    "mixture_accuracy",
    "mixture_best_k",
    "mixture_increment",
    "mixture_shape",
    "mixture_threshold",
]


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
