"""The Ray executor: the same runs across Ray actors, one store on the driver, no sample paid twice.
A local Ray cluster on 127.0.0.1 (started once for the module); a two-node cluster on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # bind every Ray node to 127.0.0.1
ray = pytest.importorskip("ray", reason="Ray is not installed; run: pip install 'callscale[ray]'")

from typer.testing import CliRunner  # noqa: E402

from callscale.backends.simulated import SimulatedBackend  # noqa: E402
from callscale.cli import app  # noqa: E402
from callscale.engine import Engine  # noqa: E402
from callscale.executors.ray import ray_backend  # noqa: E402
from callscale.records import Request  # noqa: E402
from callscale.store import Store  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _run(store: Path, *extra: str) -> dict:
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--backend", "simulated", "--network", "filter_vote",
                                      "--k", "3", "--limit", "20", "--store", str(store), "--json", *extra])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_run_on_ray_gives_the_local_outcomes_and_a_rerun_pays_nothing(tmp_path: Path) -> None:
    local = _run(tmp_path / "local.sqlite")
    on_ray = _run(tmp_path / "ray.sqlite", "--executor", "ray", "--workers", "2")
    assert on_ray["outcomes"] == local["outcomes"] and on_ray["calls_made"] == local["calls_made"] == 120
    assert _run(tmp_path / "ray.sqlite", "--executor", "ray", "--workers", "2")["calls_made"] == 0


def test_scale_on_ray_gives_the_local_numbers(tmp_path: Path) -> None:
    def scale(store: str, *extra: str) -> dict:
        result = CliRunner().invoke(app, ["scale", "--task", "arithmetic", "--backend", "simulated", "--limit", "15",
                                          "--samples", "6", "--fit-on", "3", "--boot", "10", "--store", str(tmp_path / store),
                                          "--report", str(tmp_path / store) + "-report", "--json", *extra])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["parts"][0]

    local, on_ray = scale("local.sqlite"), scale("ray.sqlite", "--executor", "ray")
    assert on_ray["curves"]["measured"] == local["curves"]["measured"]
    # the analysis's independent fits (cross-validation folds, replicates) ran as Ray tasks: same numbers
    assert on_ray["curves"]["laws"] == local["curves"]["laws"] and on_ray["decision"] == local["decision"]


async def test_a_worker_killed_mid_run_loses_nothing(tmp_path: Path) -> None:
    def _slow_opener():  # type: ignore[no-untyped-def]  # defined here: Ray ships it to the workers by value
        @contextlib.asynccontextmanager
        async def opened() -> AsyncIterator[SimulatedBackend]:
            yield SimulatedBackend(lambda r: {"4": 0.7, "5": 0.3}, latency_s=0.05, max_n=1, concurrency=16)

        return opened()

    store = Store(tmp_path / "s.sqlite")
    asks = [(Request.chat("m", f"q{i}"), 5) for i in range(120)]
    async with ray_backend(_slow_opener, workers=2) as backend:
        engine = Engine(backend, store=store)
        engine.retry = type(engine.retry)(base_s=0.01)

        async def kill_one() -> None:
            await asyncio.sleep(0.15)
            ray.kill(backend.actors[0], no_restart=False)  # Ray restarts it; its calls in flight fail

        got, _ = await asyncio.gather(engine.complete_many(asks), kill_one())
    assert all(len(g) == 5 and all(c.error is None for c in g) for g in got)
    assert engine.stats.retries > 0  # the killed worker's calls were retried
    store.close()
    with Store(tmp_path / "s.sqlite") as db:
        assert db.count() == 600 and db.failures() == []
    local = Engine(SimulatedBackend(lambda r: {"4": 0.7, "5": 0.3}, max_n=1))
    same = await local.complete_many(asks)
    assert [c.text for g in got for c in g] == [c.text for g in same for c in g]  # same samples (seeds)


def test_the_wire_keeps_requests_and_completions() -> None:
    import pickle

    from callscale.backends.base import Batch
    from callscale.executors.ray import _dumps
    from callscale.records import Completion, TokenLogprob, Usage

    chat = Request.chat("m", "2+2?", system="terse", temperature=0.5, stop=["\n"], logprobs=True, top_logprobs=2,
                        extra={"cache_prompt": False}, facts={"task": "sums", "item": "q1"})
    plain = Request.completion("base", "Q: 2+2?\nA:", max_tokens=4)
    for r in (chat, plain):
        r.key("b")  # cached derived values are not sent, and the copy derives the same
    sent = [(chat, 0, 2), (chat, 2, 1), (plain, 0, 1)]
    got = pickle.loads(_dumps(sent))
    assert got == sent and got[0][0] is got[1][0]  # a request shared by several batches travels once
    for (a, _, _), (b, _, _) in zip(sent, got, strict=True):
        assert b.key("b") == a.key("b") and b.identity_json == a.identity_json and dict(b.facts) == dict(a.facts)
        assert b.seed_for(3) == a.seed_for(3)
    assert Batch(*got[0]).seed == Batch(*sent[0]).seed
    done = [[Completion("4", 0, Usage(5, 1), "stop", 0.25, (TokenLogprob("4", -0.1, (("4", -0.1), ("5", -2.3))),))],
            ("error", "TransientError", "busy", 1.5)]
    assert pickle.loads(_dumps(done)) == done


async def test_calls_go_in_groups_and_replies_in_batches_with_the_local_samples_and_failures() -> None:
    def _opener():  # type: ignore[no-untyped-def]  # defined here: Ray ships it to the workers by value
        from callscale.backends.base import BackendError
        from callscale.backends.simulated import Faults

        def respond(r: Request) -> dict[str, float]:
            if "bad" in r.text:
                raise BackendError("no answer for this one")
            return {"4": 0.6, "5": 0.3, "6": 0.1}

        class Uneven(SimulatedBackend):  # calls of one group end at different times
            async def generate(self, batch):  # type: ignore[no-untyped-def]
                await asyncio.sleep(0.002 * (batch.request.identity_digest % 7))
                return await SimulatedBackend.generate(self, batch)

        @contextlib.asynccontextmanager
        async def opened() -> AsyncIterator[SimulatedBackend]:
            yield Uneven(respond, max_n=2, concurrency=16, faults=Faults(rate=0.2))

        return opened()

    asks = [(Request.chat("m", f"{'bad' if i % 10 == 3 else 'q'}{i}"), 3) for i in range(40)]
    async with ray_backend(_opener, workers=2) as backend:
        engine = Engine(backend)
        engine.retry = type(engine.retry)(attempts=20, base_s=0.001, max_s=0.01)
        got = await engine.complete_many(asks)
    local = Engine(SimulatedBackend(lambda r: {"4": 0.6, "5": 0.3, "6": 0.1}, max_n=2))
    same = await local.complete_many([(r, k) for r, k in asks if "bad" not in r.text])
    kept = [g for (r, _), g in zip(asks, got, strict=True) if "bad" not in r.text]
    assert [c.text for g in kept for c in g] == [c.text for g in same for c in g]  # same samples (seeds)
    failed = [g for (r, _), g in zip(asks, got, strict=True) if "bad" in r.text]
    assert all(c.error == "no answer for this one" for g in failed for c in g) and engine.stats.failures == 12
    assert engine.stats.retries > 0  # the faults came back as transient errors and were retried
    assert backend.round_trips < engine.stats.requests  # calls asked together went in one Ray call


def test_optimize_on_ray_gives_the_local_search_and_a_rerun_pays_nothing(tmp_path: Path) -> None:
    def optimize(store: str, *extra: str, task: str = "arithmetic") -> dict:
        live = ["--backend", "simulated", "--train", "8", "--test", "8"] if task != "agentts" else []
        result = CliRunner().invoke(app, ["optimize", "--task", task, *live, "--trials", "4", "--searcher", "random",
                                          "--parallel-trials", "2", "--store", str(tmp_path / store), "--json", *extra])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    # Two trials at a time: their calls go to the workers together; the search is the local one.
    local, on_ray = optimize("local.sqlite"), optimize("ray.sqlite", "--executor", "ray", "--workers", "2")
    assert on_ray == local and local["calls"]["made now"] > 0 and local["trials"] == 4
    assert optimize("ray.sqlite", "--executor", "ray", "--workers", "2")["calls"]["made now"] == 0
    # A search without calls: each trial of a pair is a Ray task, with the local numbers.
    assert optimize("a.sqlite", task="agentts") == optimize("b.sqlite", "--executor", "ray", task="agentts")


def test_without_ray_the_executor_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray":
            raise ImportError("no ray")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_ray)
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--backend", "simulated", "--executor", "ray",
                                      "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "pip install 'callscale[ray]'" in result.stderr and not (tmp_path / "s.sqlite").exists()
