"""Budget arithmetic: counting, enumerating and sampling configurations within a budget, exactly.

This module works on plain numbers — ``option_costs[i][j]``, the cost of option ``j`` of stage ``i`` —
and knows nothing of stages or models: the cost models that price a stage's options live with the
space (:mod:`callscale.search.space`), the formulas themselves in :mod:`callscale.costs`.

Costs are exact :class:`fractions.Fraction` values so that "within budget" never depends on rounding.
Counting is a dynamic programme over stages (memoised on the remaining budget, the last stage
answered by bisection); enumeration is a pruned depth-first generator; sampling is exactly uniform.

Example:
    >>> count_within([[1, 2, 3], [1, 2]], 4)
    5
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

Number = int | float | Fraction


def as_fraction(value: Number) -> Fraction:
    """Exact rational form of a budget or cost (floats convert exactly).

    Example:
        >>> as_fraction(0.5)
        Fraction(1, 2)
    """
    return value if isinstance(value, Fraction) else Fraction(value)


# ---------------------------------------------------------------------------------------------
# Counting, enumeration and uniform sampling over per-stage option costs.
# ``option_costs[i][j]`` is the cost of option ``j`` of stage ``i``; a configuration is a tuple of
# option indices, one per stage, and it is within budget when its costs sum to at most ``budget``.


class _Options:
    """Sorted per-stage costs with their original indices, and suffix minima for pruning."""

    def __init__(self, option_costs: Sequence[Sequence[Number]]) -> None:
        if not option_costs:
            raise ValueError("need at least one stage")
        self.order: list[list[int]] = []
        self.costs: list[list[Fraction]] = []
        for costs in option_costs:
            exact = [as_fraction(c) for c in costs]
            if not exact:
                raise ValueError("every stage needs at least one option")
            order = sorted(range(len(exact)), key=lambda j, e=exact: (e[j], j))  # type: ignore[misc]
            self.order.append(order)
            self.costs.append([exact[j] for j in order])
        n = len(self.costs)
        self.suffix_min = [Fraction(0)] * (n + 1)
        for i in range(n - 1, -1, -1):
            self.suffix_min[i] = self.suffix_min[i + 1] + self.costs[i][0]

    def suffix_counter(self) -> _SuffixCount:
        return _SuffixCount(self)


class _SuffixCount:
    """``count(i, r)``: configurations of stages ``i..n−1`` whose cost is at most ``r``."""

    def __init__(self, options: _Options) -> None:
        self.options = options
        self.count = lru_cache(maxsize=None)(self._count)

    def __getstate__(self) -> dict[str, Any]:  # the cache is rebuilt where it is unpickled (e.g. a Ray task)
        return {"options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["options"])  # type: ignore[misc]

    def _count(self, i: int, remaining: Fraction) -> int:
        costs = self.options.costs
        if remaining < self.options.suffix_min[i]:
            return 0
        if i == len(costs) - 1:
            return bisect.bisect_right(costs[i], remaining)
        total = 0
        floor = self.options.suffix_min[i + 1]
        for c in costs[i]:
            if c + floor > remaining:
                break
            total += self.count(i + 1, remaining - c)
        return total


def count_within(option_costs: Sequence[Sequence[Number]], budget: Number) -> int:
    """Exact number of configurations whose total cost is at most ``budget`` (dynamic programme).

    Example:
        >>> count_within([[1, 2], [1, 2], [1, 2]], 4)
        4
    """
    options = _Options(option_costs)
    return options.suffix_counter().count(0, as_fraction(budget))


def count_within_brute_force(option_costs: Sequence[Sequence[Number]], budget: Number) -> int:
    """Reference count by trying every combination (for tests; exponential in stages).

    Example:
        >>> count_within_brute_force([[1, 2], [1, 2], [1, 2]], 4)
        4
    """
    limit = as_fraction(budget)
    exact = [[as_fraction(c) for c in costs] for costs in option_costs]
    return sum(1 for combo in itertools.product(*exact) if sum(combo, Fraction(0)) <= limit)


def enumerate_within(option_costs: Sequence[Sequence[Number]], budget: Number) -> Iterator[tuple[int, ...]]:
    """Yield every within-budget configuration as a tuple of option indices (lexicographic by index).

    Example:
        >>> list(enumerate_within([[1, 2], [1, 5]], 4))
        [(0, 0), (1, 0)]
    """
    exact = [[as_fraction(c) for c in costs] for costs in option_costs]
    options = _Options(exact)
    limit = as_fraction(budget)
    n = len(exact)
    prefix: list[int] = []

    def walk(i: int, remaining: Fraction) -> Iterator[tuple[int, ...]]:
        floor = options.suffix_min[i + 1]
        for j, c in enumerate(exact[i]):
            if c + floor > remaining:
                continue
            prefix.append(j)
            if i == n - 1:
                yield tuple(prefix)
            else:
                yield from walk(i + 1, remaining - c)
            prefix.pop()

    if limit >= options.suffix_min[0]:
        yield from walk(0, limit)


class FeasibleSampler:
    """Uniform sampler over the configurations within ``budget`` (build once, draw many times).

    Example:
        >>> sampler = FeasibleSampler([[1, 2], [1, 5]], 4)
        >>> sampler.count, sorted(set(sampler.sample(random.Random(0), 20)))
        (2, [(0, 0), (1, 0)])
    """

    def __init__(self, option_costs: Sequence[Sequence[Number]], budget: Number) -> None:
        self._options = _Options(option_costs)
        self._counter = self._options.suffix_counter()
        self._limit = as_fraction(budget)
        self._cache: dict[tuple[int, Fraction], list[int]] = {}
        self.count = self._counter.count(0, self._limit)

    def sample(self, rng: random.Random, k: int = 1) -> list[tuple[int, ...]]:
        """``k`` draws (with replacement) as tuples of option indices; ``[]`` when nothing fits."""
        if self.count == 0:
            return []
        options = self._options
        n = len(options.costs)
        out = []
        for _ in range(k):
            remaining = self._limit
            picked: list[int] = []
            for i in range(n):
                if i == n - 1:  # every option within the remaining budget is equally likely
                    pos = rng.randrange(bisect.bisect_right(options.costs[i], remaining))
                else:
                    cumulative = self._cumulative(i, remaining)
                    pos = bisect.bisect_right(cumulative, rng.randrange(cumulative[-1]))
                picked.append(options.order[i][pos])
                remaining -= options.costs[i][pos]
            out.append(tuple(picked))
        return out

    def _cumulative(self, i: int, remaining: Fraction) -> list[int]:
        key = (i, remaining)
        cached = self._cache.get(key)
        if cached is None:
            total = 0
            cached = []
            for c in self._options.costs[i]:
                if c <= remaining:
                    total += self._counter.count(i + 1, remaining - c)
                cached.append(total)
            self._cache[key] = cached
        return cached
