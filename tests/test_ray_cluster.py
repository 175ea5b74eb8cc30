"""The Ray executor on a two-node cluster on one machine (``ray.cluster_utils.Cluster``, 127.0.0.1):
one worker per node, the same outcomes as a local run, every sample stored once on the driver."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # bind every Ray node to 127.0.0.1
ray = pytest.importorskip("ray", reason="Ray is not installed; run: pip install 'callscale[ray]'")

from callscale.backends.simulated import SimulatedBackend  # noqa: E402
from callscale.engine import Engine  # noqa: E402
from callscale.executors.ray import ray_backend  # noqa: E402
from callscale.records import Request  # noqa: E402
from callscale.store import Store  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[None]:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        cluster.shutdown()


async def test_one_worker_per_node_same_samples_one_store(two_nodes: None, tmp_path: Path) -> None:
    def opener():  # type: ignore[no-untyped-def]  # defined here: Ray ships it to the workers by value
        @contextlib.asynccontextmanager
        async def opened() -> AsyncIterator[SimulatedBackend]:
            yield SimulatedBackend(lambda r: {"4": 0.6, "5": 0.3, "6": 0.1}, latency_s=0.01, max_n=1, concurrency=8)

        return opened()

    asks = [(Request.chat("m", f"q{i}"), 4) for i in range(60)]
    store = Store(tmp_path / "s.sqlite")
    async with ray_backend(opener, workers=2) as backend:
        nodes = {where[0] for where in await asyncio.gather(*(a.where.remote() for a in backend.actors))}
        got = await Engine(backend, store=store).complete_many(asks)
    store.close()
    assert len(nodes) == 2  # the two workers run on the two nodes
    local = await Engine(SimulatedBackend(lambda r: {"4": 0.6, "5": 0.3, "6": 0.1}, max_n=1)).complete_many(asks)
    assert [c.text for g in got for c in g] == [c.text for g in local for c in g]
    with Store(tmp_path / "s.sqlite") as db:
        assert db.count() == 240 and db.failures() == []
