"""Meyerson & Qiu's worked examples as runnable decompositions, and the study that measures them.

Each example solves one problem two ways — a ``baseline`` and an ``improved`` decomposition —
that run on any :class:`~callscale.engine.Engine` and declare their cost. On the simulated backend
the prompts are synthetic word strings (``"w w w …"``, :mod:`callscale.asymptotic.synthetic`),
prompt tokens are words and completions have exactly the declared length, so the declared counts
equal the ledger's; with ``real=True`` the same decomposition sends real prompts (every role is the
embedded SmolLM2 model; the role names are only labels).

=============  =================================================================  ===============
name           problem                                                            paper's gain
=============  =================================================================  ===============
routing        k task types: one generalist of size k·m_s vs delegator + specialist  Θ(k)
debugging      k functions of l tokens, b bugs: whole-history rewrite vs per function  Θ(b·k²)
evolution      k blocks of l tokens, OneMax-like (1+λ) loop: global vs block mutation  Θ(2^k·k)
summarising    a document of n words: one call vs MapReduce (open exercise)          Θ(1), depth log n
specialists    mixed shipped questions: generalist vs delegator + specialists        (accuracy, cost)
=============  =================================================================  ===============

* :mod:`~callscale.asymptotic.examples.framework` — :class:`Example`, :class:`Decomposition`, the
  symbolic side and the analysis of measured rows (no engine);
* :mod:`~callscale.asymptotic.examples.study` — the engines and :func:`analyze_example`, which
  measures both decompositions at each size and analyses the rows;
* :mod:`~callscale.asymptotic.examples.registry` — name → example; this package registers the
  shipped ones (imported when first used).

Example:
    >>> import asyncio
    >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=False))
    >>> a.exact, round(a.checks["gain"].slope.slope, 2)
    (True, 1.0)
"""

from __future__ import annotations

from callscale.asymptotic.empirical import Analysis, SizeRow
from callscale.asymptotic.examples.framework import (
    Decomposition,
    Example,
    Sizes,
    Values,
    declared_growth,
    example_analysis,
    symbolic_summary,
)
from callscale.asymptotic.examples.registry import (
    UnknownExampleError,
    example_names,
    get_example,
    register_example,
    unregister_example,
)
from callscale.asymptotic.examples.study import (
    REAL_PARAMS,
    STRUCTURE,
    EngineFactory,
    analyze_example,
    measure_example,
    real_engine,
    simulated_engine,
)
from callscale.asymptotic.measurement import RunFailedError
from callscale.asymptotic.symbolic import growth_in, sympy_available
from callscale.asymptotic.synthetic import echo_length, synthetic_backend, word_count, words

NAMES = ("routing", "debugging", "evolution", "summarising", "specialists")
"""The shipped examples, in the order the paper presents them (then the open exercise and the demo)."""

for _name in NAMES:
    register_example(_name, f"callscale.asymptotic.examples.{_name}:EXAMPLE")
del _name

__all__ = [
    "NAMES",
    "REAL_PARAMS",
    "STRUCTURE",
    "Analysis",
    "Decomposition",
    "EngineFactory",
    "Example",
    "RunFailedError",
    "SizeRow",
    "Sizes",
    "UnknownExampleError",
    "Values",
    "analyze_example",
    "declared_growth",
    "echo_length",
    "example_analysis",
    "example_names",
    "get_example",
    "growth_in",
    "measure_example",
    "real_engine",
    "register_example",
    "simulated_engine",
    "symbolic_summary",
    "sympy_available",
    "synthetic_backend",
    "unregister_example",
    "word_count",
    "words",
]
