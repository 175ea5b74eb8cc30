"""Parallel trials: a batch proposed together runs at once, is recorded in proposal order, and each
trial's cost is its own even while others share the engine."""

from __future__ import annotations

import asyncio

import pytest

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.executors.local import local_map, serial_map
from callscale.records import ModelCard, Request
from callscale.search.archive import FAILED, FINISHED
from callscale.search.base import run_search
from callscale.search.environments.base import FunctionEnvironment, SyncEnvironment, TrialResult
from callscale.search.environments.simulated import AgentTTSBenchmark
from callscale.search.searchers.grid import GridSearcher
from callscale.search.searchers.random import RandomSearcher
from callscale.search.space import Config, Space, Stage

SPACE = Space((Stage("qa", (ModelCard("3B", 3),), tuple(range(1, 9)), 8, 8),))


class Slow:
    """An async environment that counts how many evaluations run at once; samples = 5 fails."""

    space = SPACE

    def __init__(self) -> None:
        self.running = 0
        self.most = 0

    async def evaluate(self, config: Config) -> TrialResult:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.02 * (9 - config[0].samples))  # later proposals may finish first
        self.running -= 1
        if config[0].samples == 5:
            raise RuntimeError("boom")
        return TrialResult(score=config[0].samples / 8, cost=1.0)


@pytest.mark.parametrize("batch", [1, 4])
def test_a_batch_runs_at_once_and_is_recorded_in_proposal_order(batch: int) -> None:
    inner = Slow()
    with SyncEnvironment(inner) as env:
        result = run_search(env, GridSearcher(SPACE, 100), n_trials=8, batch_size=batch, search_id="s")
    assert inner.most == batch
    assert [t.number for t in result.trials] == list(range(1, 9))  # numbered in proposal order
    by_samples = {t.config[0].samples: t for t in result.trials}
    assert by_samples[5].status == FAILED and "boom" in by_samples[5].info["error"]
    assert all(t.status == FINISHED and t.score == s / 8 for s, t in by_samples.items() if s != 5)


def test_batched_trials_are_the_same_wherever_they_run() -> None:
    bench = AgentTTSBenchmark()

    def search(mapper: object) -> list[tuple[str, float | None]]:
        result = run_search(bench, RandomSearcher(bench.space, 900, seed=3), n_trials=9, batch_size=3,
                            search_id="r", mapper=mapper)  # type: ignore[arg-type]
        return [(t.config.key, t.score) for t in result.trials]

    def one_at_a_time(fn: object, configs: list[object]) -> list[object]:  # as a pool of workers would, in any order
        return list(reversed([fn(c) for c in reversed(configs)]))  # type: ignore[operator]

    here = search(None)
    assert here == search(serial_map) == search(one_at_a_time) == search(local_map) and len(here) == 9


def test_a_tally_counts_only_its_own_task_while_others_share_the_engine() -> None:
    engine = Engine(SimulatedBackend.constant({"4": 1.0}))

    async def trial(prompt: str, k: int) -> int:
        with engine.tally() as mine:
            await asyncio.gather(*(engine.complete(Request.chat("m", f"{prompt} {i}"), k) for i in range(3)))
        return mine.total().system.calls

    async def both() -> list[int]:
        return list(await asyncio.gather(trial("a", 2), trial("b", 5)))

    assert asyncio.run(both()) == [6, 15]
    assert engine.ledger.total().system.calls == 21


def test_a_function_environment_runs_a_batch_in_turn() -> None:
    seen: list[int] = []
    env = FunctionEnvironment(SPACE, lambda c: seen.append(c[0].samples) or c[0].samples / 8)
    result = run_search(env, GridSearcher(SPACE, 100), n_trials=6, batch_size=3, search_id="f")
    assert len(result.trials) == 6 and seen == [t.config[0].samples for t in result.trials]
