"""Asymptotic analysis with LLM primitives (Meyerson & Qiu): symbolic and measured cost growth.

* :mod:`~callscale.asymptotic.symbolic` — a declared :class:`~callscale.structure.Cost` as sympy
  expressions (calls, tokens, Σ m·n, forward-pass cost, depth), leading Θ terms, gains.
* :mod:`~callscale.asymptotic.empirical` — a ledger that counts forward passes, log-log slopes with
  intervals, growth-class choice, and the measured-vs-declared check (also for network files).
* :mod:`~callscale.asymptotic.examples` — the paper's worked examples (routing, debugging,
  evolution), an open exercise (summarising) and specialists on shipped data, runnable on the
  simulated backend or the embedded model.
* :mod:`~callscale.asymptotic.report` — the log-log plot.

sympy is optional: it is imported only by the symbolic functions.

Example:
    >>> import asyncio
    >>> from callscale.asymptotic.examples import analyze_example, get_example
    >>> a = asyncio.run(analyze_example(get_example("debugging"), [4, 8, 16], symbolic=False))
    >>> a.exact, round(a.checks["gain"].slope.slope, 1)
    (True, 1.9)
"""

from callscale.asymptotic.empirical import (
    CANDIDATES,
    Analysis,
    ClassFit,
    GrowthCheck,
    Measurement,
    PassLedger,
    SizeRow,
    SlopeFit,
    StructureError,
    analyze_network,
    call_passes,
    check_growth,
    fit_classes,
    ledger_metrics,
    loglog_slope,
    measure,
)
from callscale.asymptotic.symbolic import (
    METRICS,
    Gain,
    Growth,
    SymbolicCost,
    Theta,
    constant_symbol,
    gain,
    growth,
    leading_term,
    measures,
    passes_of,
    size_symbol,
    symbolic_cost,
    theta,
)

__all__ = [
    "CANDIDATES",
    "METRICS",
    "Analysis",
    "ClassFit",
    "Gain",
    "Growth",
    "GrowthCheck",
    "Measurement",
    "PassLedger",
    "SizeRow",
    "SlopeFit",
    "StructureError",
    "SymbolicCost",
    "Theta",
    "analyze_network",
    "call_passes",
    "check_growth",
    "constant_symbol",
    "fit_classes",
    "gain",
    "growth",
    "leading_term",
    "ledger_metrics",
    "loglog_slope",
    "measure",
    "measures",
    "passes_of",
    "size_symbol",
    "symbolic_cost",
    "theta",
]
