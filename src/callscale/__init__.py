"""callscale: measure, predict and budget the scaling of compound LLM systems.

Everything a user needs is one import away, loaded on first use (``import callscale`` stays cheap):

Example:
    >>> import asyncio
    >>> import callscale as cs
    >>> task = cs.load_task("arithmetic", limit=20)
    >>> async def main() -> float:
    ...     async with cs.open_backend("simulated", responder=lambda: cs.simulated_world(task)) as backend:
    ...         engine = cs.Engine(backend)
    ...         result = await cs.run_network(cs.builtin_network("vote", "sim", k=5), task, engine)
    ...         return result.accuracy
    >>> 0.0 <= asyncio.run(main()) <= 1.0
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callscale.lazy import lazy_face

__version__ = "0.1.0"

# name → module that defines it (the one home of each concept)
_HOMES: dict[str, str] = {
    # records
    "Completion": "callscale.records", "Message": "callscale.records", "ModelCard": "callscale.records",
    "Request": "callscale.records", "Sampling": "callscale.records", "Usage": "callscale.records",
    # calling models
    "Engine": "callscale.engine", "RetryPolicy": "callscale.engine",
    "Store": "callscale.store", "Ledger": "callscale.ledger",
    "BackendSpec": "callscale.backends.factory", "open_backend": "callscale.backends.factory",
    "register_backend": "callscale.backends.registry", "backend_names": "callscale.backends.registry",
    "Backend": "callscale.backends.base", "Batch": "callscale.backends.base", "BackendError": "callscale.backends.base",
    "TransientError": "callscale.backends.base", "ConfigurationError": "callscale.backends.base",
    # tasks
    "Task": "callscale.tasks.items", "Item": "callscale.tasks.items",
    "get_task": "callscale.tasks.registry", "load_task": "callscale.tasks.registry",
    "register_task": "callscale.tasks.registry", "task_names": "callscale.tasks.registry",
    # networks and primitives
    "Network": "callscale.networks", "builtin_network": "callscale.networks", "load_network": "callscale.networks",
    "run_network": "callscale.networks", "network_from_dict": "callscale.networks",
    "Generate": "callscale.primitives", "Sample": "callscale.primitives", "Vote": "callscale.primitives",
    "Filter": "callscale.primitives", "FilterVote": "callscale.primitives", "Select": "callscale.primitives",
    "Knockout": "callscale.primitives", "Fuse": "callscale.primitives", "Verify": "callscale.primitives",
    "Route": "callscale.primitives", "MapReduce": "callscale.primitives", "AdaptiveVote": "callscale.primitives",
    "register_op": "callscale.primitives.registry",
    "simulated_world": "callscale.primitives.world", "TaskWorld": "callscale.primitives.world",
    # search
    "register_searcher": "callscale.search.searchers", "searcher_names": "callscale.search.searchers",
    "get_searcher": "callscale.search.searchers",
    # models
    "load_catalogue": "callscale.catalogue", "builtin_catalogue": "callscale.catalogue",
    "open_models": "callscale.models",
    # sample pools and vote-scaling analysis
    "PoolSpec": "callscale.pools", "collect_pools": "callscale.pools",
    "vote_accuracy": "callscale.scaling.theory", "mixture_accuracy": "callscale.scaling.theory",
    "pool_vote_curve": "callscale.scaling.estimate", "subset_vote_curves": "callscale.scaling.estimate",
    "pass_at_k": "callscale.scaling.estimate", "read_pool_jsonl": "callscale.scaling.estimate",
    "predict_vote_curve": "callscale.scaling.predict", "fit_chen_law": "callscale.scaling.laws.chen",
    "fit_coverage_law": "callscale.scaling.laws.coverage",
    "analyze_pools": "callscale.scaling.analysis", "write_report": "callscale.report.vote_scaling",
    "register_law": "callscale.scaling.laws", "get_law": "callscale.scaling.laws", "law_names": "callscale.scaling.laws",
    "BetaBinomialLaw": "callscale.scaling.laws.betabinomial", "beta_pass_at_k": "callscale.scaling.laws.betabinomial",
    # cost
    "costs": "callscale.costs",
}

__all__ = [
    "AdaptiveVote", "Backend", "BackendError", "BackendSpec", "Batch", "BetaBinomialLaw", "Completion",
    "ConfigurationError", "Engine", "Filter",
    "FilterVote", "Fuse", "Generate", "Item", "Knockout", "Ledger", "MapReduce", "Message", "ModelCard", "Network",
    "PoolSpec", "Request", "RetryPolicy", "Route", "Sample", "Sampling", "Select", "Store", "Task", "TaskWorld",
    "TransientError", "Usage", "Verify", "Vote", "analyze_pools", "backend_names", "beta_pass_at_k", "builtin_catalogue",
    "builtin_network", "collect_pools", "costs", "fit_chen_law", "fit_coverage_law", "get_law", "get_searcher",
    "get_task", "law_names", "load_catalogue", "load_network", "load_task", "mixture_accuracy", "network_from_dict",
    "open_backend", "open_models", "pass_at_k", "pool_vote_curve", "predict_vote_curve", "read_pool_jsonl",
    "register_backend", "register_law", "register_op", "register_searcher", "register_task", "run_network",
    "searcher_names", "simulated_world", "subset_vote_curves", "task_names", "vote_accuracy", "write_report",
]

if TYPE_CHECKING:  # what type checkers and editors see; at run time each name loads on first use
    from callscale import costs
    from callscale.backends.base import Backend, BackendError, Batch, ConfigurationError, TransientError
    from callscale.backends.factory import BackendSpec, open_backend
    from callscale.backends.registry import backend_names, register_backend
    from callscale.catalogue import builtin_catalogue, load_catalogue
    from callscale.engine import Engine, RetryPolicy
    from callscale.ledger import Ledger
    from callscale.models import open_models
    from callscale.networks import Network, builtin_network, load_network, network_from_dict, run_network
    from callscale.pools import PoolSpec, collect_pools
    from callscale.primitives import (
        AdaptiveVote,
        Filter,
        FilterVote,
        Fuse,
        Generate,
        Knockout,
        MapReduce,
        Route,
        Sample,
        Select,
        Verify,
        Vote,
    )
    from callscale.primitives.registry import register_op
    from callscale.primitives.world import TaskWorld, simulated_world
    from callscale.records import Completion, Message, ModelCard, Request, Sampling, Usage
    from callscale.report.vote_scaling import write_report
    from callscale.scaling.analysis import analyze_pools
    from callscale.scaling.estimate import pass_at_k, pool_vote_curve, read_pool_jsonl, subset_vote_curves
    from callscale.scaling.laws import get_law, law_names, register_law
    from callscale.scaling.laws.betabinomial import BetaBinomialLaw, beta_pass_at_k
    from callscale.scaling.laws.chen import fit_chen_law
    from callscale.scaling.laws.coverage import fit_coverage_law
    from callscale.scaling.predict import predict_vote_curve
    from callscale.scaling.theory import mixture_accuracy, vote_accuracy
    from callscale.search.searchers import get_searcher, register_searcher, searcher_names
    from callscale.store import Store
    from callscale.tasks.items import Item, Task
    from callscale.tasks.registry import get_task, load_task, register_task, task_names


__getattr__, __dir__ = lazy_face("callscale", _HOMES, __all__, globals())
