"""Estimates from a sample pool: answer distributions, difficulty, exact accuracy at K ≤ M, pass@k.

A *pool* holds, for each item, M sampled answers (strings, or ``None`` for an unparseable answer) and
the gold answer. Everything here is exact combinatorics on the pool — no resampling loops:

* accuracy of Vote at K ≤ M is the average over all size-K subsets of the pool (drawn without
  replacement), computed by a dynamic programme over the multivariate hypergeometric distribution of
  answer counts with the vote rule of :mod:`callscale.scaling.theory` (ties count 1/t, abstains cast
  no vote, all-abstain is wrong);
* pass@k is the unbiased estimator of Chen et al. (2021) / Brown et al.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from callscale.scaling.exact import _gauss01
from callscale.scaling.theory import AnswerDistribution

FloatArray = NDArray[np.float64]
Normalizer = Callable[[str], str | None]

MAX_POOL = 1000
"""Largest pool size per item for exact subset averaging (binomial coefficients stay finite)."""

__all__ = [
    "MAX_POOL",
    "DifficultySplit",
    "ItemCounts",
    "PoolItem",
    "coverage_curve",
    "difficulty_split",
    "distribution_from_logprobs",
    "empirical_distribution",
    "item_counts",
    "pass_at_k",
    "pool_counts",
    "pool_vote_curve",
    "read_pool_jsonl",
    "subset_vote_accuracy",
    "subset_vote_curves",
]


# --------------------------------------------------------------------------------------------------
# Pools and counts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolItem:
    """One item of a sample pool: its id, gold answer and sampled answers (``None`` = abstain).

    >>> PoolItem("q1", "4", ("4", "5", None)).answers[2] is None
    True
    """

    id: str
    gold: str
    answers: tuple[str | None, ...]


@dataclass(frozen=True)
class ItemCounts:
    """Answer counts of one item: correct, each distinct wrong answer (descending), abstain.

    >>> c = ItemCounts(3, (2, 1), 1)
    >>> c.n, c.difficulty, c.correct_is_mode
    (7, -0.14285714285714285, True)
    """

    correct: int
    wrong: tuple[int, ...] = ()
    abstain: int = 0

    def __post_init__(self) -> None:
        if self.correct < 0 or self.abstain < 0 or any(m <= 0 for m in self.wrong):
            raise ValueError("counts must be non-negative (and each listed wrong answer seen at least once)")
        if list(self.wrong) != sorted(self.wrong, reverse=True):
            raise ValueError("wrong counts must be sorted in descending order")

    @property
    def n(self) -> int:
        """Number of samples."""
        return self.correct + sum(self.wrong) + self.abstain

    @property
    def max_wrong(self) -> int:
        """Count of the most frequent wrong answer (0 if none)."""
        return self.wrong[0] if self.wrong else 0

    @property
    def difficulty(self) -> float:
        """Empirical d(x) = max_{y≠y*} p̂(y) − p̂(y*) (0 for an empty pool)."""
        return (self.max_wrong - self.correct) / self.n if self.n else 0.0

    @property
    def correct_is_mode(self) -> bool:
        """True iff the correct answer was seen and no wrong answer was seen more often."""
        return self.correct > 0 and self.correct >= self.max_wrong

    def distribution(self) -> AnswerDistribution:
        """The empirical answer distribution (plug-in frequencies).

        >>> ItemCounts(2, (1,), 1).distribution().p_wrong
        (0.25,)
        """
        if self.n == 0:
            raise ValueError("empty pool")
        n = self.n
        return AnswerDistribution(self.correct / n, tuple(m / n for m in self.wrong), self.abstain / n)


def _identity(answer: str) -> str | None:
    return answer


def item_counts(answers: Iterable[str | None], gold: str, normalize: Normalizer | None = None) -> ItemCounts:
    """Count correct, wrong (per distinct answer) and abstaining samples.

    ``normalize`` maps a raw answer to its canonical form (or ``None`` to abstain); it is applied to the
    answers only — ``gold`` must already be canonical.

    >>> item_counts(["4", "5", "4", None, "6", "5"], "4")
    ItemCounts(correct=2, wrong=(2, 1), abstain=1)
    """
    norm = normalize or _identity
    parsed = [None if a is None else norm(a) for a in answers]
    counts = Counter(a for a in parsed if a is not None)
    correct = counts.pop(gold, 0)
    abstain = sum(1 for a in parsed if a is None)
    return ItemCounts(correct, tuple(sorted(counts.values(), reverse=True)), abstain)


def pool_counts(
    pool: Sequence[PoolItem], n_samples: int | None = None, normalize: Normalizer | None = None
) -> list[ItemCounts]:
    """Counts for every item, optionally from only the first ``n_samples`` answers of each.

    >>> pool_counts([PoolItem("a", "x", ("x", "y", "y"))], n_samples=2)
    [ItemCounts(correct=1, wrong=(1,), abstain=0)]
    """
    return [item_counts(item.answers[:n_samples], item.gold, normalize) for item in pool]


def empirical_distribution(
    answers: Iterable[str | None], gold: str, normalize: Normalizer | None = None
) -> AnswerDistribution:
    """Plug-in answer distribution of one item, with wrong answers labelled.

    >>> d = empirical_distribution(["a", "b", "b", None], "a")
    >>> d.p_correct, d.p_wrong, d.wrong_answers, d.p_abstain
    (0.25, (0.5,), ('b',), 0.25)
    """
    norm = normalize or _identity
    parsed = [None if a is None else norm(a) for a in answers]
    n = len(parsed)
    if n == 0:
        raise ValueError("no answers")
    counts = Counter(a for a in parsed if a is not None)
    correct = counts.pop(gold, 0)
    wrong = counts.most_common()
    abstain = sum(1 for a in parsed if a is None)
    return AnswerDistribution(
        correct / n, tuple(m / n for _, m in wrong), abstain / n, 0.0, tuple(str(a) for a, _ in wrong)
    )


@dataclass(frozen=True)
class DifficultySplit:
    """Per-item difficulty d(x) and the easy (d < 0) / hard (d > 0) masks; d = 0 is neither."""

    difficulty: FloatArray
    easy: NDArray[np.bool_]
    hard: NDArray[np.bool_]

    @property
    def easy_fraction(self) -> float:
        """Fraction of items that are easy (the accuracy of the infinite vote, ties aside)."""
        return float(self.easy.mean()) if self.easy.size else 0.0


def difficulty_split(items: Sequence[ItemCounts | AnswerDistribution]) -> DifficultySplit:
    """Difficulty of each item (from counts or distributions) and the easy/hard split.

    >>> s = difficulty_split([ItemCounts(3, (1,)), ItemCounts(1, (3,)), ItemCounts(2, (2,))])
    >>> s.easy.tolist(), s.hard.tolist()
    ([True, False, False], [False, True, False])
    """
    d = np.array([it.difficulty for it in items], dtype=float)
    return DifficultySplit(d, d < 0, d > 0)


# --------------------------------------------------------------------------------------------------
# Exact accuracy at K ≤ M by averaging over subsets
# --------------------------------------------------------------------------------------------------


def _binomial_row(m: int, length: int) -> FloatArray:
    """C(m, k) for k = 0..length−1 (zero beyond m), as floats."""
    k = np.arange(length)
    return np.where(k <= m, special.comb(m, np.minimum(k, m)), 0.0)


@lru_cache(maxsize=8192)
def _subset_curve(correct: int, wrong: tuple[int, ...], abstain: int) -> FloatArray:
    """Accuracy at K = 1..M averaged over all size-K subsets of a pool with these counts.

    Σ over count vectors of Π C(m_y, k_y) / C(M, K), restricted to votes the correct answer wins, is a
    coefficient of Σ_c C(m*, c) x^c · Π_j T_c(x) · (1+x)^{rest}, where T_c truncates (1+x)^{m_j} at degree
    c and weights its degree-c term by the tie variable u (integrated exactly by Gauss-Legendre).
    """
    m_total = correct + sum(wrong) + abstain
    num = np.zeros(m_total + 1)
    for c in range(1, correct + 1):
        n = m_total - c
        competing = [m for m in wrong if m >= c]
        rest = abstain + sum(m for m in wrong if m < c)
        t_max = min(len(competing), n // c)
        u, wts = _gauss01(t_max // 2 + 1)
        acc = np.repeat(_binomial_row(rest, n + 1)[None, :], u.size, axis=0)
        for m in competing:
            top = min(c, n)
            ker = np.repeat(_binomial_row(m, top + 1)[None, :], u.size, axis=0)
            if top == c:
                ker[:, c] *= u
            acc = np.stack([np.convolve(a, q)[: n + 1] for a, q in zip(acc, ker, strict=True)])
        num[c:] += special.comb(correct, c) * (wts @ acc)
    k = np.arange(1, m_total + 1)
    curve = np.clip(num[1:] / special.comb(m_total, k), 0.0, 1.0)
    curve.flags.writeable = False
    return curve


def subset_vote_accuracy(counts: ItemCounts, k: ArrayLike) -> FloatArray:
    """Exact Vote accuracy at each K ≤ M, averaged over all size-K subsets of one item's pool.

    >>> subset_vote_accuracy(ItemCounts(2, (1,), 1), [1, 2, 3, 4]).round(4).tolist()
    [0.5, 0.6667, 0.75, 1.0]
    """
    ks = np.atleast_1d(np.asarray(k)).astype(int)
    if counts.n > MAX_POOL:
        raise ValueError(f"pools larger than {MAX_POOL} samples per item are not supported")
    if np.any(ks < 1) or np.any(ks > counts.n):
        raise ValueError(f"K must lie in 1..{counts.n}")
    if counts.correct == 0:
        return np.zeros(ks.shape)
    return np.asarray(_subset_curve(counts.correct, counts.wrong, counts.abstain)[ks - 1], dtype=float)


def subset_vote_curves(counts: Sequence[ItemCounts], k: ArrayLike) -> FloatArray:
    """Per-item exact subset-averaged accuracy, shape (items, len(k)).

    >>> subset_vote_curves([ItemCounts(2, (1,)), ItemCounts(0, (3,))], [1, 3]).round(4).tolist()
    [[0.6667, 1.0], [0.0, 0.0]]
    """
    ks = np.atleast_1d(np.asarray(k)).astype(int)
    return np.array([subset_vote_accuracy(c, ks) for c in counts], dtype=float).reshape(len(counts), ks.size)


def pool_vote_curve(
    pool: Sequence[PoolItem] | Sequence[ItemCounts], k: ArrayLike, normalize: Normalizer | None = None
) -> FloatArray:
    """Task accuracy of Vote at each K: the item average of the exact subset-averaged accuracy.

    >>> pool = [PoolItem("a", "x", ("x", "x", "y")), PoolItem("b", "x", ("y", "x", "z"))]
    >>> pool_vote_curve(pool, [1, 2, 3]).round(4).tolist()
    [0.5, 0.5, 0.6667]
    """
    counts = [p if isinstance(p, ItemCounts) else item_counts(p.answers, p.gold, normalize) for p in pool]
    return np.asarray(subset_vote_curves(counts, k).mean(axis=0), dtype=float)


# --------------------------------------------------------------------------------------------------
# pass@k and coverage
# --------------------------------------------------------------------------------------------------


def pass_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> FloatArray:
    """Unbiased pass@k = 1 − C(n−c, k)/C(n, k) from n samples with c correct (broadcasts).

    >>> pass_at_k(10, 3, [1, 2, 8]).round(4).tolist()
    [0.3, 0.5333, 1.0]
    """
    nn, cc, kk = (np.asarray(x) for x in np.broadcast_arrays(n, c, k))
    if np.any(cc < 0) or np.any(cc > nn) or np.any(kk < 1) or np.any(kk > nn):
        raise ValueError("need 0 ≤ c ≤ n and 1 ≤ k ≤ n")
    # C(n−c, k)/C(n, k) is symmetric in (c, k): Π_{i<m} (n−big−i)/(n−i) with m = min(c, k), big = max(c, k),
    # accumulated as a sum of log1p terms so that it stays accurate for large n.
    small = np.minimum(cc, kk).astype(int)
    big = np.maximum(cc, kk).astype(float)
    nf = nn.astype(float)
    possible = nf - big >= small
    log_ratio = np.zeros(np.shape(small))
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(int(small.max(initial=0))):
            active = (i < small) & possible
            log_ratio += np.where(active, np.log1p(-big / np.maximum(nf - i, 1.0)), 0.0)
    return np.asarray(np.where(possible, -np.expm1(log_ratio), 1.0), dtype=float)


def coverage_curve(counts: Sequence[ItemCounts], k: ArrayLike) -> FloatArray:
    """Coverage at each k: the item average of unbiased pass@k.

    >>> coverage_curve([ItemCounts(1, (3,)), ItemCounts(0, (4,))], [1, 4]).round(6).tolist()
    [0.125, 0.5]
    """
    ks = np.atleast_1d(np.asarray(k)).astype(int)
    n = np.array([c.n for c in counts])[:, None]
    c = np.array([c.correct for c in counts])[:, None]
    return np.asarray(pass_at_k(n, c, ks[None, :]).mean(axis=0), dtype=float)


# --------------------------------------------------------------------------------------------------
# Answer distribution from one logprobs call
# --------------------------------------------------------------------------------------------------


def _strip(token: str) -> str | None:
    text = token.strip()
    return text or None


def distribution_from_logprobs(
    top_logprobs: Mapping[str, float] | Sequence[tuple[str, float]],
    gold: str,
    *,
    temperature: float = 1.0,
    normalize: Normalizer = _strip,
) -> AnswerDistribution:
    """Answer distribution at a temperature from the top logprobs of one single-token answer.

    p(token) ∝ exp(logprob / T), renormalised over the listed tokens; tokens are mapped to answers by
    ``normalize`` (default: strip whitespace), tokens mapping to the same answer pool their mass, and
    mass on tokens that are not answers (``normalize`` returns ``None``) becomes abstain. T = 0 puts all
    mass on the most likely token(s).

    >>> letter = lambda t: t.strip() if t.strip() in {"A", "B", "C", "D"} else None
    >>> d = distribution_from_logprobs({" A": -0.2, "A": -3.0, " B": -1.9, ".": -4.0}, "A", normalize=letter)
    >>> round(d.p_correct, 3), d.wrong_answers, round(d.p_abstain, 3)
    (0.838, ('B',), 0.018)
    """
    pairs = list(top_logprobs.items()) if isinstance(top_logprobs, Mapping) else list(top_logprobs)
    if not pairs:
        raise ValueError("no logprobs")
    if temperature < 0:
        raise ValueError("temperature must be ≥ 0")
    lps = np.array([lp for _, lp in pairs], dtype=float)
    if temperature == 0:
        weights = (lps == lps.max()).astype(float)
    else:
        scaled = lps / temperature
        weights = np.exp(scaled - scaled.max())
    weights /= weights.sum()
    mass: dict[str | None, float] = {}
    for (token, _), wt in zip(pairs, weights, strict=True):
        answer = normalize(token)
        mass[answer] = mass.get(answer, 0.0) + float(wt)
    correct = mass.pop(gold, 0.0)
    abstain = mass.pop(None, 0.0)
    wrong = sorted(((a, m) for a, m in mass.items() if a is not None and m > 0), key=lambda am: -am[1])
    total = correct + abstain + sum(m for _, m in wrong)
    return AnswerDistribution(
        correct / total, tuple(m / total for _, m in wrong), abstain / total, 0.0, tuple(a for a, _ in wrong)
    )


# --------------------------------------------------------------------------------------------------
# Reading pools
# --------------------------------------------------------------------------------------------------


def read_pool_jsonl(path: str | Path) -> list[PoolItem]:
    """Read a pool from JSONL lines ``{"id": ..., "gold": ..., "answers": [... or null]}``.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    ...     _ = f.write('{"id": 1, "gold": "4", "answers": ["4", null, "5"]}\\n')
    >>> read_pool_jsonl(f.name)[0]
    PoolItem(id='1', gold='4', answers=('4', None, '5'))
    >>> os.unlink(f.name)
    """
    items: list[PoolItem] = []
    with Path(path).open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                answers = tuple(None if a is None else str(a) for a in row["answers"])
                items.append(PoolItem(str(row["id"]), str(row["gold"]), answers))
            except (KeyError, TypeError, json.JSONDecodeError) as exc:
                raise ValueError(f"{path}:{line_no}: expected {{'id', 'gold', 'answers'}}: {exc}") from exc
    return items
