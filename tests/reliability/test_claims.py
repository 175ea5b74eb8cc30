"""Claims: before a sample is requested it is claimed in the store with a lease, so processes
sharing a store never pay for the same sample twice (counted at a loopback server); a claim whose
owner died expires and is taken over."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.records import Request
from callscale.store import Store
from callscale.testing.loopback import LoopbackProcess

pytestmark = pytest.mark.filterwarnings("ignore::callscale.store.SharedStoreWarning")

WORKER = """
import asyncio, sys
from callscale.backends.openai_compat import OpenAICompatBackend
from callscale.engine import Engine
from callscale.records import Request
from callscale.store import Store

async def main(url, path, first, last):
    backend = OpenAICompatBackend(url, api_key_env=None, concurrency=8)
    with Store(path) as store:
        engine = Engine(backend, store=store)
        asks = [(Request.chat("m", f"question {i}"), 6) for i in range(int(first), int(last))]
        got = await engine.complete_many(asks)
        assert all(len(g) == 6 and all(c.error is None for c in g) for g in got)
        print(engine.stats.samples, engine.stats.cache_hits, flush=True)
    await backend.aclose()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.slow
def test_three_processes_on_one_store_pay_for_each_sample_once(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    Store(store).close()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    with LoopbackProcess(latency_s=0.02) as server:
        ranges = [(0, 200), (100, 300), (50, 350)]  # overlapping: 350 distinct pools × 6 samples
        workers = [subprocess.Popen([sys.executable, str(script), server.base_url, str(store), str(a), str(b)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for a, b in ranges]
        outputs = [w.communicate(timeout=240) for w in workers]
        assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
        counters = server.settled_counters()
    made = sum(int(out.split()[0]) for out, _ in outputs)
    assert counters["samples_answered"] == made == 350 * 6  # every sample paid once across the three
    assert all(len(kinds) == 1 for kinds in counters["paid"].values())
    with Store(store) as db:
        assert db.count() == 350 * 6
        assert db._database.execute("SELECT COUNT(*) FROM claims") == [(0,)]


async def test_an_expired_claim_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    dead = Store(path)
    request = Request.chat("m", "q")
    key = request.key("simulated")
    assert dead.claim(key, [0, 1], lease_s=0.2) == ([0, 1], [])  # its owner "dies" holding them
    live = Store(path)

    class Awaited(SimulatedBackend):
        async def generate(self, batch):  # type: ignore[no-untyped-def]
            return await super().generate(batch)

    engine = Engine(Awaited(lambda r: {"A": 1.0}), store=live, lease_s=0.2)
    started = time.perf_counter()
    got = await engine.complete(request, 3)
    assert [c.text for c in got] == ["A", "A", "A"] and engine.stats.samples == 3
    assert time.perf_counter() - started >= 0.15  # waited for the lease on samples 0 and 1
    live.close()


async def test_a_sample_another_process_draws_is_waited_for_not_paid(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    other = Store(path)
    request = Request.chat("m", "q")
    key = request.key("simulated")
    assert other.claim(key, [0], lease_s=30)[0] == [0]

    class Awaited(SimulatedBackend):
        async def generate(self, batch):  # type: ignore[no-untyped-def]
            return await super().generate(batch)

    mine = Store(path)
    engine = Engine(Awaited(lambda r: {"A": 1.0}), store=mine)

    async def other_finishes() -> None:
        await asyncio.sleep(0.2)
        from callscale.records import Completion, Usage

        other.add("simulated", request, [Completion("from the other process", 0, Usage(1, 1))], key)
        other.flush()

    got, _ = await asyncio.gather(engine.complete(request, 2), other_finishes())
    assert [c.text for c in got] == ["from the other process", "A"]
    assert engine.stats.samples == 1 and engine.stats.cache_hits == 1
    other.close()
    mine.close()
