"""The environment protocol, the async adapter and the function environment."""

from __future__ import annotations

import asyncio

from callscale.search.base import run_search
from callscale.search.environments.base import (
    AsyncEnvironment,
    Environment,
    EnvironmentWithTestSplit,
    FunctionEnvironment,
    SyncEnvironment,
    TrialResult,
    evaluate_test,
)
from callscale.search.environments.simulated import AgentTTSBenchmark, agentts_space
from callscale.search.searchers.random import RandomSearcher
from callscale.search.space import Config, Space


class _AsyncLive:
    """Stands in for an engine-backed environment: async, loop-bound state."""

    def __init__(self) -> None:
        self._space = agentts_space()
        self.bench = AgentTTSBenchmark()
        self.loops: set[int] = set()
        self.lock: asyncio.Lock | None = None

    @property
    def space(self) -> Space:
        return self._space

    async def evaluate(self, config: Config) -> TrialResult:
        if self.lock is None:  # created on, and bound to, the adapter's loop
            self.lock = asyncio.Lock()
        async with self.lock:
            self.loops.add(id(asyncio.get_running_loop()))
            await asyncio.sleep(0)
            return self.bench.evaluate(config)

    async def evaluate_test(self, config: Config) -> TrialResult:
        return self.bench.evaluate_test(config)


def test_async_environment_runs_on_one_loop_behind_the_sync_protocol() -> None:
    live = _AsyncLive()
    assert isinstance(live, AsyncEnvironment)
    with SyncEnvironment(live) as env:
        assert isinstance(env, Environment) and isinstance(env, EnvironmentWithTestSplit)
        assert env.stages == live.space.stages
        result = run_search(env, RandomSearcher(env.space, 900, seed=1), n_trials=4, test=True)
        assert len(result.trials) == 4 and result.test is not None and result.test.split == "test"
        assert result.best is not None and result.best.test_score == result.test.score
    assert len(live.loops) == 1


def test_function_environment_and_optional_test_split() -> None:
    space = agentts_space()
    env = FunctionEnvironment(space, lambda c: c[1].samples / 100)
    r = env.evaluate(Config.of(("72B", 1), ("3B", 15)))
    assert r == TrialResult(score=0.15, cost=831.0)
    assert evaluate_test(env, Config.of(("72B", 1), ("3B", 15))) is not None

    class TrainOnly:
        space = agentts_space()
        stages = space.stages

        def evaluate(self, config: Config) -> TrialResult:
            return TrialResult(score=0.0, cost=0.0)

    train_only = TrainOnly()
    assert isinstance(train_only, Environment) and not isinstance(train_only, EnvironmentWithTestSplit)
    assert evaluate_test(train_only, Config.of(("72B", 1), ("3B", 15))) is None
    result = run_search(train_only, RandomSearcher(space, 900), n_trials=2, test=True)
    assert result.test is None


def test_trial_result_is_a_frozen_record() -> None:
    r = TrialResult(score=0.5, cost=1.0, stage_scores=[0.6, 0.5], info={"a": 1})  # type: ignore[arg-type]
    assert r.stage_scores == (0.6, 0.5) and r.info["a"] == 1
    assert r.to_dict()["stage_scores"] == [0.6, 0.5]
    try:
        r.score = 1.0  # type: ignore[misc]
    except AttributeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("TrialResult must be frozen")
