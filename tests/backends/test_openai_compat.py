"""The HTTP client against loopback servers: protocol details, faults and secrecy of the API key."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from callscale.backends.base import BackendError, Batch, ConfigurationError
from callscale.backends.openai_compat import OpenAICompatBackend, _split_proportionally, retry_after_seconds
from callscale.engine import Engine, RetryPolicy
from callscale.records import Request
from callscale.store import Store
from callscale.testing.loopback import LoopbackServer


def test_body_carries_sampling_and_extras() -> None:
    backend = OpenAICompatBackend("http://127.0.0.1:1/v1", api_key_env=None)
    r = Request.chat("m", "q", temperature=0.3, top_k=0, min_p=0.0, stop=("\n",), logprobs=True, top_logprobs=5,
                     extra={"grammar": "root ::= [AB]", "cache_prompt": False})
    body = backend.body(Batch(r, 2, 3))
    assert body["n"] == 3 and body["seed"] == r.seed_for(2)
    assert body["top_k"] == 0 and body["min_p"] == 0.0 and body["stop"] == ["\n"]
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert body["grammar"] == "root ::= [AB]" and body["cache_prompt"] is False
    plain = OpenAICompatBackend("http://h/v1", api_key_env=None, sampler_extras=False).body(Batch(r, 0, 1))
    assert "top_k" not in plain and "n" not in plain
    completion = backend.body(Batch(Request.completion("base", "2+2=", logprobs=True, top_logprobs=3), 0, 1))
    assert completion["prompt"] == "2+2=" and completion["logprobs"] == 3


def test_name_has_no_port_and_bad_url_is_rejected() -> None:
    assert OpenAICompatBackend("http://127.0.0.1:9999/v1", api_key_env=None).name == "openai:127.0.0.1/v1"
    with pytest.raises(ConfigurationError, match="http"):
        OpenAICompatBackend("127.0.0.1:9999", api_key_env=None)


def test_helpers() -> None:
    assert retry_after_seconds("1.5") == 1.5 and retry_after_seconds(None) is None
    assert retry_after_seconds("garbage") is None
    assert sum(_split_proportionally(10, ["a", "bbbb", "cc"])) == 10


async def test_chat_and_completion_round_trip() -> None:
    server = LoopbackServer(answer="42")
    with server.running():
        backend = OpenAICompatBackend(server.base_url, api_key_env=None, max_n=4)
        chat = await backend.generate(Batch(Request.chat("m", "q"), 0, 3))
        assert [c.text for c in chat] == ["42"] * 3 and [c.index for c in chat] == [0, 1, 2]
        plain = await backend.generate(Batch(Request.completion("m", "q"), 5, 1))
        assert plain[0].text == "42" and plain[0].index == 5 and plain[0].usage.prompt_tokens == 10
        await backend.aclose()


async def test_four_hundred_is_permanent() -> None:
    backend = OpenAICompatBackend("http://127.0.0.1:9/v1", api_key_env=None)
    engine = Engine(backend, retry=RetryPolicy(attempts=2, base_s=0.0, max_s=0.0))
    out = await engine.complete(Request.chat("m", "q"), 1)  # nothing listens on port 9: transient, then final
    assert out[0].error is not None and engine.stats.retries == 1
    await engine.aclose()


async def test_thousand_calls_through_twenty_percent_faults(tmp_path: Path) -> None:
    """429 with Retry-After, 500, hangs past the timeout and dropped connections, at ~20 %."""
    server = LoopbackServer(fault_rate=0.2, hang_s=4.0, retry_after_s=0.01, seed=7)
    with server.running():
        # A timeout well above a loaded machine's answer time: an answer the client gave up on would be counted
        # by the server but not by the engine.
        backend = OpenAICompatBackend(server.base_url, api_key_env=None, concurrency=64, timeout_s=2.5)
        store = Store(tmp_path / "s.sqlite")
        engine = Engine(backend, store=store, retry=RetryPolicy(attempts=12, base_s=0.005, max_s=0.05))
        out = await engine.complete_many([(Request.chat("m", f"q{i}"), 1) for i in range(1000)])
        await engine.aclose()
    counters = server.counters
    assert all(x[0].ok for x in out) and len(out) == 1000
    assert store.count() == 1000 and store.failures() == []
    assert all(counters.faults[kind] > 0 for kind in ("429", "500", "hang", "drop"))
    assert counters.answered == 1000 == engine.stats.samples
    # Every attempt is counted by the engine; one sent on a kept-alive connection the server had just dropped
    # never reaches the server, so under load the server may see a few fewer.
    assert counters.requests <= engine.stats.requests == 1000 + engine.stats.retries
    assert engine.ledger.total().spent.calls == 1000


async def test_api_key_never_reaches_store_logs_or_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-test-very-secret-0123456789"
    monkeypatch.setenv("CALLSCALE_TEST_KEY", secret)
    caplog.set_level(logging.DEBUG)
    server = LoopbackServer(fault_rate=0.5, fault_kinds=("500",), seed=3)
    with server.running():
        backend = OpenAICompatBackend(server.base_url, api_key_env="CALLSCALE_TEST_KEY")
        assert secret not in repr(backend) and secret not in backend.name
        store = Store(tmp_path / "s.sqlite")
        engine = Engine(backend, store=store, retry=RetryPolicy(attempts=1))
        out = await engine.complete_many([(Request.chat("m", f"q{i}"), 1) for i in range(20)])
        await engine.aclose()
        store.close()
    assert any(not x[0].ok for x in out)
    blob = (tmp_path / "s.sqlite").read_bytes() + json.dumps(engine.summary()).encode()
    assert secret.encode() not in blob and secret not in caplog.text
    assert all(secret not in (x[0].error or "") for x in out)


async def test_unlisted_model_error_is_clear() -> None:
    backend = OpenAICompatBackend("http://127.0.0.1:9/v1", api_key_env=None, timeout_s=0.2)
    with pytest.raises(BackendError, match="cannot list models"):
        await backend.models()
    await backend.aclose()
