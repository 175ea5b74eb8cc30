"""Compute-optimal per-stage allocation under a budget (the AgentTTS setting).

A multi-stage task (e.g. retrieval then question answering) chooses, for every stage, a model and
a number of samples; the total cost must stay within a budget. This package provides the space
and budget arithmetic (exact counting and enumeration), a SQLite trial archive that makes
searches resumable, the environment protocol a live pipeline implements, a simulated paper-scale
benchmark with a known optimum, and searchers behind one interface: random, grid, Optuna TPE
(optional), a model-based allocator and an LLM-guided agent.

Example:
    >>> from callscale.search import AgentTTSBenchmark, ModelBasedAllocator, run_search
    >>> bench = AgentTTSBenchmark()
    >>> result = run_search(bench, ModelBasedAllocator(bench.space, 900, curves=bench.curve_estimates()),
    ...                     n_trials=2)
    >>> result.best.config == bench.optimum(900).config
    True
"""

from callscale.search.agent import AgentSearcher, AgentStats, build_prompt, heuristic_llm, parse_response
from callscale.search.archive import Archive, Trial, best_trial
from callscale.search.base import (
    Proposal,
    Searcher,
    SearchResult,
    regret_curve,
    run_search,
    trials_to_find,
)
from callscale.search.budget import (
    AgentTTSCost,
    CostModel,
    PrimitiveCost,
    agentts_stage_budget,
    count_within,
    enumerate_within,
    primitive_stage_cost,
)
from callscale.search.environment import (
    AsyncEnvironment,
    CurveEstimate,
    Environment,
    EnvironmentWithTestSplit,
    FunctionEnvironment,
    SyncEnvironment,
    TrialResult,
)
from callscale.search.grid import GridSearcher
from callscale.search.model_based import ModelBasedAllocator, SaturatingCurve, fit_curve
from callscale.search.random_search import RandomSearcher
from callscale.search.simulated import PAPER_BUDGETS, AgentTTSBenchmark, Optimum, agentts_space, qwen_like_models
from callscale.search.space import Choice, Config, Space, Stage

__all__ = [
    "PAPER_BUDGETS",
    "AgentSearcher",
    "AgentStats",
    "AgentTTSBenchmark",
    "AgentTTSCost",
    "Archive",
    "AsyncEnvironment",
    "Choice",
    "Config",
    "CostModel",
    "CurveEstimate",
    "Environment",
    "EnvironmentWithTestSplit",
    "FunctionEnvironment",
    "GridSearcher",
    "ModelBasedAllocator",
    "Optimum",
    "PrimitiveCost",
    "Proposal",
    "RandomSearcher",
    "SaturatingCurve",
    "SearchResult",
    "Searcher",
    "Space",
    "Stage",
    "SyncEnvironment",
    "Trial",
    "TrialResult",
    "agentts_space",
    "agentts_stage_budget",
    "best_trial",
    "build_prompt",
    "count_within",
    "enumerate_within",
    "fit_curve",
    "heuristic_llm",
    "parse_response",
    "primitive_stage_cost",
    "qwen_like_models",
    "regret_curve",
    "run_search",
    "searcher_by_name",
    "trials_to_find",
]


def searcher_by_name(name: str) -> type[Searcher]:
    """The searcher class called ``name`` (``random``, ``grid``, ``tpe``, ``model_based``, ``agent``).

    TPE is imported only when asked for (Optuna is optional).

    Example:
        >>> searcher_by_name("grid").__name__
        'GridSearcher'
    """
    if name == "tpe":
        from callscale.search.tpe import TPESearcher

        return TPESearcher
    table: dict[str, type[Searcher]] = {
        "random": RandomSearcher,
        "grid": GridSearcher,
        "model_based": ModelBasedAllocator,
        "agent": AgentSearcher,
    }
    try:
        return table[name]
    except KeyError:
        raise KeyError(f"unknown searcher {name!r}; choose from {[*table, 'tpe']}") from None
