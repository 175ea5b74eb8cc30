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

The exact programmes live in :mod:`callscale.scaling.exact`, the two-level mixture theorem in
:mod:`callscale.scaling.mixture`; both are offered here too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from callscale.scaling.exact import DIRECT_MAX, _curves_direct, _vote_poissonised, vote_accuracy_grid
from callscale.scaling.mixture import (
    Shape,
    binary_vote_accuracy,
    mixture_accuracy,
    mixture_best_k,
    mixture_increment,
    mixture_shape,
    mixture_threshold,
)

FloatArray = NDArray[np.float64]

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
