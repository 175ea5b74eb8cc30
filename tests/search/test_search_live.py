"""The live multi-stage environment on the simulated world: real engine, store and ledger."""

from __future__ import annotations

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.primitives.world import TaskWorld, synthetic_answers
from callscale.records import ModelCard
from callscale.search.base import run_search
from callscale.search.environments.base import SyncEnvironment
from callscale.search.environments.live import LiveStages, draft_and_answer_space
from callscale.search.searchers.grid import GridSearcher
from callscale.search.space import Config
from callscale.tasks import get_task


def live_env() -> tuple[LiveStages, SimulatedBackend]:
    task = get_task("arithmetic").subset(40)
    train, test = task.split(20)
    backend = SimulatedBackend(TaskWorld(task, synthetic_answers(task)), params={"small": 100, "big": 1000})
    space = draft_and_answer_space([ModelCard("small", 100), ModelCard("big", 1000)], samples=(1, 2, 4))
    return LiveStages(Engine(backend), train, test, space), backend


def test_trials_reuse_pools_and_declare_their_cost() -> None:
    env, backend = live_env()
    with SyncEnvironment(env) as sync:
        first = sync.evaluate(Config.of(("small", 4), ("small", 2)))
        attempts = backend.attempts
        again = sync.evaluate(Config.of(("small", 4), ("small", 2)))
        assert backend.attempts == attempts and again.spent_cost == 0.0 and again.score == first.score
        smaller = sync.evaluate(Config.of(("small", 2), ("small", 2)))  # draft samples 0-1 are stored
        assert smaller.spent_cost is not None and 0 < smaller.spent_cost < smaller.cost
        assert len(first.stage_scores) == 2 and first.score == first.stage_scores[-1]
        assert first.cost == float(env.space.cost(Config.of(("small", 4), ("small", 2))))
        assert sync.evaluate_test(Config.of(("small", 1), ("big", 1))).split == "test"


def test_a_search_runs_on_the_live_environment() -> None:
    env, _ = live_env()
    budget = env.space.cost(Config.of(("big", 2), ("big", 2)))
    with SyncEnvironment(env) as sync:
        result = run_search(sync, GridSearcher(env.space, budget), n_trials=5, search_id="live")
    assert len(result.trials) == 5 and result.best is not None
    assert all(env.space.within(t.config, budget) for t in result.trials)


def test_curve_estimates_come_from_the_pools_trials_reuse() -> None:
    env, _ = live_env()
    with SyncEnvironment(env) as sync:
        curves = sync.run(env.curve_estimates())
        assert [(c.stage, c.model) for c in curves] == [(0, "small"), (0, "big"), (1, "small"), (1, "big")]
        assert curves[0].upstream is None and curves[2].upstream is not None
        assert curves[0].samples == (1, 2, 4) and all(0 <= q <= 1 for c in curves for q in c.quality)
        made = env.engine.stats.samples
        sync.evaluate(Config.of(("small", 1), ("small", 4)))
        # Draft and answer samples were all drawn for the curves; only the 20 fusion calls are new.
        assert env.engine.stats.samples - made == len(env.train.items)
