"""One engine, several backends: each model is routed to its backend, pools are keyed by that
backend, the ledger has a line per model, and each backend keeps its own concurrency limit."""

from __future__ import annotations

import asyncio

import pytest

from callscale.backends.base import Batch
from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.records import Completion, Request
from callscale.store import Store


class Peak(SimulatedBackend):
    """Counts the calls it is given at once."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.live = self.peak = self.calls = 0

    async def generate(self, batch: Batch) -> list[Completion]:
        self.live += 1
        self.calls += 1
        self.peak = max(self.peak, self.live)
        try:
            await asyncio.sleep(0.001)
            return await super().generate(batch)
        finally:
            self.live -= 1


async def test_models_go_to_their_backends_with_their_own_limits() -> None:
    small = Peak(lambda r: {"small says 4": 1.0}, name="small-server", params=100, max_n=1, concurrency=2)
    big = Peak(lambda r: {"big says 5": 1.0}, name="big-server", params=1000, max_n=1, concurrency=5)
    store = Store(":memory:")
    engine = Engine({"small": small, "big": big}, store=store)
    asks = [(Request.chat(m, f"q{i}"), 3) for i in range(20) for m in ("small", "big")]
    got = await engine.complete_many(asks)
    assert {c.text for (r, _), cs in zip(asks, got, strict=True) if r.model == "small" for c in cs} == {"small says 4"}
    assert {c.text for (r, _), cs in zip(asks, got, strict=True) if r.model == "big" for c in cs} == {"big says 5"}
    assert small.calls == big.calls == 60 and small.peak <= 2 and big.peak <= 5
    assert store.count(Request.chat("small", "q0").key("small-server")) == 3
    assert store.count(Request.chat("small", "q0").key("big-server")) == 0
    lines = {line["model"]: line for line in engine.ledger.as_dict()["lines"]}
    assert lines["small"]["system"]["primitive_cost"] * 10 == pytest.approx(lines["big"]["system"]["primitive_cost"])
    assert engine.card("big").params == 1000 and len(engine.backends()) == 2


async def test_an_unrouted_model_goes_to_the_default_backend() -> None:
    default = SimulatedBackend.constant({"A": 1.0})
    other = SimulatedBackend.constant({"B": 1.0}, name="other")
    engine = Engine({"*": default, "special": other})
    assert [c.text for c in await engine.complete(Request.chat("anything", "q"), 2)] == ["A", "A"]
    assert [c.text for c in await engine.complete(Request.chat("special", "q"), 1)] == ["B"]
    assert engine.backend is default


class CountingLimiter:
    def __init__(self) -> None:
        self.tokens: list[int] = []

    async def acquire(self, tokens: int = 0) -> None:
        self.tokens.append(tokens)


async def test_each_call_passes_its_backends_limiter() -> None:
    limited = SimulatedBackend.constant({"A": 1.0}, name="limited")
    free = SimulatedBackend.constant({"B": 1.0}, name="free")

    class Slow(SimulatedBackend):
        async def generate(self, batch: Batch) -> list[Completion]:  # through the awaited path
            return await super().generate(batch)

    limited = Slow(lambda r: {"A": 1.0}, name="limited", max_n=1)
    limiter = CountingLimiter()
    engine = Engine({"m": limited, "*": free}, limiters={"limited": limiter})
    await engine.complete(Request.chat("m", "x" * 400, max_tokens=10), 3)
    await engine.complete(Request.chat("n", "y"), 3)
    assert limiter.tokens == [110, 110, 110]
