"""Symbolic cost of a decomposition and its leading Θ term (Meyerson & Qiu's LLM primitives).

A decomposition declares its calls as a :class:`~callscale.structure.Cost` whose values are
numbers or sympy expressions in its size parameters. From it this module derives, per item:

* ``calls``, ``prompt_tokens``, ``completion_tokens``, ``tokens`` and ``depth``;
* ``primitive`` — Σ m·n with n the tokens a call reads and writes (the ledger's m·n: one pass
  over everything a call touches);
* ``passes`` — the paper's cost, where every forward pass is a primitive: a call reading P tokens
  and writing T ≥ 1 makes T passes over P, P+1, …, P+T−1 tokens, costing m·(T·P + T(T−1)/2). A
  call group's totals give it exactly when all calls of the group write the same number of tokens
  (the declarations in :mod:`callscale.asymptotic.examples` are written that way). This is the
  measure under which the paper's debugging and evolution gains hold: writing n tokens costs Θ(m·n²).

:func:`theta` keeps the dominant terms as the size variables grow (polynomial, logarithmic and
exponential factors, in every variable at once: a term stays when no other term grows at least as
fast in every variable and strictly faster in one), and :func:`growth` classifies the growth in one
variable with the others fixed. Other symbols (model sizes) are positive constants. sympy is
imported lazily: only the symbolic side needs it.

Example:
    >>> import sympy
    >>> k, l, m = sympy.symbols("k l m", positive=True)
    >>> theta(m * (2**k * k**2 * l**2 + k * l), [k, l]).expr
    2**k*k**2*l**2*m
    >>> growth(k**2 * sympy.log(k) + 3 * k, k).label("k")
    'k^2 log k'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from callscale.costs import METRICS, group_passes
from callscale.structure import CallGroup, Cost, Expr, is_symbolic


# -- growth classes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Growth:
    """Growth ``base**n · n**power · (log n)**log_power`` of a function of one size n.

    Ordered by (base, power, log_power), which is the asymptotic order of such functions.

    Example:
        >>> Growth(power=1, log_power=1).label(), Growth(base=2, power=1).label("k")
        ('n log n', 'k·2^k')
        >>> Growth(power=2) > Growth(power=1, log_power=5)
        True
    """

    base: float = 1.0
    power: float = 0.0
    log_power: float = 0.0

    def key(self) -> tuple[float, float, float]:
        """Sort key: bigger grows faster."""
        return (round(self.base, 9), round(self.power, 9), round(self.log_power, 9))

    def __lt__(self, other: Growth) -> bool:
        return self.key() < other.key()

    def __gt__(self, other: Growth) -> bool:
        return self.key() > other.key()

    def same(self, other: Growth) -> bool:
        """Whether both are the same class (up to rounding)."""
        return self.key() == other.key()

    def __truediv__(self, other: Growth) -> Growth:
        return Growth(self.base / other.base, self.power - other.power, self.log_power - other.log_power)

    @property
    def exponential(self) -> bool:
        """Whether the growth has an exponential factor (base ≠ 1)."""
        return abs(self.base - 1.0) > 1e-12

    def log_value(self, n: Any) -> Any:
        """Natural log of the class function at ``n`` (numbers or numpy arrays, n > 1 for log classes).

        Example:
            >>> round(float(Growth(base=2, power=1).log_value(3)), 6) == round(math.log(3 * 8), 6)
            True
        """
        import numpy as np

        x = np.asarray(n, dtype=float)
        out = x * math.log(self.base) + self.power * np.log(x)
        if self.log_power:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = out + self.log_power * np.log(np.log(x))
        return out

    def label(self, var: str = "n") -> str:
        """Readable form: ``1``, ``log n``, ``n^2``, ``2^n``, ``n·2^n``, ``n^1.5 log^2 n``."""
        parts: list[str] = []
        if self.power:
            parts.append(var if self.power == 1 else f"{var}^{_num(self.power)}")
        if self.log_power:
            parts.append(f"log {var}" if self.log_power == 1 else f"log^{_num(self.log_power)} {var}")
        text = " ".join(parts)
        if self.exponential:
            exp = f"{_num(self.base)}^{var}"
            text = f"{text}·{exp}" if text else exp
        return text or "1"

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "power": self.power, "log_power": self.log_power, "label": self.label()}


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Theta:
    """The leading term(s) of an expression as its size variables grow, and its growth per variable.

    ``expr`` keeps the coefficients (model sizes and constants): ``Θ(expr)``.
    """

    expr: Any
    growth: Mapping[str, Growth] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"Θ({self.expr})"

    def label(self, var: str) -> str:
        """Growth class in ``var`` with the other variables fixed (e.g. ``k^2``; ``1`` when it does not appear)."""
        return self.growth.get(var, Growth()).label(var)

    def to_dict(self) -> dict[str, Any]:
        return {"theta": str(self), "growth": {v: g.label(v) for v, g in self.growth.items()}}


# -- expressions ---------------------------------------------------------------------------------
def sympy_available() -> bool:
    """Whether the optional symbolic side can run (sympy importable).

    Example:
        >>> sympy_available()
        True
    """
    try:
        import sympy  # noqa: F401
    except ImportError:
        return False
    return True


def size_symbol(name: str) -> Any:
    """A size parameter: a positive integer symbol.

    Example:
        >>> size_symbol("k").is_integer
        True
    """
    import sympy

    return sympy.Symbol(name, positive=True, integer=True)


def constant_symbol(name: str) -> Any:
    """A positive constant such as a model size ``m_s``.

    Example:
        >>> constant_symbol("m_s").is_positive, constant_symbol("m_s").is_integer
        (True, None)
    """
    import sympy

    return sympy.Symbol(name, positive=True)


def _tame(expr: Any) -> Any:
    """Θ-equivalent form without ceilings, floors or maxima (all arguments are non-negative sizes)."""
    import sympy

    expr = sympy.sympify(expr)
    expr = expr.replace(lambda e: isinstance(e, sympy.ceiling | sympy.floor), lambda e: e.args[0])
    expr = expr.replace(lambda e: isinstance(e, sympy.Max), lambda e: sympy.Add(*e.args))
    return sympy.expand_log(expr, force=True)


def tidy(expr: Expr) -> Any:
    """A cheap normal form for display: cancelled rational form with common factors pulled out.

    Example:
        >>> import sympy
        >>> k = sympy.Symbol("k", positive=True)
        >>> tidy((k**2 + k) / k)
        k + 1
    """
    import sympy

    e = sympy.sympify(expr)
    if not e.free_symbols:
        return e
    return sympy.factor_terms(sympy.cancel(e))


def _terms(expr: Any) -> list[Any]:
    import sympy

    return [t for t in sympy.Add.make_args(sympy.expand(expr)) if t != 0]


def _term_growth(term: Any, x: Any) -> Growth | None:
    """Growth of one product term in ``x`` (others constant), or None when it is not of the standard form."""
    import sympy

    base, power, log_power = 1.0, 0.0, 0.0
    for f in sympy.Mul.make_args(term):
        if x not in f.free_symbols:
            continue
        if f == x:
            power += 1
        elif f.is_Pow and f.base == x and f.exp.is_number:
            power += float(f.exp)
        elif isinstance(f, sympy.log) and f.args[0] == x:
            log_power += 1
        elif f.is_Pow and isinstance(f.base, sympy.log) and f.base.args[0] == x and f.exp.is_number:
            log_power += float(f.exp)
        elif (f.is_Pow and f.base.is_number and f.base.is_positive) or isinstance(f, sympy.exp):
            b, e = (sympy.E, f.args[0]) if isinstance(f, sympy.exp) else (f.base, f.exp)
            rate = sympy.expand(e).coeff(x, 1)
            rest = sympy.expand(e - rate * x)
            if not rate.is_number or x in rest.free_symbols:
                return None
            base *= float(b) ** float(rate)
        else:
            return None
    return Growth(base, power, log_power)


def _compare(a: Any, b: Any, x: Any) -> int:
    """−1, 0 or 1 as term ``a`` grows slower, as fast or faster than ``b`` in ``x``."""
    import sympy

    ga, gb = _term_growth(a, x), _term_growth(b, x)
    if ga is not None and gb is not None:
        return (ga.key() > gb.key()) - (ga.key() < gb.key())
    limit = sympy.limit(sympy.Abs(a / b), x, sympy.oo)
    if limit == 0:
        return -1
    if limit.is_infinite:
        return 1
    return 0


def _lead_in(expr: Any, x: Any) -> list[Any]:
    """The terms of a tamed, expanded expression that dominate in ``x``."""
    best: list[Any] = []
    for t in _terms(expr):
        if not best:
            best = [t]
            continue
        c = _compare(t, best[0], x)
        if c > 0:
            best = [t]
        elif c == 0:
            best.append(t)
    return best


_PRIMES = (37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


def _sign(expr: Any) -> int:
    """Sign of ``expr`` at a generic point where every symbol is a large, distinct number."""
    import sympy

    point = {s: _PRIMES[i % len(_PRIMES)] + i for i, s in enumerate(sorted(expr.free_symbols, key=str))}
    value = sympy.sympify(expr).evalf(subs=point)
    return -1 if value.is_negative else 1


def _split(expr: Any) -> tuple[Any, Any]:
    """Numerator and denominator, each oriented to be positive at large sizes."""
    import sympy

    num, den = sympy.fraction(sympy.together(_tame(expr)))
    return num * _sign(num), den * _sign(den)


def growth(expr: Expr, var: Any) -> Growth:
    """Growth class of ``expr`` in ``var`` as it → ∞, other symbols fixed (ratios allowed).

    Example:
        >>> import sympy
        >>> k, b = sympy.symbols("k b", positive=True)
        >>> growth(b**2 * k**2 / (k + b), k).label("k")
        'k'
    """
    import sympy

    x = sympy.Symbol(var, positive=True) if isinstance(var, str) else var
    x = _match_symbol(expr, x)
    num, den = _split(expr)

    def one(part: Any) -> Growth:
        lead = _lead_in(part, x)
        if not lead:
            return Growth()
        g = _term_growth(lead[0], x)
        if g is None:  # not a standard form: approximate the power from the limit of log f / log x
            p = sympy.limit(sympy.log(sympy.Abs(lead[0])) / sympy.log(x), x, sympy.oo)
            return Growth(power=float(p)) if p.is_finite else Growth(base=math.e)
        return g

    return one(num) / one(den)


def growth_in(expr: Any, vary: str) -> Growth:
    """Growth class of ``expr`` in ``vary`` (constant when it does not appear, e.g. a plain number).

    Example:
        >>> growth_in(3, "k").label("k"), growth_in(size_symbol("k") ** 2, "k").label("k")
        ('1', 'k^2')
    """
    if not any(s.name == vary for s in getattr(expr, "free_symbols", ())):
        return Growth()
    return growth(expr, vary)


def _match_symbol(expr: Any, x: Any) -> Any:
    """The symbol of ``expr`` with ``x``'s name (so a plain ``Symbol('k')`` finds ``k`` with assumptions)."""
    import sympy

    for s in sympy.sympify(expr).free_symbols:
        if s.name == x.name:
            return s
    return x


def leading_term(expr: Expr, var: Any) -> Any:
    """The dominant term(s) of ``expr`` as ``var`` → ∞ (others fixed), coefficients kept.

    Example:
        >>> import sympy
        >>> n, m = sympy.symbols("n m", positive=True)
        >>> leading_term(m * n**2 + 5 * n * sympy.log(n) + 7, n)
        m*n**2
    """
    import sympy

    x = _match_symbol(expr, sympy.Symbol(var, positive=True) if isinstance(var, str) else var)
    num, den = _split(expr)
    return tidy(sympy.Add(*_lead_in(num, x)) / sympy.Add(*_lead_in(den, x)))


def _frontier(expr: Any, xs: Sequence[Any]) -> Any:
    """Sum of the terms no other term dominates in every variable at once."""
    import sympy

    terms = _terms(expr)
    if not xs:
        return sympy.Add(*terms)

    def order(a: Any, b: Any) -> list[int]:
        return [_compare(a, b, x) for x in xs]

    # Θ of a positive function: its dominant positive terms (negative ones only lower it).
    positive = [t for t in terms if not t.as_coeff_Mul()[0].is_negative]
    terms = positive or [-t for t in terms]
    kept = []
    for t in terms:
        dominated = False
        for u in terms:
            if u is t:
                continue
            o = order(u, t)
            if all(c >= 0 for c in o) and any(c > 0 for c in o):
                dominated = True
                break
        if not dominated:
            kept.append(t)
    # Θ drops numeric factors; symbolic constants (model sizes) stay.
    return sympy.factor_terms(sympy.Add(*(t.as_coeff_Mul()[1] for t in kept)))


def theta(expr: Expr, variables: Iterable[Any] | None = None) -> Theta:
    """Leading term(s) of ``expr`` as all ``variables`` grow (default: all its symbols), and per-variable growth.

    A ratio is handled as Θ(numerator)/Θ(denominator).

    Example:
        >>> import sympy
        >>> b, k, l, mq, md = sympy.symbols("b k l m_q m_d", positive=True)
        >>> naive = mq * b**2 * k * l + md * b**2 * k**2 * l**2
        >>> str(theta(naive, [b, k, l]))
        'Θ(b**2*k**2*l**2*m_d)'
    """
    import sympy

    e = sympy.sympify(expr)
    names = [v if isinstance(v, str) else v.name for v in (variables if variables is not None else e.free_symbols)]
    xs = [_match_symbol(e, sympy.Symbol(n, positive=True)) for n in sorted(set(names))]
    num, den = _split(e)
    lead = tidy(_frontier(num, xs) / _frontier(den, xs))
    return Theta(lead, {x.name: growth(e, x) for x in xs if x in e.free_symbols})


# -- costs ---------------------------------------------------------------------------------------
def _exact(value: Any) -> Any:
    """Fractions that are integers become ints, others floats; sympy values pass through."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def passes_of(group: CallGroup) -> Expr:
    """Σ over the group's calls of T·P + T(T−1)/2 (forward passes weighted by context), from its totals.

    Exact when every call of the group writes the same number of tokens T ≥ 1.

    Example:
        >>> passes_of(CallGroup("m", calls=2, prompt_tokens=20, completion_tokens=6))  # 2 × (3·10 + 3)
        66
    """
    n, p, t = group.calls, group.prompt_tokens, group.completion_tokens
    if is_symbolic(n, p, t):
        import sympy

        return group_passes(sympy.sympify(n), sympy.sympify(p), sympy.sympify(t))
    return _exact(group_passes(n, p, t))


def measures(cost: Cost, params: Mapping[str, Expr]) -> dict[str, Expr]:
    """Every cost measure of :data:`METRICS` for ``cost``, with ``params`` giving each model's size.

    Works on numbers without sympy.

    Example:
        >>> c = Cost.of("m", calls=2, prompt_tokens=20, completion_tokens=6)
        >>> measures(c, {"m": 10})["passes"], measures(c, {"m": 10})["primitive"]
        (660, 260)
    """
    missing = [g.model for g in cost.groups if g.model not in params]
    if missing:
        raise KeyError(f"no model size for {sorted(set(missing))}")
    out: dict[str, Expr] = {
        "calls": cost.calls,
        "prompt_tokens": cost.prompt_tokens,
        "completion_tokens": cost.completion_tokens,
        "tokens": cost.tokens,
        "primitive": cost.primitive_cost(params),
        "passes": sum((params[g.model] * passes_of(g) for g in cost.groups), 0),
        "depth": cost.depth,
    }
    return {k: _exact(v) for k, v in out.items()}


@dataclass(frozen=True)
class SymbolicCost:
    """Every measure of a declared cost as a sympy expression; ``variables`` are the size parameters."""

    values: Mapping[str, Any]
    variables: tuple[str, ...]

    def __getitem__(self, metric: str) -> Any:
        if metric not in self.values:
            raise KeyError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        return self.values[metric]

    def theta(self, metric: str = "passes", variables: Iterable[str] | None = None) -> Theta:
        """Θ of one measure as the size variables grow."""
        return theta(self[metric], list(variables) if variables is not None else list(self.variables))

    def evaluate(self, values: Mapping[str, float], metric: str | None = None) -> dict[str, float]:
        """Numeric value of every measure (or one) at ``values`` (sizes and constants by name); without
        ``metric``, measures that still have unknown symbols are left out.

        Example:
            >>> import sympy
            >>> n = size_symbol("n")
            >>> s = symbolic_cost(Cost.of("m", calls=1, prompt_tokens=n, completion_tokens=1), {"m": 3})
            >>> s.evaluate({"n": 10}, "primitive")
            {'primitive': 33.0}
        """
        import sympy

        chosen = [metric] if metric else list(self.values)
        out = {}
        for name in chosen:
            expr = sympy.sympify(self[name])
            missing = sorted(s.name for s in expr.free_symbols if s.name not in values)
            if missing:
                if metric:
                    raise ValueError(f"{metric} needs values for {', '.join(missing)}")
                continue
            out[name] = float(expr.subs({s: values[s.name] for s in expr.free_symbols}))
        return out

    def to_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.values.items()}


def symbolic_cost(cost: Cost, params: Mapping[str, Expr] | None = None,
                  variables: Iterable[str] | None = None) -> SymbolicCost:
    """Measures of a declared ``cost`` as sympy expressions.

    ``params`` gives each model's size (numbers or expressions; default: a symbol ``m_<model>`` per
    model). ``variables`` defaults to the integer symbols (see :func:`size_symbol`) and the symbols
    of the call, token and depth counts (model sizes never appear there).

    Example:
        >>> from callscale.networks import vote_network
        >>> k = size_symbol("k")
        >>> s = symbolic_cost(vote_network("m", k=1).cost({"prompt": 10 * k, "answer": 2}))
        >>> s["passes"], s.variables
        (m_m*(20*k + 1), ('k',))
    """
    import sympy

    models = dict.fromkeys(g.model for g in cost.groups)
    chosen: dict[str, Expr] = {m: constant_symbol(f"m_{_safe(m)}") for m in models}
    chosen.update(params or {})
    values = {k: tidy(v) for k, v in measures(cost, chosen).items()}
    if variables is None:
        free = set().union(*(sympy.sympify(values[m]).free_symbols for m in ("calls", "tokens", "depth")))
        free |= {s for v in values.values() for s in sympy.sympify(v).free_symbols if s.is_integer}
        variables = sorted({s.name for s in free})
    return SymbolicCost(values, tuple(variables))


def _safe(model: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in model)


@dataclass(frozen=True)
class Gain:
    """Cost of ``baseline`` over cost of ``improved`` in one measure, and its Θ."""

    metric: str
    ratio: Any
    theta: Theta

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "ratio": str(self.ratio), **self.theta.to_dict()}


def gain(baseline: SymbolicCost, improved: SymbolicCost, metric: str = "passes",
         variables: Iterable[str] | None = None) -> Gain:
    """The symbolic gain ``baseline / improved`` and its Θ.

    Example:
        >>> k, n = size_symbol("k"), size_symbol("n")
        >>> big = symbolic_cost(Cost.of("g", calls=1, prompt_tokens=n, completion_tokens=1), {"g": k})
        >>> small = symbolic_cost(Cost.of("s", calls=1, prompt_tokens=n, completion_tokens=1), {"s": 1})
        >>> g = gain(big, small, "primitive")
        >>> g.ratio, g.theta.label("k")
        (k, 'k')
    """
    import sympy

    ratio = tidy(sympy.sympify(baseline[metric]) / improved[metric])
    names = list(variables) if variables is not None else sorted(set(baseline.variables) | set(improved.variables))
    return Gain(metric, ratio, theta(ratio, names))


__all__ = [
    "METRICS",
    "Gain",
    "Growth",
    "SymbolicCost",
    "Theta",
    "constant_symbol",
    "gain",
    "growth",
    "growth_in",
    "leading_term",
    "measures",
    "passes_of",
    "size_symbol",
    "symbolic_cost",
    "sympy_available",
    "theta",
]
