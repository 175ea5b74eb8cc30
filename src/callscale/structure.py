"""Declared call structure: what a network costs as a function of its size parameters.

Every primitive declares its calls and tokens with plain arithmetic on its parameters, so the same
declaration evaluates to numbers (to check against the ledger) or to sympy expressions (to derive
growth symbolically) — sympy is never imported here.

Example:
    >>> g = Cost.of("m", calls=3, prompt_tokens=30, completion_tokens=6)
    >>> (g + g).calls, (g + g).depth, g.parallel(g).depth
    (6, 2, 1)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from callscale.costs import primitive_cost

Expr = Any  # an int, a float, or a sympy expression


def is_symbolic(*values: Expr) -> bool:
    """Whether any value is a sympy expression."""
    return any(hasattr(v, "free_symbols") for v in values)


def smax(*values: Expr) -> Expr:
    """``max`` that also works on sympy expressions."""
    if is_symbolic(*values):
        import sympy

        return sympy.Max(*values)
    return max(values)


def sceil(value: Expr) -> Expr:
    """``ceil`` that also works on sympy expressions."""
    if is_symbolic(value):
        import sympy

        return sympy.ceiling(value)
    return math.ceil(value)


def slog(value: Expr, base: Expr) -> Expr:
    """``log(value, base)`` that also works on sympy expressions."""
    if is_symbolic(value, base):
        import sympy

        return sympy.log(value, base)
    return math.log(value, base)


def ceil_log(value: int, base: int) -> int:
    """Smallest d with base**d >= value (exact integer arithmetic), for numbers only.

    Example:
        >>> ceil_log(9, 3), ceil_log(10, 3), ceil_log(1, 2)
        (2, 3, 0)
    """
    depth, reach = 0, 1
    while reach < value:
        reach *= base
        depth += 1
    return depth


@dataclass(frozen=True)
class CallGroup:
    """``calls`` calls to ``model`` reading ``prompt_tokens`` and writing ``completion_tokens`` in all."""

    model: str
    calls: Expr = 0
    prompt_tokens: Expr = 0
    completion_tokens: Expr = 0


@dataclass(frozen=True)
class Cost:
    """Call groups plus the critical-path depth (longest chain of dependent calls)."""

    groups: tuple[CallGroup, ...] = ()
    depth: Expr = 0

    @classmethod
    def of(cls, model: str, *, calls: Expr, prompt_tokens: Expr = 0, completion_tokens: Expr = 0,
           depth: Expr = 1) -> Cost:
        """One group of calls with the given depth."""
        return cls((CallGroup(model, calls, prompt_tokens, completion_tokens),), depth)

    def __add__(self, other: Cost) -> Cost:
        """Sequential composition: costs add, depths add."""
        return Cost(self.groups + other.groups, self.depth + other.depth)

    def parallel(self, other: Cost) -> Cost:
        """Parallel composition: costs add, depth is the larger."""
        return Cost(self.groups + other.groups, smax(self.depth, other.depth))

    def times(self, factor: Expr) -> Cost:
        """``factor`` independent copies run in parallel."""
        return Cost(tuple(CallGroup(g.model, g.calls * factor, g.prompt_tokens * factor, g.completion_tokens * factor)
                          for g in self.groups), self.depth)

    @property
    def calls(self) -> Expr:
        return sum((g.calls for g in self.groups), 0)

    @property
    def tokens(self) -> Expr:
        return sum((g.prompt_tokens + g.completion_tokens for g in self.groups), 0)

    @property
    def prompt_tokens(self) -> Expr:
        return sum((g.prompt_tokens for g in self.groups), 0)

    @property
    def completion_tokens(self) -> Expr:
        return sum((g.completion_tokens for g in self.groups), 0)

    def primitive_cost(self, params: Mapping[str, Expr]) -> Expr:
        """Σ m·n over groups, with ``params`` giving each model's size m."""
        return sum((primitive_cost(params[g.model], g.prompt_tokens, g.completion_tokens) for g in self.groups), 0)

    def by_model(self) -> dict[str, CallGroup]:
        """Groups merged per model."""
        out: dict[str, CallGroup] = {}
        for g in self.groups:
            o = out.get(g.model, CallGroup(g.model))
            out[g.model] = CallGroup(g.model, o.calls + g.calls, o.prompt_tokens + g.prompt_tokens,
                                     o.completion_tokens + g.completion_tokens)
        return out


def total(costs: Iterable[Cost]) -> Cost:
    """Parallel composition of many costs."""
    out = Cost()
    for c in costs:
        out = out.parallel(c)
    return out
