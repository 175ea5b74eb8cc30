"""Run a backend's calls on a Ray cluster: W actors, each holding its own backend (a model replica
for ``local``, a client for a server), fed by the driver's engine.

The driver keeps everything that must be single: the store (the one source of truth), claims (so
no sample is paid twice, across drivers too), the ledger and the rate limiters (the driver sends
every call, so a limit is cluster-wide by construction). :class:`RayBackend` is an ordinary
:class:`~callscale.backends.base.Backend` to the engine: its name, ``max_n`` and cards are the
replicas', so pools, seeds and numbers are the same as a local run's. Calls are sharded by sample
pool (a pool's calls go to one actor, where its prompt stays cached) and sent in small groups per
event-loop turn, so one Ray round trip carries many calls. A worker that dies fails its calls in
flight as transient: the engine retries them, Ray restarts the actor, and its claims expire if the
driver died too.

Ray is optional (``pip install 'callscale[ray]'``) and imported only here. For a local cluster this
module binds Ray to 127.0.0.1; with an address (``--ray-address`` or ``RAY_ADDRESS``) it joins that
cluster as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from callscale.backends.base import (
    AuthenticationError,
    Backend,
    BackendError,
    Batch,
    ConfigurationError,
    MalformedReply,
    TransientError,
)
from callscale.records import Completion, ModelCard

INSTALL = "pip install 'callscale[ray]'"
Opener = Callable[[], AbstractAsyncContextManager[Backend]]
_ERRORS: dict[str, type[BackendError]] = {"TransientError": TransientError, "MalformedReply": MalformedReply,
                                          "AuthenticationError": AuthenticationError, "BackendError": BackendError}


def import_ray() -> Any:
    """Ray, started locally on 127.0.0.1 unless it joins a cluster; a one-line error when absent."""
    if not os.environ.get("RAY_ADDRESS"):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local cluster binds to loopback only
    try:
        import ray
    except ImportError:
        raise ConfigurationError(f"--executor ray needs Ray, an optional dependency; run: {INSTALL}") from None
    return ray


def connect(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Join the cluster at ``address`` (or ``$RAY_ADDRESS``), else start a local one; returns ``ray``."""
    ray = import_ray()
    if not ray.is_initialized():
        target = address or os.environ.get("RAY_ADDRESS")
        if target:
            ray.init(address=target, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.ERROR)
    return ray


class _Worker:
    """A Ray actor (made remote in :func:`_worker_class`) holding one backend replica."""

    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._context: AbstractAsyncContextManager[Backend] | None = None
        self._backend: Backend | None = None
        self._opening: asyncio.Lock | None = None

    async def _open(self) -> Backend:
        if self._backend is None:
            self._opening = self._opening or asyncio.Lock()
            async with self._opening:
                if self._backend is None:
                    self._context = self._opener()
                    self._backend = await self._context.__aenter__()
        return self._backend

    async def describe(self, models: list[str]) -> tuple[str, int, int, dict[str, ModelCard]]:
        """The replica's name, max_n, concurrency and the cards of ``models``."""
        backend = await self._open()
        return backend.name, backend.max_n, backend.concurrency, {m: backend.card(m) for m in models}

    async def generate_many(self, batches: list[Batch]) -> list[Any]:
        """Every batch's completions, or ``("error", kind, message, retry_after)`` for a failed one."""
        backend = await self._open()

        async def one(batch: Batch) -> Any:
            try:
                return await backend.generate(batch)
            except BackendError as exc:
                kind = next((n for n, cls in _ERRORS.items() if type(exc) is cls), "BackendError")
                return ("error", kind, str(exc), getattr(exc, "retry_after", None))

        return list(await asyncio.gather(*(one(b) for b in batches)))

    def where(self) -> tuple[str, int]:
        """The Ray node and process this worker runs in."""
        import ray

        return ray.get_runtime_context().get_node_id(), os.getpid()

    async def stop(self) -> None:
        if self._context is not None:
            await self._context.__aexit__(None, None, None)
            self._context = self._backend = None


def _worker_class(ray: Any, num_cpus: float) -> Any:
    return ray.remote(num_cpus=num_cpus, max_restarts=-1, max_task_retries=0)(_Worker)


class RayBackend:
    """A backend whose calls run on ``workers`` Ray actors (see module docstring)."""

    def __init__(self, actors: list[Any], *, name: str, max_n: int, concurrency: int,
                 cards: dict[str, ModelCard]) -> None:
        self.actors = actors
        self.name = name
        self.max_n = max_n
        self.concurrency = concurrency * len(actors)
        self._cards = cards
        self._pending: list[list[tuple[Batch, asyncio.Future[list[Completion]]]]] = [[] for _ in actors]
        self._scheduled = False
        self._trips: set[asyncio.Future[None]] = set()
        self.round_trips = 0

    def card(self, model: str) -> ModelCard:
        return self._cards.get(model) or ModelCard(model, params=0)

    def shard(self, batch: Batch) -> int:
        """The actor of ``batch``: by its pool, so a pool's calls go to one replica."""
        digest = hashlib.blake2b(batch.request.identity_json.encode(), digest_size=4).digest()
        return int.from_bytes(digest, "big") % len(self.actors)

    async def generate(self, batch: Batch) -> list[Completion]:
        future: asyncio.Future[list[Completion]] = asyncio.get_running_loop().create_future()
        self._pending[self.shard(batch)].append((batch, future))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._send)
        return await future

    def _send(self) -> None:
        """Send each actor the calls queued for it this loop turn, in one round trip."""
        self._scheduled = False
        for i, queued in enumerate(self._pending):
            if queued:
                self._pending[i] = []
                trip = asyncio.ensure_future(self._round_trip(self.actors[i], queued))
                self._trips.add(trip)  # held until done (the loop keeps only weak references)
                trip.add_done_callback(self._trips.discard)

    async def _round_trip(self, actor: Any, queued: list[tuple[Batch, asyncio.Future[list[Completion]]]]) -> None:
        self.round_trips += 1
        try:
            results = await actor.generate_many.remote([b for b, _ in queued])
        except Exception as exc:  # the actor died (or Ray failed): every call of the trip may be retried
            for _, future in queued:
                if not future.done():
                    future.set_exception(TransientError(f"Ray worker failed ({type(exc).__name__})"))
            return
        for (_, future), result in zip(queued, results, strict=True):
            if future.done():
                continue
            if isinstance(result, tuple) and result and result[0] == "error":
                _, kind, message, retry_after = result
                cls = _ERRORS.get(kind, BackendError)
                future.set_exception(cls(message, retry_after) if issubclass(cls, TransientError) else cls(message))
            else:
                future.set_result(result)

    async def aclose(self) -> None:
        return None


@contextlib.asynccontextmanager
async def ray_backend(opener: Opener, *, workers: int | None = None, models: tuple[str, ...] = (),
                      address: str | None = None, cpus_per_worker: float = 1.0) -> AsyncIterator[RayBackend]:
    """Start ``workers`` actors (default: the cluster's CPUs / ``cpus_per_worker``), each opening its own
    backend with ``opener``; yield the :class:`RayBackend` feeding them; stop them on exit."""
    ray = connect(address)
    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_worker))
    cls = _worker_class(ray, cpus_per_worker)
    actors = [cls.remote(opener) for _ in range(workers)]
    try:
        described = await asyncio.gather(*(a.describe.remote(list(models)) for a in actors))
        name, max_n, concurrency, cards = described[0]
        if any(d[0] != name for d in described):
            raise ConfigurationError(f"Ray workers disagree on the backend's name: {sorted({d[0] for d in described})}")
        yield RayBackend(actors, name=name, max_n=max_n, concurrency=concurrency, cards=cards)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.gather(*(a.stop.remote() for a in actors))
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
