"""Run a backend's calls on a Ray cluster: W actors, each holding its own backend (a model replica
for ``local``, a client for a server), fed by the driver's engine.

The driver keeps everything that must be single: the store (the one source of truth), claims (so
no sample is paid twice, across drivers too), the ledger and the rate limiters (the driver sends
every call, so a limit is cluster-wide by construction). :class:`RayBackend` is an ordinary
:class:`~callscale.backends.base.Backend` to the engine: its name, ``max_n`` and cards are the
replicas', so pools, seeds and numbers are the same as a local run's. The calls queued in one
event-loop turn go out together, to the least busy actor (a pool's samples asked at once go to one
replica, where its prompt stays cached), as one pickled message: one Ray call, and one object, per
group rather than per call. The worker answers as its calls end, in batches (every call ended since
its last reply), so a slow call holds back no other; calls that come back together go out together
again, so groups stay large. A worker that dies fails its calls still out as transient: the engine
retries them, Ray restarts the actor, and its claims expire if the driver died too.

Ray is optional (``pip install 'callscale[ray]'``) and imported only here. For a local cluster this
module binds Ray to 127.0.0.1; with an address (``--ray-address`` or ``RAY_ADDRESS``) it joins that
cluster as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import logging
import os
import pickle
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from operator import attrgetter
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
from callscale.records import Completion, Message, ModelCard, Request, Sampling, TokenLogprob, Usage

INSTALL = "pip install 'callscale[ray]'"
Opener = Callable[[], AbstractAsyncContextManager[Backend]]
_ERRORS: dict[str, type[BackendError]] = {"TransientError": TransientError, "MalformedReply": MalformedReply,
                                          "AuthenticationError": AuthenticationError, "BackendError": BackendError}


# The wire: a round trip's batches (and their completions) travel as one pickle made here, not as
# objects for Ray to pickle: the records are frozen, slotted dataclasses whose own pickling reads
# ``dataclasses.fields`` per object, which costs more driver time than the call itself. A request
# goes as plain tuples (and the seed digest already computed, not the identity text it comes from).
_SAMPLING_FIELDS = attrgetter(*(f.name for f in dataclasses.fields(Sampling)))
_SAMPLINGS: dict[tuple[Any, ...], Sampling] = {}


def _request(cls: type[Request], model: str, messages: tuple[tuple[str, str], ...] | None, prompt: str | None,
             sampling: tuple[Any, ...], extra: Any, facts: Any, digest: int | None) -> Request:
    settings = _SAMPLINGS.get(sampling)
    if settings is None:
        if len(_SAMPLINGS) >= 4096:
            _SAMPLINGS.clear()
        settings = _SAMPLINGS[sampling] = Sampling(*sampling)
    out = object.__new__(cls)
    state = out.__dict__
    state["model"] = model
    state["messages"] = None if messages is None else tuple([Message(r, c) for r, c in messages])
    state["prompt"], state["sampling"], state["extra"], state["facts"] = prompt, settings, extra, facts
    if digest is not None:
        state["identity_digest"] = digest
    return out


def _reduce_request(r: Request) -> tuple[Any, ...]:
    messages = None if r.messages is None else tuple([(m.role, m.content) for m in r.messages])
    return _request, (type(r), r.model, messages, r.prompt, _SAMPLING_FIELDS(r.sampling), r.extra, r.facts,
                      r.__dict__.get("identity_digest"))


def _by_fields(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    get = attrgetter(*(f.name for f in dataclasses.fields(cls)))

    def reduce(obj: Any) -> tuple[Any, ...]:
        return cls, get(obj)

    return reduce


_REDUCERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    cls: _by_fields(cls) for cls in (Batch, Message, Sampling, Completion, Usage, TokenLogprob)}
_REDUCERS[Request] = _reduce_request  # exact types: a subclass is pickled as usual


def _dumps(obj: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(obj)
    return buffer.getvalue()


def _failure(exc: BackendError) -> tuple[str, str, str, float | None]:
    kind = next((n for n, cls in _ERRORS.items() if type(exc) is cls), "BackendError")
    return ("error", kind, str(exc), getattr(exc, "retry_after", None))


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

    async def run(self, payload: bytes) -> AsyncIterator[bytes]:
        """The results of the batches in ``payload`` (see :func:`_dumps`) as they come: each reply is
        a list of ``(position, completions)`` or ``(position, ("error", kind, message, retry_after))``
        of the calls that ended since the last one, so a slow call holds back no other."""
        backend = await self._open()
        batches = [Batch(request, start, n) for request, start, n in pickle.loads(payload)]
        ended: list[tuple[int, Any]] = []
        now: Callable[[Batch], list[Completion] | None] | None = getattr(backend, "generate_now", None)
        waits: list[int] = []
        for i, batch in enumerate(batches):
            got = None
            if now is not None:
                with contextlib.suppress(BackendError):  # generate() below raises it again, as it would locally
                    got = now(batch)
            if got is None:
                waits.append(i)
            else:
                ended.append((i, got))
        if not waits:
            yield _dumps(ended)
            return
        woken = asyncio.Event()

        async def one(i: int) -> None:
            result: Any
            try:
                result = await backend.generate(batches[i])
            except BackendError as exc:
                result = _failure(exc)
            ended.append((i, result))  # the list of now: the reply being gathered
            woken.set()

        calls = [asyncio.ensure_future(one(i)) for i in waits]  # held here until every one has ended
        left = len(batches)
        while left:
            while not ended:
                woken.clear()
                await woken.wait()
            part, ended = ended, []
            left -= len(part)
            yield _dumps(part)
        del calls

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
        self._each = max(1, concurrency)  # calls one replica takes at once
        self._cards = cards
        self._pending: list[tuple[Batch, asyncio.Future[list[Completion]]]] = []
        self._busy = [0] * len(actors)  # calls in flight per actor
        self._scheduled = False
        self._trips: set[asyncio.Future[None]] = set()
        self.round_trips = 0

    def card(self, model: str) -> ModelCard:
        return self._cards.get(model) or ModelCard(model, params=0)

    async def generate(self, batch: Batch) -> list[Completion]:
        future: asyncio.Future[list[Completion]] = asyncio.get_running_loop().create_future()
        self._pending.append((batch, future))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._send)
        return await future

    def _send(self) -> None:
        """Send the calls queued this loop turn, in one round trip per actor used: to the least busy
        actor up to its replica's concurrency, the rest likewise (all to the least busy when every
        one is full). Calls queued together stay together (a pool's samples asked at once go to one
        replica), and calls that come back together go out together again, so round trips stay few
        and large instead of splitting across actors on every turn."""
        self._scheduled = False
        queued, self._pending = self._pending, []
        busy, start = self._busy, 0
        while start < len(queued):
            actor = min(range(len(busy)), key=busy.__getitem__)
            room = self._each - busy[actor]
            end = len(queued) if room <= 0 else min(len(queued), start + room)
            trip = asyncio.ensure_future(self._round_trip(actor, queued[start:end]))
            busy[actor] += end - start
            self._trips.add(trip)  # held until done (the loop keeps only weak references)
            trip.add_done_callback(self._trips.discard)
            start = end

    async def _round_trip(self, actor: int, queued: list[tuple[Batch, asyncio.Future[list[Completion]]]]) -> None:
        self.round_trips += 1
        left = len(queued)
        try:
            async for part in self.actors[actor].run.options(num_returns="streaming").remote(
                    _dumps([(b.request, b.start, b.n) for b, _ in queued])):
                ended = pickle.loads(await part)
                left -= len(ended)
                self._busy[actor] -= len(ended)
                for i, result in ended:
                    _settle(queued[i][1], result)
        except Exception as exc:  # the actor died (or Ray failed): its calls still out may be retried
            for _, future in queued:
                if not future.done():
                    future.set_exception(TransientError(f"Ray worker failed ({type(exc).__name__})"))
        finally:
            self._busy[actor] -= left

    async def aclose(self) -> None:
        return None


def _settle(future: asyncio.Future[list[Completion]], result: Any) -> None:
    """Give ``future`` the completions of its call, or its failure as the backend's exception."""
    if future.done():
        return
    if isinstance(result, tuple) and result and result[0] == "error":
        _, kind, message, retry_after = result
        cls = _ERRORS.get(kind, BackendError)
        future.set_exception(cls(message, retry_after) if issubclass(cls, TransientError) else cls(message))
    else:
        future.set_result(result)


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



def ray_map(fn: Callable[[Any], Any], items: Any, *, address: str | None = None) -> list[Any]:
    """``fn`` over ``items`` (any iterable) as Ray tasks (one CPU each), the results in order: a
    :data:`~callscale.executors.local.Mapper` for the analysis's independent fits (bootstrap replicates,
    cross-validation folds), which give the same numbers wherever they run. Uses the cluster Ray is
    connected to, else joins or starts one as :func:`connect` does; ``fn`` is put in the object store
    once and shared by the tasks. When no CPU of the cluster is free, they run here instead."""
    todo = list(items)
    if not todo:
        return []
    ray = connect(address)
    if ray.available_resources().get("CPU", 0.0) < 1.0:
        # every CPU is held (e.g. by the workers of a run still open): tasks would wait for ever, so the
        # fits run here — the same numbers, as the fits are independent and seeded
        return [fn(item) for item in todo]

    def apply(shared: Callable[[Any], Any], item: Any) -> Any:
        return shared(item)

    task = ray.remote(num_cpus=1)(apply)
    fn_ref = ray.put(fn)
    return list(ray.get([task.remote(fn_ref, item) for item in todo]))
