"""Compute-optimal per-stage allocation under a budget (the AgentTTS setting).

A multi-stage task (e.g. retrieval then question answering) chooses, for every stage, a model and
a number of samples; the total cost must stay within a budget. This package provides

* the analysis, on plain data: the space and its cost models (:mod:`.space`), exact budget
  arithmetic — counting, enumeration, uniform sampling (:mod:`.budget`), a SQLite trial archive
  that makes searches resumable (:mod:`.archive`), and the searcher interface and search loop
  (:mod:`.base`);
* the searchers, one module each behind one registry (:mod:`.searchers`): random, grid, Optuna TPE
  (optional), a model-based allocator and an LLM-guided agent;
* the environments a search evaluates on (:mod:`.environments`): the protocol, a paper-scale
  simulated benchmark with a known optimum, and a live draft → answer task on the engine.

Every name below loads on first use, so importing the package stays cheap.

Example:
    >>> from callscale.search import AgentTTSBenchmark, get_searcher, run_search
    >>> bench = AgentTTSBenchmark()
    >>> allocator = get_searcher("model_based", bench.space, 900, curves=bench.curve_estimates())
    >>> run_search(bench, allocator, n_trials=2).best.config == bench.optimum(900).config
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callscale.lazy import lazy_face

# name → module that defines it
_HOMES: dict[str, str] = {
    **dict.fromkeys(("Archive", "Trial", "best_trial"), "callscale.search.archive"),
    **dict.fromkeys(
        ("Option", "Proposal", "Searcher", "SearchResult", "regret_curve", "regret_to_best_found", "run_search",
         "trials_to_find"),
        "callscale.search.base",
    ),
    **dict.fromkeys(("count_within", "enumerate_within"), "callscale.search.budget"),
    **dict.fromkeys(
        ("AgentTTSCost", "Choice", "Config", "CostModel", "PrimitiveCost", "Space", "Stage", "primitive_stage_cost"),
        "callscale.search.space",
    ),
    **dict.fromkeys(
        ("AsyncEnvironment", "CurveEstimate", "Environment", "EnvironmentWithTestSplit", "FunctionEnvironment",
         "SyncEnvironment", "TrialResult"),
        "callscale.search.environments.base",
    ),
    **dict.fromkeys(
        ("PAPER_BUDGETS", "AgentTTSBenchmark", "Optimum", "agentts_space", "qwen_like_models"),
        "callscale.search.environments.simulated",
    ),
    **dict.fromkeys(
        ("get_searcher", "register_searcher", "searcher_names", "searcher_options", "unregister_searcher"),
        "callscale.search.searchers",
    ),
    "RandomSearcher": "callscale.search.searchers.random",
    "GridSearcher": "callscale.search.searchers.grid",
    "TPESearcher": "callscale.search.searchers.tpe",
    **dict.fromkeys(("ModelBasedAllocator", "SaturatingCurve", "fit_curve"), "callscale.search.searchers.model_based"),
    **dict.fromkeys(("AgentSearcher", "AgentStats", "build_prompt"), "callscale.search.searchers.agent"),
    "parse_response": "callscale.search.searchers.agent_reply",
    "heuristic_llm": "callscale.search.searchers.agent_rules",
    "agentts_stage_budget": "callscale.costs",
}

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
    "Option",
    "PrimitiveCost",
    "Proposal",
    "RandomSearcher",
    "SaturatingCurve",
    "SearchResult",
    "Searcher",
    "Space",
    "Stage",
    "SyncEnvironment",
    "TPESearcher",
    "Trial",
    "TrialResult",
    "agentts_space",
    "agentts_stage_budget",
    "best_trial",
    "build_prompt",
    "count_within",
    "enumerate_within",
    "fit_curve",
    "get_searcher",
    "heuristic_llm",
    "parse_response",
    "primitive_stage_cost",
    "qwen_like_models",
    "register_searcher",
    "regret_curve",
    "regret_to_best_found",
    "run_search",
    "searcher_names",
    "searcher_options",
    "trials_to_find",
    "unregister_searcher",
]

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from callscale.costs import agentts_stage_budget
    from callscale.search.archive import Archive, Trial, best_trial
    from callscale.search.base import (
        Option,
        Proposal,
        Searcher,
        SearchResult,
        regret_curve,
        regret_to_best_found,
        run_search,
        trials_to_find,
    )
    from callscale.search.budget import count_within, enumerate_within
    from callscale.search.environments.base import (
        AsyncEnvironment,
        CurveEstimate,
        Environment,
        EnvironmentWithTestSplit,
        FunctionEnvironment,
        SyncEnvironment,
        TrialResult,
    )
    from callscale.search.environments.simulated import (
        PAPER_BUDGETS,
        AgentTTSBenchmark,
        Optimum,
        agentts_space,
        qwen_like_models,
    )
    from callscale.search.searchers import (
        get_searcher,
        register_searcher,
        searcher_names,
        searcher_options,
        unregister_searcher,
    )
    from callscale.search.searchers.agent import AgentSearcher, AgentStats, build_prompt
    from callscale.search.searchers.agent_reply import parse_response
    from callscale.search.searchers.agent_rules import heuristic_llm
    from callscale.search.searchers.grid import GridSearcher
    from callscale.search.searchers.model_based import ModelBasedAllocator, SaturatingCurve, fit_curve
    from callscale.search.searchers.random import RandomSearcher
    from callscale.search.searchers.tpe import TPESearcher
    from callscale.search.space import (
        AgentTTSCost,
        Choice,
        Config,
        CostModel,
        PrimitiveCost,
        Space,
        Stage,
        primitive_stage_cost,
    )


__getattr__, __dir__ = lazy_face('callscale.search', _HOMES, __all__, globals())
