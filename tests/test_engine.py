from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from callscale.backends.base import BackendError, Batch
from callscale.backends.simulated import Faults, SimulatedBackend
from callscale.engine import Engine, RetryPolicy
from callscale.records import Completion, ModelCard, Request
from callscale.store import Store
from concurrency_probe import SlowBackend

FAST_RETRY = RetryPolicy(attempts=8, base_s=0.0, max_s=0.0)


class CountingBackend(SimulatedBackend):
    """The simulated backend, counting every sample it is asked for."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(lambda r: {"A": 0.5, "B": 0.3, "C": 0.2}, **kwargs)  # type: ignore[arg-type]
        self.asked: Counter[tuple[str, int]] = Counter()

    async def generate(self, batch: Batch) -> list[Completion]:
        out = await super().generate(batch)
        for c in out:
            self.asked[(batch.request.key(self.name), c.index)] += 1
        return out


async def test_pool_reuse_calls_only_for_missing(tmp_path: Path) -> None:
    backend = CountingBackend()
    engine = Engine(backend, store=Store(tmp_path / "s.sqlite"))
    r = Request.chat("sim", "q")
    first = await engine.complete(r, 5)
    assert sum(backend.asked.values()) == 5
    second = await engine.complete(r, 8)
    assert sum(backend.asked.values()) == 8 and max(backend.asked.values()) == 1
    assert [c.text for c in second[:5]] == [c.text for c in first]
    assert [c.cached for c in second] == [True] * 5 + [False] * 3
    assert engine.ledger.total().spent.calls == 8 and engine.ledger.total().system.calls == 13


async def test_batched_and_single_calls_draw_the_same_samples() -> None:
    r = Request.chat("sim", "q")
    batched = await Engine(CountingBackend(max_n=16)).complete(r, 12)
    single = await Engine(CountingBackend(max_n=1)).complete(r, 12)
    assert [c.text for c in batched] == [c.text for c in single]
    assert len({c.text for c in batched}) > 1


async def test_concurrent_asks_for_one_pool_share_calls() -> None:
    backend = CountingBackend(latency_s=0.01)
    engine = Engine(backend)
    r = Request.chat("sim", "q")
    results = await asyncio.gather(*(engine.complete(r, k) for k in (3, 5, 5, 2, 7)))
    assert [len(x) for x in results] == [3, 5, 5, 2, 7]
    assert sum(backend.asked.values()) == 7 and max(backend.asked.values()) == 1


async def test_transient_faults_are_retried_and_accounted() -> None:
    backend = SimulatedBackend.constant({"A": 1.0}, faults=Faults(rate=0.3), max_n=1)
    engine = Engine(backend, retry=FAST_RETRY)
    out = await engine.complete_many([(Request.chat("sim", f"q{i}"), 1) for i in range(300)])
    assert all(c[0].ok for c in out)
    assert engine.stats.requests == backend.attempts == 300 + engine.stats.retries
    assert engine.stats.retries > 50


async def test_final_failures_are_recorded_not_dropped(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    backend = SimulatedBackend.constant({"A": 1.0}, faults=Faults(rate=1.0))
    engine = Engine(backend, store=store, retry=RetryPolicy(attempts=3, base_s=0.0, max_s=0.0))
    out = await engine.complete(Request.chat("sim", "q"), 2)
    assert [c.error for c in out] == ["simulated fault"] * 2
    store.flush()
    assert [(f[1], f[3]) for f in store.failures()] == [(0, 3), (1, 3)]
    assert engine.ledger.total().spent.failed == 2 and engine.ledger.total().system.calls == 0


async def test_permanent_errors_are_not_retried() -> None:
    backend = SimulatedBackend.table({})
    engine = Engine(backend, retry=FAST_RETRY)
    out = await engine.complete(Request.chat("sim", "unknown"), 1)
    assert out[0].error is not None and "no distribution" in out[0].error
    assert engine.stats.requests == 1 and engine.stats.retries == 0


async def test_concurrency_limit_is_respected() -> None:
    backend = SlowBackend(lambda _request: {"A": 1.0})
    engine = Engine(backend, concurrency=3)
    await engine.complete_many([(Request.chat("sim", f"q{i}"), 1) for i in range(20)])
    assert backend.peak == 3


async def test_limit_holds_across_tasks_and_survives_cancelled_waiters() -> None:
    backend = SlowBackend(lambda _request: {"A": 1.0}, delay_s=0.01)
    engine = Engine(backend, concurrency=2)
    tasks = [asyncio.create_task(engine.complete(Request.chat("sim", f"q{i}"))) for i in range(12)]
    await asyncio.sleep(0.002)  # two calls running, ten waiting for a slot
    for t in tasks[2:6]:
        t.cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert backend.peak == 2
    assert sum(isinstance(d, asyncio.CancelledError) for d in done) == 4
    assert [d[0].text for d in done if isinstance(d, list)] == ["A"] * 8
    # Every slot came back: a fresh burst still runs two at a time and finishes.
    await asyncio.gather(*(engine.complete(Request.chat("sim", f"again {i}")) for i in range(5)))
    assert backend.peak == 2 and backend.in_flight == 0


def test_retry_policy_honours_retry_after() -> None:
    import random

    policy = RetryPolicy(base_s=0.1, max_s=1.0)
    rng = random.Random(0)
    assert all(0 <= policy.delay(5, None, rng) <= 1.0 for _ in range(100))
    assert policy.delay(0, 3.0, rng) == 3.0
    assert policy.delay(0, 1e6, rng) == policy.max_retry_after_s


async def test_ledger_uses_model_cards() -> None:
    engine = Engine(SimulatedBackend.constant({"A": 1.0}, params=1000, completion_tokens=4))
    r = Request.chat("sim", "abcdefgh")  # 2 prompt tokens in the simulation
    await engine.complete(r, 3, node="gen", depth=2)
    line = engine.ledger.nodes()["gen"]
    assert line.system.primitive_cost == 3 * 1000 * (2 + 4)
    assert line.depth == 2
    assert engine.card("sim") == ModelCard("sim", 1000)


async def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        await Engine(SimulatedBackend.constant({"A": 1.0})).complete(Request.chat("sim", "q"), 0)


def test_backend_error_is_an_exception_type() -> None:
    assert issubclass(BackendError, Exception)


def _responder(request: Request) -> dict[str, float]:
    if "bad" in request.text:
        raise BackendError("no distribution for this prompt")
    return {"A": 0.5, "B": 0.3, "C": 0.2}


class AwaitedOnly(SimulatedBackend):
    """The same draws, always through ``generate`` (a subclass that overrides it is never filled at once)."""

    async def generate(self, batch: Batch) -> list[Completion]:
        return await super().generate(batch)


async def test_instant_fill_matches_the_awaiting_path(tmp_path: Path) -> None:
    # Fresh pools of one call, a pool larger than one call, a pool asked twice, a partly stored pool
    # and a prompt the backend refuses: same results, store, failures, ledger and counters both ways.
    asks = [(Request.chat("sim", f"q{i}"), k) for i, k in enumerate([1, 3, 16, 40, 1])]
    asks += [asks[0], (Request.chat("sim", "bad prompt"), 2), (Request.chat("sim", "partial"), 6)]
    outcomes = []
    for name, cls in (("instant", SimulatedBackend), ("awaited", AwaitedOnly)):
        backend = cls(_responder, max_n=16)
        awaited: list[int] = []
        plain = backend.generate

        async def counted(batch: Batch, plain: object = plain, awaited: list[int] = awaited) -> list[Completion]:
            awaited.append(batch.n)
            return await plain(batch)  # type: ignore[operator]

        backend.generate = counted  # type: ignore[method-assign]
        store = Store(tmp_path / f"{name}.sqlite")
        engine = Engine(backend, store=store, retry=FAST_RETRY)
        await engine.complete(Request.chat("sim", "partial"), 2)
        results = await engine.complete_many(asks, node="n")
        store.flush()
        texts = [[(c.index, c.text, c.cached, c.error) for c in got] for got in results]
        stored = sorted((s.request.identity_json, s.completion.index, s.completion.text) for s in store.samples())
        outcomes.append((texts, stored, store.failures(), engine.ledger.as_dict(),
                         (engine.stats.requests, engine.stats.samples, engine.stats.cache_hits, engine.stats.failures)))
        if name == "instant":  # awaited: complete() (2), the 40-sample pool (16+16+8), the partial pool's
            assert sorted(awaited) == [2, 2, 4, 8, 16, 16]  # missing 4 and the refusal (2)
        else:
            assert len(awaited) == 10
    assert outcomes[0] == outcomes[1]
    texts = outcomes[0][0]
    assert [len(t) for t in texts] == [1, 3, 16, 40, 1, 1, 2, 6]
    assert texts[5] == [(0, texts[0][0][1], True, None)]  # the second ask of a pool reads what the first made
    assert all(e is not None for _, _, _, e in texts[6])  # refused: failures, not results


def test_a_later_round_counts_only_the_samples_it_adds() -> None:
    """complete(..., start=s): samples 0…k−1 come back, but only s… are counted (the caller read the rest)."""
    engine = Engine(SimulatedBackend.constant({"A": 1.0}))
    request = Request.chat("m", "q")

    async def rounds() -> list[int]:
        first = await engine.complete(request, 3, node="n")
        second = await engine.complete(request, 5, node="n", start=3)
        return [len(first), len(second), second[3].index]

    assert asyncio.run(rounds()) == [3, 5, 3]
    line = engine.ledger.nodes()["n"]
    assert line.system.calls == line.spent.calls == 5 and line.cache_hits == 0 and engine.stats.cache_hits == 0
    with pytest.raises(ValueError, match="start must be between 0 and k = 2"):
        asyncio.run(engine.complete(request, 2, start=3))
