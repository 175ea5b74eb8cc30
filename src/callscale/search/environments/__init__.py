"""What a search evaluates configurations on.

* :mod:`.base` — the protocol (:class:`~.base.Environment`: a space and a synchronous
  ``evaluate(config) -> TrialResult``), the records trials produce (:class:`~.base.TrialResult`,
  :class:`~.base.CurveEstimate`), an adapter for asynchronous environments and one built from a
  plain scoring function;
* :mod:`.simulated` — the paper-scale simulated AgentTTS benchmark, with a known optimum;
* :mod:`.live` — a multi-stage task run live on callscale's engine (real calls, stored pools).

Only :mod:`.live` touches the engine; it is imported only when asked for.

Example:
    >>> from callscale.search.environments import Environment
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> isinstance(AgentTTSBenchmark(), Environment)
    True
"""

from callscale.search.environments.base import (
    AsyncEnvironment,
    CurveEstimate,
    Environment,
    EnvironmentWithTestSplit,
    FunctionEnvironment,
    SyncEnvironment,
    TrialResult,
)

__all__ = [
    "AsyncEnvironment",
    "CurveEstimate",
    "Environment",
    "EnvironmentWithTestSplit",
    "FunctionEnvironment",
    "SyncEnvironment",
    "TrialResult",
]
