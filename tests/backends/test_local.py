"""The embedded default against the real SmolLM2 llama.cpp server (marked: they need the model)."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callscale.backends.base import Batch
from callscale.backends.local import SMOLLM2_CARD, LocalBackend, LocalServer
from callscale.backends.openai_compat import OpenAICompatBackend
from callscale.engine import Engine
from callscale.records import Request
from callscale.store import Store
from callscale.testing.loopback import LoopbackServer

pytestmark = pytest.mark.real_model
MODEL = SMOLLM2_CARD.name
WORKER = Path(__file__).parents[1] / "support" / "kill_worker.py"


async def test_chat_completion(local_server: LocalServer) -> None:
    backend = LocalBackend(local_server)
    out = await backend.generate(Batch(Request.chat(MODEL, "What is 2 + 3?", max_tokens=12, temperature=0.0), 0, 1))
    assert out[0].text.strip() and out[0].usage.prompt_tokens > 5 and 0 < out[0].usage.completion_tokens <= 12
    assert backend.card(MODEL).params == 134_515_008
    await backend.aclose()


async def test_n_samples_are_distinct_and_counted(local_server: LocalServer) -> None:
    backend = LocalBackend(local_server)
    r = Request.chat(MODEL, "Name a random animal.", max_tokens=8, temperature=1.0)
    out = await backend.generate(Batch(r, 0, 4))
    assert [c.index for c in out] == [0, 1, 2, 3]
    assert len({c.text for c in out}) >= 2
    assert all(0 < c.usage.completion_tokens <= 8 for c in out)
    await backend.aclose()


async def test_seeds_reproduce_on_one_slot(local_server_one_slot: LocalServer) -> None:
    backend = LocalBackend(local_server_one_slot)
    r = Request.chat(MODEL, "Write one word.", max_tokens=6, temperature=1.0, extra={"cache_prompt": False})
    first = [c.text for c in await backend.generate(Batch(r, 0, 1)) + await backend.generate(Batch(r, 1, 1))]
    again = [c.text for c in await backend.generate(Batch(r, 0, 1)) + await backend.generate(Batch(r, 1, 1))]
    assert first == again
    others = [(await backend.generate(Batch(r, i, 1)))[0].text for i in range(2, 8)]
    assert len(set(others + first)) >= 2
    await backend.aclose()


async def test_logprobs(local_server: LocalServer) -> None:
    backend = LocalBackend(local_server)
    r = Request.chat(MODEL, "Answer A or B.", max_tokens=1, temperature=1.0, logprobs=True, top_logprobs=5)
    out = await backend.generate(Batch(r, 0, 1))
    lp = out[0].logprobs
    assert lp is not None and len(lp) == 1 and len(lp[0].top) == 5
    assert 0.0 < sum(math.exp(v) for _, v in lp[0].top) <= 1.0 + 1e-6
    await backend.aclose()


async def test_pool_reuse_counted_at_the_server(local_server: LocalServer, tmp_path: Path) -> None:
    proxy = LoopbackServer(upstream=local_server.base_url)
    with proxy.running():
        backend = OpenAICompatBackend(proxy.base_url, api_key_env=None, name="local", max_n=4, token_counting="tokenize")
        engine = Engine(backend, store=Store(tmp_path / "s.sqlite"))
        r = Request.chat(MODEL, "Pick a colour.", max_tokens=6)
        await engine.complete(r, 5)
        assert proxy.counters.samples_answered == 5
        pool = await engine.complete(r, 8)
        assert proxy.counters.samples_answered == 8  # exactly 3 new samples
        assert len({c.text for c in pool}) >= 2 and [c.cached for c in pool].count(True) == 5
        await engine.aclose()


def test_sigkill_then_resume_pays_no_call_twice(local_server_one_slot: LocalServer, tmp_path: Path) -> None:
    n = 16
    proxy = LoopbackServer(upstream=local_server_one_slot.base_url, record=True)
    with proxy.running():
        store = tmp_path / "killed.sqlite"
        worker = subprocess.Popen([sys.executable, str(WORKER), proxy.base_url, str(store), str(n)],
                                  stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline and stored < n // 3:
            time.sleep(0.05)
            if store.exists():
                try:
                    stored = sqlite3.connect(store).execute("SELECT COUNT(*) FROM completions").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        survivors = sqlite3.connect(store).execute("SELECT COUNT(*) FROM completions").fetchone()[0]
        assert 0 < survivors < n
        # Calls in flight when the worker died still finish upstream (paid, never received); let them land.
        while proxy.counters.requests != proxy.counters.answered and time.monotonic() < deadline:
            time.sleep(0.05)
        before = len(proxy.answered_bodies)
        resumed = subprocess.run([sys.executable, str(WORKER), proxy.base_url, str(store), str(n)],
                                 capture_output=True, text=True, check=True, timeout=300)
        result = json.loads(resumed.stdout)
        asked_again = proxy.answered_bodies[before:]
        assert result["spent"] == n - survivors == len(asked_again)
        stored_prompts = {r.messages[0].content for r in _stored_requests(store)}  # type: ignore[index]
        assert len(stored_prompts) == n
        reference = subprocess.run([sys.executable, str(WORKER), proxy.base_url, str(tmp_path / "fresh.sqlite"), str(n)],
                                   capture_output=True, text=True, check=True, timeout=300)
    assert json.loads(reference.stdout)["texts"] == result["texts"]
    killed_prompts = [b["messages"][0]["content"] for b in proxy.answered_bodies[:before]]
    resumed_prompts = [b["messages"][0]["content"] for b in asked_again]
    assert not set(resumed_prompts) & set(killed_prompts[:survivors])


def _stored_requests(path: Path) -> list[Request]:
    with Store(path) as store:
        return [s.request for s in store.samples()]
