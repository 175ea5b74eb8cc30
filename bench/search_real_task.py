"""Search efficiency on a real task: draft → answer arithmetic on the embedded local model.

Every configuration within the budget is first run live (draft and answer stages of repeated
sampling plus fusion on the training items), through one store, so sample pools are shared and a
rerun of this script makes no new calls. Then each searcher runs several seeds against that table
of measured scores — the same protocol as the simulated benchmark, on real calls — and the script
prints, per searcher, the median trials until the best configuration is found and the median final
regret. ``model_based_curves`` is the allocator given per-stage curves measured from the sample
pools (their extra calls are printed); ``model_based`` learns from trials (score and stage scores).

    python bench/search_real_task.py [--store PATH] [--train 40] [--samples 1,2,4,8] [--seeds 5] [--trials 12]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from pathlib import Path

from callscale.backends.local import LocalBackend
from callscale.engine import Engine
from callscale.search.base import regret_curve, run_search, trials_to_find
from callscale.search.environments.base import CurveEstimate, TrialResult
from callscale.search.environments.live import LiveStages, draft_and_answer_space
from callscale.search.searchers import get_searcher
from callscale.search.searchers.agent_rules import heuristic_llm
from callscale.search.space import Config, Space
from callscale.store import Store
from callscale.tasks import get_task

SEARCHERS = ("random", "grid", "tpe", "model_based", "model_based_curves", "agent")


class TableEnvironment:
    """Answers trials from configurations measured live (score and per-stage scores)."""

    def __init__(self, space: Space, table: dict[str, TrialResult]) -> None:
        self.space = space
        self.stages = space.stages
        self.table = table

    def evaluate(self, config: Config) -> TrialResult:
        return self.table[config.key]


async def measure(store: Path, train: int, samples: list[int],
                  budget_fraction: float) -> tuple[dict[str, TrialResult], float, Space, list[CurveEstimate]]:
    task = get_task("arithmetic").subset(train, seed=1)
    async with LocalBackend.started() as backend:
        with Store(store) as db:
            engine = Engine(backend, store=db)
            space = draft_and_answer_space([engine.card(backend.server.settings.alias)], samples)
            largest = max(space.cost(c) for c in space.enumerate())
            budget = float(largest) * budget_fraction
            env = LiveStages(engine, task, task, space, max_tokens=16)
            table: dict[str, TrialResult] = {}
            for config in space.enumerate(budget):
                table[config.key] = await env.evaluate(config)
            print(f"measured {len(table)} configurations on {train} items; calls made now {engine.stats.samples}, "
                  f"from the store {engine.stats.cache_hits}")
            before = engine.stats.samples
            curves = await env.curve_estimates()
            print(f"per-stage curves from the sample pools: {engine.stats.samples - before} more calls")
            return table, budget, space, curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("bench-search-real.sqlite"))
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--samples", default="1,2,4,8")
    parser.add_argument("--budget-fraction", type=float, default=0.6)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=12)
    args = parser.parse_args()
    samples = [int(x) for x in args.samples.split(",")]
    results, budget, space, curves = asyncio.run(measure(args.store, args.train, samples, args.budget_fraction))
    table = {k: r.score for k, r in results.items()}
    best = max(table.values())
    best_keys = {k for k, v in table.items() if v == best}
    env = TableEnvironment(space, results)
    print(f"budget {budget:.3g} m·n per item; best score {best:.3f} at {sorted(best_keys)}")
    print(f"{'searcher':<20} {'median trials to best':>22} {'found':>6} {'median final regret':>20}")
    for name in SEARCHERS:
        found, regrets = [], []
        for seed in range(args.seeds):
            kwargs: dict[str, object] = {"seed": seed}
            if name == "agent":
                kwargs["llm"] = heuristic_llm
            if name == "model_based_curves":
                kwargs["curves"] = curves
            searcher = get_searcher(name.removesuffix("_curves"), space, budget, **kwargs)
            result = run_search(env, searcher, n_trials=min(args.trials, len(table)), search_id=f"{name}-{seed}")
            at = trials_to_find(result.trials, best_keys)
            found.append(at if at is not None else args.trials + 1)
            curve = regret_curve(result.trials, lambda c: table[Config.from_json(c.to_json()).key], best)
            regrets.append(curve[-1] if curve else best)
        hits = sum(f <= args.trials for f in found)
        median = statistics.median(found)
        shown = f"{median:g}" if median <= args.trials else f">{args.trials}"
        print(f"{name:<20} {shown:>22} {hits:>3}/{args.seeds} {statistics.median(regrets):>20.4f}")
    print("(agent uses the rule-based stand-in here; `callscale optimize --searcher agent` uses a real LLM)")


if __name__ == "__main__":
    main()
