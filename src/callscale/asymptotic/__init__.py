"""Asymptotic analysis with LLM primitives (Meyerson & Qiu): symbolic and measured cost growth.

* :mod:`~callscale.asymptotic.symbolic` — a declared :class:`~callscale.structure.Cost` as sympy
  expressions (calls, tokens, Σ m·n, forward-pass cost, depth), leading Θ terms, gains.
* :mod:`~callscale.asymptotic.empirical` — analysis on plain data: log-log slopes with intervals,
  growth-class choice, the measured-vs-declared check, and the records (:class:`SizeRow`,
  :class:`Analysis`, serialized with ``to_dict()``).
* :mod:`~callscale.asymptotic.measurement` — engine-driven measurement: a ledger that counts forward
  passes, runs at growing sizes, network files measured against their declared structure
  (:mod:`~callscale.asymptotic.network_structure`).
* :mod:`~callscale.asymptotic.synthetic` — the word-count world the simulated runs use.
* :mod:`~callscale.asymptotic.examples` — the paper's worked examples (routing, debugging,
  evolution), an open exercise (summarising) and specialists on shipped data, runnable on the
  simulated backend or the embedded model; a registry by name.

Plots and terminal output are :mod:`callscale.report.asymptotic`. sympy is optional: it is imported
only by the symbolic functions. Names load on first use, so ``import callscale.asymptotic.empirical``
imports no engine.

Example:
    >>> import asyncio
    >>> from callscale.asymptotic.examples import analyze_example, get_example
    >>> a = asyncio.run(analyze_example(get_example("debugging"), [4, 8, 16], symbolic=False))
    >>> a.exact, round(a.checks["gain"].slope.slope, 1)
    (True, 1.9)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callscale.lazy import lazy_face

_EMPIRICAL = ("CANDIDATES", "Analysis", "ClassFit", "GrowthCheck", "SizeRow", "SlopeFit", "check_growth", "fit_classes",
              "growth_checks", "loglog_slope")
_MEASURE = ("Measurement", "PassLedger", "RunFailedError", "analyze_network", "ledger_metrics", "measure")
_SYMBOLIC = ("Gain", "Growth", "SymbolicCost", "Theta", "constant_symbol", "gain", "growth", "growth_in", "leading_term",
             "measures", "passes_of", "size_symbol", "symbolic_cost", "theta")

# name → module that defines it
_HOMES: dict[str, str] = {
    **dict.fromkeys(_EMPIRICAL, "callscale.asymptotic.empirical"),
    **dict.fromkeys(_MEASURE, "callscale.asymptotic.measurement"),
    **dict.fromkeys(_SYMBOLIC, "callscale.asymptotic.symbolic"),
    "StructureError": "callscale.asymptotic.network_structure",
    "METRICS": "callscale.costs",
    "call_passes": "callscale.costs",
}

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
    "RunFailedError",
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
    "growth_checks",
    "growth_in",
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

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from callscale.asymptotic.empirical import (
        CANDIDATES,
        Analysis,
        ClassFit,
        GrowthCheck,
        SizeRow,
        SlopeFit,
        check_growth,
        fit_classes,
        growth_checks,
        loglog_slope,
    )
    from callscale.asymptotic.measurement import (
        Measurement,
        PassLedger,
        RunFailedError,
        analyze_network,
        ledger_metrics,
        measure,
    )
    from callscale.asymptotic.network_structure import StructureError
    from callscale.asymptotic.symbolic import (
        Gain,
        Growth,
        SymbolicCost,
        Theta,
        constant_symbol,
        gain,
        growth,
        growth_in,
        leading_term,
        measures,
        passes_of,
        size_symbol,
        symbolic_cost,
        theta,
    )
    from callscale.costs import METRICS, call_passes


__getattr__, __dir__ = lazy_face('callscale.asymptotic', _HOMES, __all__, globals())
