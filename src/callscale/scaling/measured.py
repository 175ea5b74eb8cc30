"""What a task's sample pools show by themselves: the measured vote curve for every K ≤ M (exact subset
averages), how sure it is when the items are a sample of the task's, its easy/hard breakdown and
coverage (pass@k); and the logprobs route: each item's answer distribution read off its first token's
top alternatives (:func:`letter_distribution`), and the exact curve from them (:func:`logprob_curve`).

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> seen = measure_pools([PoolItem(str(i), "4", ("4", "5", "4", "5")) for i in range(10)], seed=0)
    >>> seen.mean.round(3).tolist(), seen.k_star
    ([0.5, 0.5, 0.5, 0.5], 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from callscale.scaling.estimate import (
    ItemCounts,
    PoolItem,
    coverage_curve,
    difficulty_split,
    distribution_from_logprobs,
    item_counts,
    subset_vote_curves,
)
from callscale.scaling.theory import AnswerDistribution, vote_accuracy_curves

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["MeasuredBand", "MeasuredCurves", "letter_distribution", "logprob_curve", "measure_pools", "measured_uncertainty"]


@dataclass(frozen=True)
class MeasuredBand:
    """How sure the measured curve is about the task: ``level`` intervals over item resamples."""

    lo: FloatArray
    hi: FloatArray
    k_star_lo: int
    k_star_hi: int
    level: float


def measured_uncertainty(
    per_item: ArrayLike,
    ks: ArrayLike,
    *,
    n_boot: int = 400,
    level: float = 0.9,
    seed: int = 0,
    k_star_candidates: ArrayLike | None = None,
) -> MeasuredBand:
    """Intervals for the measured curve and its best K when the items are a sample of the task's.

    ``per_item`` holds each item's exact subset-average curve (items × K). Items are resampled with
    replacement; since each item's curve carries its own samples' noise, the band covers both where
    the items fall and how their few samples fell. A prediction inside the band agrees with the task's
    curve as far as these items can tell. The best K is the argmax over ``k_star_candidates``
    (default: all of ``ks``).

    >>> band = measured_uncertainty(np.array([[0.0, 0.0], [1.0, 1.0]] * 10), [1, 2], n_boot=200)
    >>> bool(band.lo[0] < 0.5 < band.hi[0]), band.k_star_lo
    (True, 1)
    """
    curves = np.asarray(per_item, dtype=float)
    k = np.asarray(ks)
    draws = np.random.default_rng(seed).integers(0, curves.shape[0], size=(n_boot, curves.shape[0]))
    means = np.stack([curves[d].mean(axis=0) for d in draws])
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail], axis=0)
    cand = np.flatnonzero(np.isin(k, k if k_star_candidates is None else np.asarray(k_star_candidates)))
    if cand.size == 0:
        raise ValueError("k_star_candidates must be among ks")
    stars = k[cand[np.argmax(means[:, cand], axis=1)]]
    k_lo, k_hi = np.quantile(stars, [tail, 1.0 - tail], method="inverted_cdf")
    return MeasuredBand(np.asarray(lo), np.asarray(hi), int(k_lo), int(k_hi), level)


@dataclass(frozen=True)
class MeasuredCurves:
    """The measured curves of a pool at K = 1..M: all items (``mean``, with its ``band``), the easy
    and the hard ones (zeros when there are none), and coverage."""

    k: IntArray
    counts: list[ItemCounts]
    per_item: FloatArray
    mean: FloatArray
    band: MeasuredBand
    easy: FloatArray
    hard: FloatArray
    easy_fraction: float
    hard_fraction: float
    coverage: FloatArray

    @property
    def k_star(self) -> int:
        """The K with the highest measured accuracy (the first on ties)."""
        return int(self.k[int(np.argmax(self.mean))])


def measure_pools(pools: Sequence[PoolItem], samples: int | None = None, *, seed: int = 0) -> MeasuredCurves:
    """The measured curves over each item's first ``samples`` answers (default: the smallest pool's size).

    >>> seen = measure_pools([PoolItem("a", "1", ("1", "1", "2")), PoolItem("b", "1", ("2", "2", "2"))])
    >>> seen.easy_fraction, seen.coverage.round(3).tolist()
    (0.5, [0.333, 0.5, 0.5])
    """
    m = min(len(p.answers) for p in pools) if samples is None else samples
    counts = [item_counts(p.answers[:m], p.gold) for p in pools]
    ks = np.arange(1, m + 1)
    per_item = subset_vote_curves(counts, ks)
    measured = per_item.mean(axis=0)
    split = difficulty_split(counts)
    return MeasuredCurves(
        k=ks,
        counts=counts,
        per_item=per_item,
        mean=measured,
        band=measured_uncertainty(per_item, ks, seed=seed),
        easy=per_item[split.easy].mean(axis=0) if split.easy.any() else np.zeros_like(measured),
        hard=per_item[split.hard].mean(axis=0) if split.hard.any() else np.zeros_like(measured),
        easy_fraction=float(split.easy.mean()),
        hard_fraction=float(split.hard.mean()),
        coverage=coverage_curve(counts, ks),
    )


def logprob_curve(distributions: Sequence[AnswerDistribution], kmax: int) -> FloatArray:
    """The task's exact vote curve at K = 1..kmax from each item's answer distribution (e.g. read off
    one logprobs call per item).

    >>> logprob_curve([AnswerDistribution(0.6, (0.4,)), AnswerDistribution(1.0, ())], 3).round(3).tolist()
    [0.8, 0.8, 0.824]
    """
    d = list(distributions)
    width = max(1, max(len(x.p_wrong) for x in d))
    wrong = np.zeros((len(d), width))
    for i, x in enumerate(d):
        wrong[i, : len(x.p_wrong)] = x.p_wrong
    curves = vote_accuracy_curves([x.p_correct for x in d], wrong, kmax, p_abstain=[x.p_abstain for x in d],
                                  p_diffuse=[x.p_diffuse for x in d])
    return np.asarray(curves.mean(axis=0), dtype=float)


def letter_distribution(top: Sequence[tuple[str, float]], gold: str, letters: str, *,
                        temperature: float = 1.0) -> AnswerDistribution:
    """A multiple-choice item's answer distribution from its first token's top (token, logprob) pairs.

    Tokens are read as option letters (``" B"``, ``"b"``, ``"(c)"``…); mass on any other token, and an
    item without pairs (its call failed), is abstention. ``temperature`` is applied to the distribution.

    >>> d = letter_distribution([(" A", -0.1), ("b", -2.5), ("The", -3.0)], "A", "ABCD")
    >>> round(d.p_correct, 3), d.wrong_answers, round(d.p_abstain, 3)
    (0.873, ('B',), 0.048)

    Known defect, kept so the committed study's numbers stay as they were: a token is read as an answer
    when its stripped form occurs *within* ``letters`` (a substring test), so an empty token or ``"("``
    becomes the wrong answer ``""`` and ``"Ab"`` the wrong answer ``"AB"`` instead of abstaining.
    """
    pairs = [(token, logprob) for token, logprob in top if np.isfinite(logprob)]
    if not pairs:
        return AnswerDistribution(0.0, (), 1.0)

    def letter(token: str) -> str | None:
        shown = token.strip().strip("().").upper()
        return shown if shown in letters else None

    return distribution_from_logprobs(pairs, gold, temperature=temperature, normalize=letter)
