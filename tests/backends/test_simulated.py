from __future__ import annotations

import math
from collections import Counter

import pytest

from callscale.backends.base import Batch
from callscale.backends.simulated import SimulatedBackend, with_temperature
from callscale.records import Request


async def test_draws_follow_the_distribution() -> None:
    sim = SimulatedBackend.constant({"A": 0.6, "B": 0.3, "C": 0.1}, max_n=4000)
    out = await sim.generate(Batch(Request.chat("sim", "q"), 0, 4000))
    freq = Counter(c.text for c in out)
    for answer, p in {"A": 0.6, "B": 0.3, "C": 0.1}.items():
        assert abs(freq[answer] / 4000 - p) < 4 * math.sqrt(p * (1 - p) / 4000)


async def test_reproducible_and_index_addressed() -> None:
    sim = SimulatedBackend.constant({"A": 0.5, "B": 0.5})
    r = Request.chat("sim", "q")
    whole = [c.text for c in await sim.generate(Batch(r, 0, 10))]
    tail = [c.text for c in await sim.generate(Batch(r, 6, 4))]
    assert whole[6:] == tail
    assert whole == [sim.draw(r, r.seed_for(i)) for i in range(10)]  # one draw per seed, however asked


async def test_logprobs_return_the_distribution() -> None:
    sim = SimulatedBackend.constant({"A": 0.7, "B": 0.2, "C": 0.1})
    out = await sim.generate(Batch(Request.chat("sim", "q", logprobs=True, top_logprobs=2), 0, 1))
    top = out[0].logprobs[0].top  # type: ignore[index]
    assert [a for a, _ in top] == ["A", "B"] and math.exp(top[0][1]) == pytest.approx(0.7)


def test_temperature() -> None:
    d = with_temperature({"A": 0.6, "B": 0.4}, 0.5)
    assert d["A"] == pytest.approx(0.36 / 0.52)
    assert with_temperature({"A": 0.6, "B": 0.4}, 0) == {"A": 1.0, "B": 0.0}


async def test_token_counts_follow_settings_and_equal_counts_share_one_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    import callscale.backends.simulated as simulated

    sim = SimulatedBackend.constant({"AB": 0.5, "ABCDEFG": 0.5}, completion_tokens=len, prompt_tokens=lambda r: 11)
    out = await sim.generate(Batch(Request.chat("sim", "q", max_tokens=5), 0, 12))
    assert {(c.text, c.usage.prompt_tokens, c.usage.completion_tokens) for c in out} == {("AB", 11, 2), ("ABCDEFG", 11, 5)}
    assert len({id(c.usage) for c in out}) == 2  # immutable records: one per distinct count
    monkeypatch.setattr(simulated, "_USAGE_CACHE", 3)
    sim = SimulatedBackend.constant({"A": 1.0}, prompt_tokens=lambda r: len(r.text))
    for length in range(1, 10):  # the cache is bounded: it starts over instead of growing
        [c] = await sim.generate(Batch(Request.chat("sim", "q" * length), 0, 1))
        assert c.usage.prompt_tokens == length and len(sim._usages) <= 3
