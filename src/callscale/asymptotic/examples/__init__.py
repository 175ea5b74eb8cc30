"""Meyerson & Qiu's worked examples as runnable decompositions, and the study that measures them.

Each :class:`Example` solves one problem two ways — a ``baseline`` and an ``improved``
:class:`Decomposition` — that run on any :class:`~callscale.engine.Engine` and declare their cost
as a :class:`~callscale.structure.Cost` in the example's size parameters (numbers, or sympy
symbols for the symbolic side). On the simulated backend the prompts are synthetic word strings
(``"w w w …"``), prompt tokens are words and completions have exactly the declared length, so the
declared counts equal the ledger's; with ``real=True`` the same decomposition sends real prompts
(every role is the embedded SmolLM2 model; the role names are only labels).

=============  =================================================================  ===============
name           problem                                                            paper's gain
=============  =================================================================  ===============
routing        k task types: one generalist of size k·m_s vs delegator + specialist  Θ(k)
debugging      k functions of l tokens, b bugs: whole-history rewrite vs per function  Θ(b·k²)
evolution      k blocks of l tokens, OneMax-like (1+λ) loop: global vs block mutation  Θ(2^k·k)
summarising    a document of n words: one call vs MapReduce (open exercise)          Θ(1), depth log n
specialists    mixed shipped questions: generalist vs delegator + specialists        (accuracy, cost)
=============  =================================================================  ===============

:func:`analyze_example` runs both decompositions at each size of one varied parameter, reads the
ledgers (a :class:`~callscale.asymptotic.empirical.PassLedger`), evaluates the declared costs,
fits the growth of each and of the gain, and derives the symbolic costs and Θ terms.

Example:
    >>> import asyncio
    >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=False))
    >>> a.exact, round(a.checks["gain"].slope.slope, 2)
    (True, 1.0)
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscale.asymptotic.empirical import Analysis, GrowthCheck, PassLedger, SizeRow, check_growth, ledger_metrics
from callscale.asymptotic.symbolic import METRICS, Gain, Growth, SymbolicCost, measures, sympy_available
from callscale.backends.base import Backend
from callscale.backends.simulated import Responder, SimulatedBackend
from callscale.engine import Engine
from callscale.records import ModelCard, Request
from callscale.store import Store
from callscale.structure import Cost, Expr

NAMES = ("routing", "debugging", "evolution", "summarising", "specialists")
"""The shipped examples, in the order the paper presents them (then the open exercise and the demo)."""

Sizes = Mapping[str, int]
Values = Mapping[str, Expr]
"""Sizes and constants by name: numbers, or sympy symbols for the symbolic side."""

STRUCTURE = ("calls", "depth")
"""What a declaration fixes whatever the prompts say: with real prompts, only these are compared."""

REAL_PARAMS = 134_515_008
"""Parameters of the embedded model, which plays every role on the real backend."""


class UnknownExampleError(KeyError):
    """No example of that name."""


class RunFailedError(RuntimeError):
    """A run's calls finally failed (after the engine's retries), so its measured cost is not the system's."""


_SYMBOLIC: dict[tuple[str, tuple[tuple[str, int], ...]], dict[str, SymbolicCost]] = {}


# -- the building blocks -------------------------------------------------------------------------
def words(n: int, word: str = "w") -> str:
    """``n`` copies of ``word`` separated by spaces (a synthetic text of n tokens).

    Example:
        >>> words(3)
        'w w w'
    """
    return " ".join([word] * n)


def word_count(text: str) -> int:
    """Whitespace-separated words: the simulated backend's token count.

    Example:
        >>> word_count("a b\\nc")
        3
    """
    return len(text.split())


def echo_length(request: Request) -> dict[str, float]:
    """Responder writing exactly ``max_tokens`` words: a completion of the declared length.

    Example:
        >>> echo_length(Request.chat("m", "hi", max_tokens=3))
        {'w w w': 1.0}
    """
    return {words(request.sampling.max_tokens): 1.0}


def synthetic_backend(responder: Responder, params: Mapping[str, Any]) -> SimulatedBackend:
    """A simulated backend whose prompt and completion tokens are word counts (so declarations are exact).

    ``params`` maps model names to sizes (an example's :attr:`Example.models` values; made integers here).

    Example:
        >>> b = synthetic_backend(echo_length, {"m": 10})
        >>> b.card("m").params
        10
    """
    return SimulatedBackend(responder, name="simulated-words", params={k: int(v) for k, v in params.items()},
                            prompt_tokens=lambda r: word_count(r.text), completion_tokens=word_count)


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
    deterministic: bool = True
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
            >>> ex = get_example("routing")
            >>> ex.declared(ex.improved, ex.sizes({"k": 4}))["calls"]
            2
        """
        values = self.values(sizes)
        return measures(decomposition.cost(values), self.models(values))

    def symbols(self) -> dict[str, Any]:
        """Sympy symbols for every size (positive integers), constant and symbolic-only quantity.

        Example:
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
            >>> ex = get_example("routing")
            >>> str(ex.symbolic()["generalist"]["calls"])
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
            >>> get_example("evolution").gain(fixed={"l": 4, "lam": 1}).theta.label("k")
            'k·2^k'
        """
        from callscale.asymptotic.symbolic import gain

        costs = self.symbolic(fixed)
        variables = [n for n in self.defaults if n not in (fixed or {})]
        return gain(costs[self.baseline.name], costs[self.improved.name], metric, variables)


def get_example(name: str) -> Example:
    """The example called ``name`` (see :data:`NAMES`).

    Example:
        >>> get_example("debugging").paper
        'gain Θ(b·k²)'
    """
    if name not in NAMES:
        raise UnknownExampleError(f"unknown example {name!r}; choose one of {', '.join(NAMES)}, or give a network file")
    module = importlib.import_module(f"callscale.asymptotic.examples.{name}")
    example: Example = module.EXAMPLE
    return example


# -- engines -------------------------------------------------------------------------------------
def simulated_engine(example: Example, sizes: Sizes, seed: int | None = None) -> Engine:
    """A fresh engine on the example's simulated backend, with a :class:`PassLedger` and an in-memory store.

    Example:
        >>> type(simulated_engine(get_example("routing"), get_example("routing").sizes()).ledger).__name__
        'PassLedger'
    """
    return Engine(example.simulated(sizes, seed), ledger=PassLedger())


def real_engine(backend: Backend, example: Example, sizes: Sizes, store: Store | None = None) -> Engine:
    """An engine on a real backend where every role of the example is the embedded model (its true size).

    Example:
        >>> from callscale.backends.simulated import SimulatedBackend
        >>> ex = get_example("routing")
        >>> real_engine(SimulatedBackend.constant({"A": 1.0}), ex, ex.sizes()).card("generalist").params
        134515008
    """
    values = example.values(sizes)
    cards = {name: ModelCard(name, params=REAL_PARAMS) for name in example.models(values)}
    return Engine(backend, ledger=PassLedger(), cards=cards, store=store)


EngineFactory = Callable[[Example, Sizes, int | None], Engine]


# -- the study -----------------------------------------------------------------------------------
def _mean(dicts: Sequence[Mapping[str, float]]) -> dict[str, float]:
    return {k: sum(d[k] for d in dicts) / len(dicts) for k in dicts[0]}


def _scalars(details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if len(details) == 1:
        return dict(details[0])
    out: dict[str, Any] = {}
    for key, value in details[0].items():
        if isinstance(value, bool):
            out[key] = sum(bool(d[key]) for d in details) / len(details)
        elif isinstance(value, int | float):
            out[key] = sum(float(d[key]) for d in details) / len(details)
    return out


def symbolic_summary(example: Example, fixed: Mapping[str, int], metric: str, vary: str) -> dict[str, Any]:
    """The symbolic side of an analysis (needs sympy).

    For each decomposition: every measure and the Θ of ``metric`` with all sizes symbolic, and the
    ``metric`` expression and its growth class in ``vary`` with the ``fixed`` sizes substituted; the
    same for the gain.

    Example:
        >>> s = symbolic_summary(get_example("evolution"), {"l": 4, "lam": 1, "cap": 0}, "passes", "k")
        >>> s["gain"]["theta"], s["gain"]["at_fixed"]["growth"]
        ('Θ(2**k*k)', 'k·2^k')
    """
    general, at_fixed = example.symbolic(), example.symbolic(fixed)
    out: dict[str, Any] = {"metric": metric, "vary": vary, "fixed": dict(fixed), "decompositions": {}}
    for d in example.decompositions:
        th = general[d.name].theta(metric)
        out["decompositions"][d.name] = {
            "cost": general[d.name].as_dict(),
            "theta": str(th),
            "growth": {v: g.label(v) for v, g in th.growth.items()},
            "theta_depth": str(general[d.name].theta("depth")),
            "at_fixed": {metric: str(at_fixed[d.name][metric]), "depth": str(at_fixed[d.name]["depth"]),
                         "growth": growth_in(at_fixed[d.name][metric], vary).label(vary)},
        }
    g_all, g_fixed = example.gain(metric), example.gain(metric, fixed)
    out["gain"] = {**g_all.as_dict(), "at_fixed": {"ratio": str(g_fixed.ratio),
                                                   "growth": growth_in(g_fixed.ratio, vary).label(vary)}}
    return out


def growth_in(expr: Any, vary: str) -> Growth:
    """Growth class of ``expr`` in ``vary`` (constant when it does not appear).

    Example:
        >>> growth_in(3, "k").label("k")
        '1'
    """
    from callscale.asymptotic.symbolic import growth

    if not any(s.name == vary for s in getattr(expr, "free_symbols", ())):
        return Growth()
    return growth(expr, vary)


def _declared_growth(example: Example, fixed: Mapping[str, int], metric: str, vary: str) -> dict[str, Growth]:
    costs = example.symbolic(fixed)
    out = {name: growth_in(c[metric], vary) for name, c in costs.items()}
    out["gain"] = growth_in(example.gain(metric, fixed).ratio, vary)
    return out


async def analyze_example(
    example: Example,
    sizes: Sequence[int] | None = None,
    *,
    vary: str | None = None,
    fixed: Mapping[str, int] | None = None,
    metric: str = "passes",
    seeds: int = 0,
    engine: EngineFactory | None = None,
    real: bool = False,
    backend_name: str = "simulated",
    symbolic: bool = True,
) -> Analysis:
    """Run both decompositions at each size of ``vary`` and check measured growth against the declared cost.

    ``seeds`` > 0 averages that many seeded runs of a randomised simulation (evolution); 0 runs the
    deterministic one. ``engine(example, sizes, seed)`` builds each run's engine (default: the
    simulated one); ``real`` sends real prompts, and then only calls and depth are declared (token
    counts depend on the text, and every role is the same real model). ``symbolic=False`` skips
    sympy entirely.

    Example:
        >>> import asyncio
        >>> a = asyncio.run(analyze_example(get_example("evolution"), [2, 3, 4], symbolic=False))
        >>> [r.measured["global"]["calls"] for r in a.rows]
        [4.0, 8.0, 16.0]
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    vary = vary or example.vary
    if vary not in example.defaults:
        raise ValueError(f"example {example.name!r} has no size {vary!r}; its sizes are {', '.join(example.defaults)}")
    chosen = list(sizes if sizes is not None else example.sweep)
    fixed_sizes = {k: v for k, v in example.sizes(fixed).items() if k != vary}
    factory = engine or simulated_engine
    run_seeds: list[int | None] = list(range(seeds)) if seeds > 0 else [None]
    rows: list[SizeRow] = []
    for value in chosen:
        sz = example.sizes({**fixed_sizes, vary: value})
        measured: dict[str, dict[str, float]] = {}
        detail: dict[str, dict[str, Any]] = {}
        declared: dict[str, dict[str, float]] = {}
        for d in example.decompositions:
            runs, details = [], []
            for seed in run_seeds:
                eng = factory(example, sz, seed)
                details.append(dict(await d.run(eng, sz, real)))
                eng.store.flush()  # the backend may be shared: leave it open
                failed = eng.ledger.total().spent.failed
                if failed:
                    raise RunFailedError(f"{example.name}: {failed} call(s) of {d.name} at {vary}={value} failed; "
                                         "costs would be wrong")
                runs.append({k: float(v) for k, v in ledger_metrics(eng.ledger).items()})
            measured[d.name] = _mean(runs)
            detail[d.name] = _scalars(details)
            declared[d.name] = {k: float(v) for k, v in example.declared(d, sz).items()
                                if not real or k in STRUCTURE}  # real prompts: only the structure is declared
        rows.append(SizeRow(value, sz, measured, declared, detail))
    symbolic = symbolic and sympy_available()
    growths = _declared_growth(example, fixed_sizes, metric, vary) if symbolic else None
    xs = [float(r.size) for r in rows]
    declares = all(metric in r.declared[d.name] for r in rows for d in example.decompositions)
    checks: dict[str, GrowthCheck] = {}
    for d in example.decompositions:
        checks[d.name] = check_growth(metric, xs, [r.measured[d.name][metric] for r in rows],
                                      [r.declared[d.name][metric] for r in rows] if declares else None,
                                      growths.get(d.name) if growths else None)
    b, i = example.baseline.name, example.improved.name
    checks["gain"] = check_growth(metric, xs, [r.gain(metric, b, i) for r in rows],
                                  [r.gain(metric, b, i, "declared") for r in rows] if declares else None,
                                  growths.get("gain") if growths else None)
    summary = symbolic_summary(example, fixed_sizes, metric, vary) if symbolic else None
    return Analysis(example.name, example.title, example.paper, vary, fixed_sizes, metric, backend_name,
                    seeds, (b, i), tuple(rows), checks, summary, example.notes)


__all__ = [
    "NAMES",
    "REAL_PARAMS",
    "Analysis",
    "Decomposition",
    "EngineFactory",
    "Example",
    "RunFailedError",
    "SizeRow",
    "UnknownExampleError",
    "analyze_example",
    "echo_length",
    "get_example",
    "growth_in",
    "real_engine",
    "simulated_engine",
    "symbolic_summary",
    "sympy_available",
    "synthetic_backend",
    "word_count",
    "words",
]
