"""What an example is: a problem, two decompositions that declare their cost, and its analysis from rows.

Each :class:`Example` solves one problem two ways — a ``baseline`` and an ``improved``
:class:`Decomposition` — that run on any :class:`~callscale.engine.Engine` and declare their cost
as a :class:`~callscale.structure.Cost` in the example's size parameters (numbers, or sympy
symbols for the symbolic side). Nothing here runs a model: :func:`example_analysis` fits measured
rows (from :func:`~callscale.asymptotic.examples.study.analyze_example`, or recorded) against the
declared costs, and :func:`symbolic_summary` states the symbolic costs and Θ terms.

Example:
    >>> from callscale.asymptotic.examples import get_example
    >>> ex = get_example("routing")
    >>> ex.declared(ex.improved, ex.sizes({"k": 4}))["calls"], ex.decompositions[0].name
    (2, 'generalist')
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from callscale.asymptotic.empirical import Analysis, SizeRow, growth_checks
from callscale.asymptotic.symbolic import Gain, Growth, SymbolicCost, growth_in, measures, sympy_available
from callscale.structure import Cost, Expr

if TYPE_CHECKING:
    from callscale.backends.base import Backend
    from callscale.engine import Engine

Sizes = Mapping[str, int]
Values = Mapping[str, Expr]
"""Sizes and constants by name: numbers, or sympy symbols for the symbolic side."""

_SYMBOLIC: dict[tuple[str, tuple[tuple[str, int], ...]], dict[str, SymbolicCost]] = {}


@dataclass(frozen=True)
class Decomposition:
    """One way to solve an example's problem.

    ``cost(values)`` declares its calls (numbers or sympy expressions); ``run(engine, sizes, real)``
    solves one instance on ``engine`` and returns details (e.g. ``solved``, ``accuracy``).
    """

    name: str
    cost: Callable[[Values], Cost]
    run: Callable[[Engine, Sizes, bool], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Example:
    """A problem, two decompositions, their model sizes and the backend that answers their prompts.

    ``models(values)`` maps model names to sizes (e.g. the generalist is ``k·m_s``); ``constants``
    holds the numeric model-size constants; ``derived(sizes)`` adds data-dependent quantities to the
    numeric values (e.g. mean prompt length of shipped items); ``simulated(sizes, seed)`` answers
    the synthetic prompts (``seed=None``: the deterministic version).
    """

    name: str
    title: str
    paper: str
    vary: str
    defaults: Mapping[str, int]
    sweep: tuple[int, ...]
    constants: Mapping[str, float]
    models: Callable[[Values], dict[str, Expr]]
    baseline: Decomposition
    improved: Decomposition
    simulated: Callable[[Sizes, int | None], Backend]
    real_sizes: Mapping[str, int]
    minimum: Mapping[str, int] = field(default_factory=dict)
    derived: Callable[[Sizes], dict[str, Expr]] | None = None
    symbolic_names: tuple[str, ...] = ()
    notes: str = ""

    @property
    def decompositions(self) -> tuple[Decomposition, Decomposition]:
        """(baseline, improved)."""
        return (self.baseline, self.improved)

    def sizes(self, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
        """The default sizes with ``overrides``; raises ValueError for unknown names or too small values.

        Example:
            >>> from callscale.asymptotic.examples import get_example
            >>> get_example("routing").sizes({"k": 4})["k"]
            4
        """
        out = dict(self.defaults)
        for name, value in (overrides or {}).items():
            if name not in out:
                raise ValueError(f"example {self.name!r} has no size {name!r}; its sizes are {', '.join(self.defaults)}")
            out[name] = int(value)
        for name, value in out.items():
            low = self.minimum.get(name, 1)
            if value < low:
                raise ValueError(f"example {self.name!r}: size {name} must be at least {low}, got {value}")
        return out

    def values(self, sizes: Sizes) -> dict[str, Expr]:
        """Numeric values of every size, constant and derived quantity.

        Example:
            >>> from callscale.asymptotic.examples import get_example
            >>> get_example("routing").values({"k": 2})["m_s"]
            135000000
        """
        out: dict[str, Expr] = {**self.constants, **sizes}
        if self.derived is not None:
            out.update(self.derived(sizes))
        return out

    def declared(self, decomposition: Decomposition, sizes: Sizes) -> dict[str, float]:
        """The declared measures of one decomposition at numeric sizes (no sympy needed).

        Example:
            >>> from callscale.asymptotic.examples import get_example
            >>> ex = get_example("routing")
            >>> ex.declared(ex.improved, ex.sizes({"k": 4}))["calls"]
            2
        """
        values = self.values(sizes)
        return measures(decomposition.cost(values), self.models(values))

    def symbols(self) -> dict[str, Any]:
        """Sympy symbols for every size (positive integers), constant and symbolic-only quantity.

        Example:
            >>> from callscale.asymptotic.examples import get_example
            >>> sorted(get_example("evolution").symbols())
            ['cap', 'k', 'l', 'lam', 'm_u']
        """
        from callscale.asymptotic.symbolic import constant_symbol, size_symbol

        out: dict[str, Any] = {name: size_symbol(name) for name in self.defaults}
        out.update({name: constant_symbol(name) for name in self.constants})
        out.update({name: constant_symbol(name) for name in self.symbolic_names})
        return out

    def symbolic(self, fixed: Mapping[str, int] | None = None) -> dict[str, SymbolicCost]:
        """Each decomposition's symbolic cost (sizes in ``fixed`` substituted by their numbers).

        Example:
            >>> from callscale.asymptotic.examples import get_example
            >>> str(get_example("routing").symbolic()["generalist"]["calls"])
            'q'
        """
        from callscale.asymptotic.symbolic import symbolic_cost

        key = (self.name, tuple(sorted((fixed or {}).items())))
        if key not in _SYMBOLIC:
            values: dict[str, Any] = self.symbols()
            values.update(fixed or {})
            variables = [n for n in self.defaults if n not in (fixed or {})]
            _SYMBOLIC[key] = {d.name: symbolic_cost(d.cost(values), self.models(values), variables)
                              for d in self.decompositions}
        return dict(_SYMBOLIC[key])

    def gain(self, metric: str = "passes", fixed: Mapping[str, int] | None = None) -> Gain:
        """The symbolic gain baseline / improved in ``metric`` and its Θ.

        Example:
            >>> from callscale.asymptotic.examples import get_example
            >>> get_example("evolution").gain(fixed={"l": 4, "lam": 1}).theta.label("k")
            'k·2^k'
        """
        from callscale.asymptotic.symbolic import gain

        costs = self.symbolic(fixed)
        variables = [n for n in self.defaults if n not in (fixed or {})]
        return gain(costs[self.baseline.name], costs[self.improved.name], metric, variables)


# -- the symbolic side -----------------------------------------------------------------------------
def symbolic_summary(example: Example, fixed: Mapping[str, int], metric: str, vary: str) -> dict[str, Any]:
    """The symbolic side of an analysis (needs sympy).

    For each decomposition: every measure and the Θ of ``metric`` with all sizes symbolic, and the
    ``metric`` expression and its growth class in ``vary`` with the ``fixed`` sizes substituted; the
    same for the gain.

    Example:
        >>> from callscale.asymptotic.examples import get_example
        >>> s = symbolic_summary(get_example("evolution"), {"l": 4, "lam": 1, "cap": 0}, "passes", "k")
        >>> s["gain"]["theta"], s["gain"]["at_fixed"]["growth"]
        ('Θ(2**k*k)', 'k·2^k')
    """
    general, at_fixed = example.symbolic(), example.symbolic(fixed)
    out: dict[str, Any] = {"metric": metric, "vary": vary, "fixed": dict(fixed), "decompositions": {}}
    for d in example.decompositions:
        th = general[d.name].theta(metric)
        out["decompositions"][d.name] = {
            "cost": general[d.name].to_dict(),
            "theta": str(th),
            "growth": {v: g.label(v) for v, g in th.growth.items()},
            "theta_depth": str(general[d.name].theta("depth")),
            "at_fixed": {metric: str(at_fixed[d.name][metric]), "depth": str(at_fixed[d.name]["depth"]),
                         "growth": growth_in(at_fixed[d.name][metric], vary).label(vary)},
        }
    g_all, g_fixed = example.gain(metric), example.gain(metric, fixed)
    out["gain"] = {**g_all.to_dict(), "at_fixed": {"ratio": str(g_fixed.ratio),
                                                   "growth": growth_in(g_fixed.ratio, vary).label(vary)}}
    return out


def declared_growth(example: Example, fixed: Mapping[str, int], metric: str, vary: str) -> dict[str, Growth]:
    """Growth class in ``vary`` of each decomposition's ``metric`` and of the gain, other sizes ``fixed`` (needs sympy).

    Example:
        >>> from callscale.asymptotic.examples import get_example
        >>> g = declared_growth(get_example("routing"), {"n": 2000, "c": 8, "a": 1, "q": 1}, "passes", "k")
        >>> g["generalist"].label("k"), g["gain"].label("k")
        ('k', '1')
    """
    costs = example.symbolic(fixed)
    out = {name: growth_in(c[metric], vary) for name, c in costs.items()}
    out["gain"] = growth_in(example.gain(metric, fixed).ratio, vary)
    return out


# -- the analysis of measured rows -----------------------------------------------------------------
def example_analysis(example: Example, rows: Sequence[SizeRow], *, vary: str, fixed: Mapping[str, int], metric: str,
                     backend_name: str = "simulated", seeds: int = 0, symbolic: bool = True) -> Analysis:
    """Fit the rows' growth in ``vary`` against the declared costs; with ``symbolic`` (and sympy) also
    the declared growth classes and the symbolic summary.

    Example:
        >>> from callscale.asymptotic.examples import get_example
        >>> ex = get_example("routing")
        >>> rows = []
        >>> for k in (2, 4, 8):
        ...     sz = ex.sizes({"k": k})
        ...     declared = {d.name: ex.declared(d, sz) for d in ex.decompositions}
        ...     rows.append(SizeRow(k, sz, declared, declared, {}))
        >>> a = example_analysis(ex, rows, vary="k", fixed={}, metric="calls", symbolic=False)
        >>> a.exact, a.checks["gain"].slope.slope
        (True, 0.0)
    """
    symbolic = symbolic and sympy_available()
    growths = declared_growth(example, fixed, metric, vary) if symbolic else None
    names = (example.baseline.name, example.improved.name)
    checks = growth_checks(rows, names, metric, growths)
    summary = symbolic_summary(example, fixed, metric, vary) if symbolic else None
    return Analysis(example.name, example.title, example.paper, vary, fixed, metric, backend_name,
                    seeds, names, tuple(rows), checks, summary, example.notes)


__all__ = [
    "Decomposition",
    "Example",
    "Sizes",
    "Values",
    "declared_growth",
    "example_analysis",
    "symbolic_summary",
]
