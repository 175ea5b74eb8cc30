"""Every searcher proposes valid, in-budget, distinct configurations through the one interface."""

from __future__ import annotations

import importlib

import pytest

from callscale.search.base import Searcher, run_search
from callscale.search.environments.simulated import AgentTTSBenchmark
from callscale.search.searchers import get_searcher
from callscale.search.searchers.agent_rules import heuristic_llm
from callscale.search.searchers.grid import GridSearcher, sample_ladder
from callscale.search.searchers.random import RandomSearcher

NAMES = ["random", "grid", "tpe", "model_based", "model_based_trials", "agent"]


def make(name: str, bench: AgentTTSBenchmark, budget: int) -> Searcher:
    """Searcher ``name`` through the registry (``model_based_trials``: the allocator without curve estimates)."""
    options: dict[str, object] = {
        "random": {"seed": 1},
        "grid": {},
        "tpe": {"seed": 1, "n_startup_trials": 4},
        "model_based": {"curves": bench.curve_estimates()},
        "model_based_trials": {},
        "agent": {"llm": heuristic_llm},
    }[name]
    return get_searcher(name.removesuffix("_trials"), bench.space, budget, **options)


@pytest.mark.parametrize("budget", [500, 2000])
@pytest.mark.parametrize("name", NAMES)
def test_searcher_yields_valid_in_budget_configs(name: str, budget: int) -> None:
    bench = AgentTTSBenchmark()
    result = run_search(bench, make(name, bench, budget), n_trials=10, batch_size=2)
    assert len(result.trials) == 10 and result.skipped == 0
    assert all(t.status == "finished" for t in result.trials)
    assert all(bench.space.within(t.config, budget) for t in result.trials)
    assert all((t.cost or 0) <= budget for t in result.trials)
    assert len({t.config.key for t in result.trials}) == 10
    assert [t.number for t in result.trials] == list(range(1, 11))


@pytest.mark.parametrize("name", NAMES)
def test_batches_are_distinct_and_new(name: str) -> None:
    bench = AgentTTSBenchmark()
    searcher = make(name, bench, 900)
    first = run_search(bench, searcher, n_trials=3)
    batch = searcher.propose(list(first.trials), 4)
    keys = [p.config.key for p in batch]
    assert len(keys) == len(set(keys)) >= 1
    assert not set(keys) & {t.config.key for t in first.trials}
    assert all(bench.space.within(p.config, 900) for p in batch)


def test_searcher_rejects_an_impossible_budget() -> None:
    with pytest.raises(ValueError):
        RandomSearcher(AgentTTSBenchmark().space, 10)


def test_grid_covers_everything_once() -> None:
    ladder = sample_ladder(range(1, 51))
    flat = [s for level in ladder for s in level]
    assert sorted(flat) == list(range(1, 51)) and ladder[0] == [1, 50]
    bench = AgentTTSBenchmark()
    space = bench.space.__class__(
        (
            bench.stages[0].__class__("r", bench.stages[0].models[:2], range(1, 6), 2048, 128),
            bench.stages[1].__class__("q", bench.stages[1].models[:2], range(1, 6), 256, 64),
        )
    )
    order = [c.key for c in GridSearcher(space, 200).order()]
    assert len(order) == len(set(order)) == space.count(200)


def test_tpe_reports_how_it_used_suggestions() -> None:
    from callscale.search.searchers.tpe import TPESearcher

    bench = AgentTTSBenchmark()
    tpe = TPESearcher(bench.space, 500, seed=0, n_startup_trials=3)
    run_search(bench, tpe, n_trials=8)
    stats = tpe.stats
    # every trial came from a TPE suggestion or a fallback; unusable suggestions were re-asked
    assert stats.suggested == (8 - stats.fallbacks) + stats.infeasible + stats.duplicates


def test_tpe_without_optuna_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    tpe_module = importlib.import_module("callscale.search.searchers.tpe")
    real = importlib.import_module

    def fake(name: str, package: str | None = None):  # type: ignore[no-untyped-def]
        if name == "optuna":
            raise ImportError("No module named 'optuna'")
        return real(name, package)

    monkeypatch.setattr(tpe_module.importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"callscale\[tpe\]"):
        tpe_module.TPESearcher(AgentTTSBenchmark().space, 900)
