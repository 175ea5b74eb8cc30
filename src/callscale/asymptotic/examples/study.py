"""The study that measures an example: both decompositions on an engine at each size, then the analysis.

:func:`analyze_example` runs both decompositions at each size of one varied parameter
(:func:`measure_example`), reads the ledgers (a :class:`~callscale.asymptotic.measurement.PassLedger`),
evaluates the declared costs, and hands the rows to
:func:`~callscale.asymptotic.examples.framework.example_analysis`, which fits the growth of each
and of the gain and derives the symbolic costs and Θ terms.

Example:
    >>> import asyncio
    >>> from callscale.asymptotic.examples import get_example
    >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=False))
    >>> a.exact, round(a.checks["gain"].slope.slope, 2)
    (True, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from callscale.asymptotic.empirical import Analysis, SizeRow
from callscale.asymptotic.examples.framework import Decomposition, Example, Sizes, example_analysis
from callscale.asymptotic.measurement import PassLedger, RunFailedError, failed_calls, ledger_metrics
from callscale.backends.base import Backend
from callscale.costs import METRICS
from callscale.engine import Engine
from callscale.records import ModelCard
from callscale.store import Store

STRUCTURE = ("calls", "depth")
"""What a declaration fixes whatever the prompts say: with real prompts, only these are compared."""

REAL_PARAMS = 134_515_008
"""Parameters of the embedded model, which plays every role on the real backend."""

EngineFactory = Callable[[Example, Sizes, int | None], Engine]


# -- engines -------------------------------------------------------------------------------------
def simulated_engine(example: Example, sizes: Sizes, seed: int | None = None) -> Engine:
    """A fresh engine on the example's simulated backend, with a :class:`PassLedger` and an in-memory store.

    Example:
        >>> from callscale.asymptotic.examples import get_example
        >>> type(simulated_engine(get_example("routing"), get_example("routing").sizes()).ledger).__name__
        'PassLedger'
    """
    return Engine(example.simulated(sizes, seed), ledger=PassLedger())


def real_engine(backend: Backend, example: Example, sizes: Sizes, store: Store | None = None) -> Engine:
    """An engine on a real backend where every role of the example is the embedded model (its true size).

    Example:
        >>> from callscale.asymptotic.examples import get_example
        >>> from callscale.backends.simulated import SimulatedBackend
        >>> ex = get_example("routing")
        >>> real_engine(SimulatedBackend.constant({"A": 1.0}), ex, ex.sizes()).card("generalist").params
        134515008
    """
    values = example.values(sizes)
    cards = {name: ModelCard(name, params=REAL_PARAMS) for name in example.models(values)}
    return Engine(backend, ledger=PassLedger(), cards=cards, store=store)


# -- measuring -----------------------------------------------------------------------------------
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


async def _run_once(example: Example, d: Decomposition, sizes: Sizes, engine: Engine, real: bool,
                    where: str) -> tuple[dict[str, float], dict[str, Any]]:
    """One run of ``d``: its measures (floats) and what it reported; :class:`RunFailedError` if calls failed."""
    detail = dict(await d.run(engine, sizes, real))
    failed = failed_calls(engine)
    if failed:
        raise RunFailedError(f"{example.name}: {failed} call(s) of {d.name} at {where} failed; costs would be wrong")
    return {k: float(v) for k, v in ledger_metrics(engine.ledger).items()}, detail


async def measure_example(example: Example, vary: str, values: Sequence[int], fixed: Mapping[str, int], *,
                          seeds: int = 0, engine: EngineFactory | None = None, real: bool = False) -> tuple[SizeRow, ...]:
    """Both decompositions at each value of ``vary`` (the other sizes ``fixed``): measured cost (the
    mean over ``seeds`` seeded runs, or the one deterministic run), declared cost, and what each run reported.

    Example:
        >>> import asyncio
        >>> from callscale.asymptotic.examples import get_example
        >>> rows = asyncio.run(measure_example(get_example("evolution"), "k", [2, 3], {}))
        >>> [r.measured["global"]["calls"] for r in rows]
        [4.0, 8.0]
    """
    factory = engine or simulated_engine
    run_seeds: list[int | None] = list(range(seeds)) if seeds > 0 else [None]
    rows: list[SizeRow] = []
    for value in values:
        sz = example.sizes({**fixed, vary: value})
        measured: dict[str, dict[str, float]] = {}
        detail: dict[str, dict[str, Any]] = {}
        declared: dict[str, dict[str, float]] = {}
        for d in example.decompositions:
            runs = [await _run_once(example, d, sz, factory(example, sz, seed), real, f"{vary}={value}") for seed in run_seeds]
            measured[d.name] = _mean([m for m, _ in runs])
            detail[d.name] = _scalars([r for _, r in runs])
            declared[d.name] = {k: float(v) for k, v in example.declared(d, sz).items()
                                if not real or k in STRUCTURE}  # real prompts: only the structure is declared
        rows.append(SizeRow(value, sz, measured, declared, detail))
    return tuple(rows)


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
        >>> from callscale.asymptotic.examples import get_example
        >>> a = asyncio.run(analyze_example(get_example("evolution"), [2, 3, 4], symbolic=False))
        >>> [r.measured["global"]["calls"] for r in a.rows]
        [4.0, 8.0, 16.0]
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    vary = vary or example.vary
    if vary not in example.defaults:
        raise ValueError(f"example {example.name!r} has no size {vary!r}; its sizes are {', '.join(example.defaults)}")
    fixed_sizes = {k: v for k, v in example.sizes(fixed).items() if k != vary}
    chosen = list(sizes if sizes is not None else example.sweep)
    rows = await measure_example(example, vary, chosen, fixed_sizes, seeds=seeds, engine=engine, real=real)
    return example_analysis(example, rows, vary=vary, fixed=fixed_sizes, metric=metric, backend_name=backend_name,
                            seeds=seeds, symbolic=symbolic)


__all__ = [
    "REAL_PARAMS",
    "STRUCTURE",
    "EngineFactory",
    "analyze_example",
    "measure_example",
    "real_engine",
    "simulated_engine",
]
