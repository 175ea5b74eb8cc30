"""Active sampling: where N further samples narrow the predicted vote curve the most.

An item's vote at large K goes to its most likely answer, so what the predicted curve does far out
depends on which of two answers leads: the correct one (share p) or the strongest wrong one (share w).
An item whose samples leave that undecided (p ≈ w, few samples) moves the curve; one that is clearly
right or clearly wrong does not, however few samples it has. Per item, the share ``r = p / (p + w)``
has the Beta posterior ``Beta(c + ½, w₁ + ½)`` (correct count c, count of the strongest wrong answer
w₁; Jeffreys prior), the item's vote accuracy at odd K is ``I_r((K+1)/2, (K+1)/2)``, and its
*uncertainty* at K is the posterior variance of that accuracy (for K → ∞: P(r > ½)·P(r < ½), the
chance that the vote's winner is still open). ``m`` more samples shrink it roughly by
``s / (s + m)`` (s = c + w₁ + 1: the posterior's weight), so the gain of one more sample is
``var · s / ((s + m)(s + m + 1))``: uncertain items first, and less for items that already have many.

:func:`targeted_plan` hands N samples out greedily by that gain (never beyond ``cap`` samples per item);
:func:`uniform_plan` spreads them evenly, for comparison; :func:`sample_in_rounds` spends N in rounds
(:func:`round_sizes`, 10 % of N each), drawing each round's samples and re-scoring the items on their
new counts before the next (dynamic sampling, as in Kazdan et al. 2025, "Efficient prediction of
pass@k scaling"). Other wrong answers and abstentions are ignored by the score (they rarely decide
who leads); everything is deterministic, so the same counts give the same plan.

Example:
    >>> from callscale.scaling.estimate import ItemCounts
    >>> counts = [ItemCounts(8), ItemCounts(0, (8,)), ItemCounts(4, (4,)), ItemCounts(2, (3,))]
    >>> plan = targeted_plan(counts, 12, ids=["easy", "hard", "tied", "open"])
    >>> plan, sum(plan.values())
    ({'tied': 6, 'open': 6}, 12)
    >>> uniform_plan(counts, 7, ids=["easy", "hard", "tied", "open"])
    {'easy': 1, 'hard': 1, 'tied': 1, 'open': 4}
    >>> round_sizes(25)
    [2, 3, 3, 2, 2, 3, 3, 2, 2, 3]
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import special, stats

from callscale.scaling.estimate import ItemCounts

__all__ = [
    "DEFAULT_KS",
    "ROUND_SHARE",
    "item_uncertainty",
    "round_sizes",
    "sample_in_rounds",
    "target_ks",
    "targeted_plan",
    "uniform_plan",
]

DEFAULT_KS: tuple[int, ...] = (31, 101, 1001)
"""The K whose per-item uncertainty the score averages when no target is given: the large-K end."""
ROUND_SHARE = 0.1
"""The share of N drawn per round by :func:`sample_in_rounds`."""
_GRID = 64
"""Posterior quantiles per item over which the variance is taken (deterministic, no random draws)."""

Plan = dict[str, int]


def target_ks(lo: int, hi: int, points: int = 4) -> tuple[int, ...]:
    """Odd K spread log-evenly over ``lo … hi`` (e.g. a best-K interval): the K a plan narrows.

    >>> target_ks(7, 1000)
    (7, 37, 191, 1001)
    >>> target_ks(32, 32)
    (33,)
    """
    lo, hi = max(1, int(lo)), max(1, int(hi), int(lo))
    ks = np.geomspace(lo, hi, points) if hi > lo else np.array([lo])
    return tuple(sorted({int(k) | 1 for k in np.rint(ks)}))


def item_uncertainty(counts: Sequence[ItemCounts], ks: Sequence[int] = DEFAULT_KS) -> np.ndarray:
    """Each item's posterior variance of its vote accuracy, averaged over ``ks`` (see module docstring).

    >>> item_uncertainty([ItemCounts(5, (5,)), ItemCounts(10), ItemCounts(0, (1,))], [1001]).round(3).tolist()
    [0.227, 0.0, 0.143]
    """
    c = np.array([x.correct for x in counts], dtype=float)
    w = np.array([x.max_wrong for x in counts], dtype=float)
    levels = (np.arange(_GRID) + 0.5) / _GRID
    r = stats.beta.ppf(levels[None, :], c[:, None] + 0.5, w[:, None] + 0.5)  # items × grid
    out = np.zeros(len(counts))
    for k in ks:
        h = (int(k) | 1) / 2.0 + 0.5  # (K+1)/2 for the odd K at or above k
        out += special.betainc(h, h, r).var(axis=1)
    return out / max(1, len(ks))


def _room(counts: Sequence[ItemCounts], n: int, cap: int | None, have: Sequence[int] | None) -> list[int]:
    """How many more samples each item may get (``cap`` total per item; ``None``: no cap); checks ``n``."""
    if n < 0:
        raise ValueError(f"the number of further samples must be ≥ 0, got {n}")
    sizes = [x.n for x in counts] if have is None else list(have)
    room = [n if cap is None else max(0, cap - s) for s in sizes]
    if sum(room) < n:
        raise ValueError(f"{n} further samples do not fit under the cap of {cap} per item (room for {sum(room)})")
    return room


def _ids(counts: Sequence[ItemCounts], ids: Sequence[str] | None) -> list[str]:
    if ids is None:
        return [str(i) for i in range(len(counts))]
    if len(ids) != len(counts):
        raise ValueError(f"{len(ids)} ids for {len(counts)} items")
    return list(ids)


def targeted_plan(counts: Sequence[ItemCounts], n: int, *, ids: Sequence[str] | None = None,
                  ks: Sequence[int] = DEFAULT_KS, cap: int | None = None,
                  have: Sequence[int] | None = None) -> Plan:
    """``{item id: further samples}`` spending exactly ``n``, greedily by the expected narrowing of the
    curve at ``ks`` (module docstring); never beyond ``cap`` samples per item (``have``: the items'
    current pool sizes, default their counts' ``n``). Items the score cannot tell apart (e.g. every
    item certain) share what is left evenly, the least-sampled first."""
    names = _ids(counts, ids)
    room = _room(counts, n, cap, have)
    sizes = [x.n for x in counts] if have is None else list(have)
    var = item_uncertainty(counts, ks) if counts else np.zeros(0)
    weight = [x.correct + x.max_wrong + 1.0 for x in counts]

    def gain(i: int, m: int) -> float:
        s = weight[i]
        return float(var[i]) * s / ((s + m) * (s + m + 1))

    extra = [0] * len(counts)
    heap = [(-gain(i, 0), sizes[i], i) for i in range(len(counts)) if room[i] > 0]
    heapq.heapify(heap)
    for _ in range(n):
        _, size, i = heapq.heappop(heap)
        extra[i] += 1
        if extra[i] < room[i]:
            heapq.heappush(heap, (-gain(i, extra[i]), size + 1, i))
    return {names[i]: m for i, m in enumerate(extra) if m}


def uniform_plan(counts: Sequence[ItemCounts], n: int, *, ids: Sequence[str] | None = None,
                 cap: int | None = None, have: Sequence[int] | None = None) -> Plan:
    """``{item id: further samples}`` spending exactly ``n`` evenly over the items (the least-sampled,
    then the first, get the remainder), never beyond ``cap`` samples per item."""
    names = _ids(counts, ids)
    room = _room(counts, n, cap, have)
    sizes = [x.n for x in counts] if have is None else list(have)
    extra = [0] * len(counts)
    heap = [(sizes[i], i) for i in range(len(counts)) if room[i] > 0]
    heapq.heapify(heap)
    for _ in range(n):
        size, i = heapq.heappop(heap)
        extra[i] += 1
        if extra[i] < room[i]:
            heapq.heappush(heap, (size + 1, i))
    return {names[i]: m for i, m in enumerate(extra) if m}


def round_sizes(n: int, share: float = ROUND_SHARE) -> list[int]:
    """``n`` split into rounds of about ``share · n`` each (at least 1 per round; they sum to ``n``)."""
    if n <= 0:
        return []
    rounds = max(1, min(n, math.ceil(1.0 / share)))
    edges = np.rint(np.linspace(0, n, rounds + 1)).astype(int)
    return [int(d) for d in np.diff(edges)]


def sample_in_rounds(counts: Sequence[ItemCounts], n: int, draw: Callable[[Plan], Sequence[ItemCounts]], *,
                     ids: Sequence[str] | None = None, ks: Sequence[int] = DEFAULT_KS, cap: int | None = None,
                     have: Sequence[int] | None = None, share: float = ROUND_SHARE) -> Plan:
    """Spend ``n`` further samples in rounds (:func:`round_sizes`): each round's :func:`targeted_plan` on
    the current counts, then ``draw(plan)`` draws them and returns every item's counts afterwards.
    Returns the total plan ``{item id: further samples}`` (it sums to ``n``).

    >>> pools = {"a": [1, 0] * 8, "b": [1] * 16}
    >>> seen = {"a": 2, "b": 2}
    >>> def counts_of(i): return ItemCounts(sum(pools[i][: seen[i]]), (seen[i] - sum(pools[i][: seen[i]]),)
    ...                                     if seen[i] > sum(pools[i][: seen[i]]) else ())
    >>> def draw(plan):
    ...     for i, m in plan.items():
    ...         seen[i] += m
    ...     return [counts_of(i) for i in "ab"]
    >>> sample_in_rounds([counts_of(i) for i in "ab"], 10, draw, ids=["a", "b"], cap=16)
    {'a': 9, 'b': 1}
    """
    names = _ids(counts, ids)
    sizes = [x.n for x in counts] if have is None else list(have)
    _room(counts, n, cap, sizes)
    total = dict.fromkeys(names, 0)
    current = list(counts)
    for size in round_sizes(n, share):
        plan = targeted_plan(current, size, ids=names, ks=ks, cap=cap, have=sizes)
        current = list(draw(plan))
        for i, name in enumerate(names):
            sizes[i] += plan.get(name, 0)
            total[name] += plan.get(name, 0)
    return {k: v for k, v in total.items() if v}
