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


def test_optimize_on_ray_gives_the_local_search_and_a_rerun_pays_nothing(tmp_path: Path) -> None:
    def optimize(store: str, *extra: str) -> dict:
        result = CliRunner().invoke(app, ["optimize", "--task", "arithmetic", "--backend", "simulated", "--train", "8",
                                          "--test", "8", "--trials", "3", "--searcher", "random",
                                          "--store", str(tmp_path / store), "--json", *extra])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    local, on_ray = optimize("local.sqlite"), optimize("ray.sqlite", "--executor", "ray", "--workers", "2")
    assert on_ray == local and local["calls"]["made now"] > 0
    assert optimize("ray.sqlite", "--executor", "ray", "--workers", "2")["calls"]["made now"] == 0


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
