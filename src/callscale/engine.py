"""The asyncio call engine: sample pools, store-backed reuse, concurrency limits, retries, ledger.

``await engine.complete(request, k)`` returns samples ``0 … k−1`` of the request's pool: stored
samples first, and only the missing ones are called for (batched up to the backend's ``max_n``,
with consecutive seeds so batched and single calls draw the same samples). Concurrent asks for
the same pool share one set of calls. Transport faults are retried with exponential backoff,
full jitter and ``Retry-After``; a 200 reply that is not an answer is retried
``RetryPolicy.malformed_attempts`` times in all; a sample whose call finally fails comes back with
``error`` set and is recorded as a failure (with its reason, keys redacted), never dropped. Refused
credentials (401/403) record the failure and stop the work with :class:`AuthenticationError`; a store
that can no longer be written stops it with :class:`~callscale.store.StoreError`. One pool holds at
most :data:`MAX_SAMPLES` samples, and its missing samples are called for by a few workers in turn, so
memory does not grow with the number asked for before calls return. A backend that can answer at once
(:class:`~callscale.backends.base.InstantBackend`, e.g. the simulated one at zero latency) has the
empty pools of a :meth:`Engine.complete_many` filled in one pass, with the same bookkeeping.

Example:
    >>> import asyncio
    >>> from callscale.backends.simulated import SimulatedBackend
    >>> engine = Engine(SimulatedBackend.constant({"A": 1.0}))
    >>> [c.text for c in asyncio.run(engine.complete(Request.chat("sim", "q"), 2))]
    ['A', 'A']
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from callscale.backends.base import AuthenticationError, Backend, BackendError, Batch, MalformedReply, TransientError
from callscale.ledger import Ledger
from callscale.records import Completion, ModelCard, Request
from callscale.redaction import redact
from callscale.store import Store, StoreError

MAX_SAMPLES = 100_000  # samples one pool may hold: larger asks are refused before any call

T = TypeVar("T")
_TALLIES: contextvars.ContextVar[tuple[Ledger, ...]] = contextvars.ContextVar("callscale_tallies", default=())
"""Ledgers of the current task's open :meth:`Engine.tally` blocks (tasks it starts inherit them)."""
_Miss = tuple[int, Request, int, str, list[Completion]]  # (position in the asks, request, k, pool key, stored samples)


@dataclass(frozen=True)
class RetryPolicy:
    """How transport faults are retried: ``attempts`` tries in all, delays ``base·2^i`` with full jitter."""

    attempts: int = 6
    malformed_attempts: int = 3  # a 200 reply that is not an answer: tried this many times in all
    base_s: float = 0.2
    max_s: float = 20.0
    max_retry_after_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
        backoff = rng.uniform(0.0, min(self.max_s, self.base_s * 2**attempt))
        if retry_after is not None:
            return max(backoff, min(retry_after, self.max_retry_after_s))
        return backoff


@dataclass
class EngineStats:
    """Live counters for progress display and accounting checks."""

    requests: int = 0  # backend calls made (one per batch attempt that got an answer or a fault)
    samples: int = 0  # samples generated now
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0  # samples that finally failed
    first_error: str | None = None  # the reason of the first failure, for the run's closing line


class Limiter(Protocol):
    """A rate limit shared by every call to one endpoint (see :mod:`callscale.limits`)."""

    async def acquire(self, tokens: int = 0) -> object:
        """Wait until one more request of about ``tokens`` tokens may be sent."""
        ...


class _Route:
    """One backend as the engine uses it: its calls in flight, its waiters and its rate limiter."""

    __slots__ = ("active", "backend", "limit", "limiter", "waiters")

    def __init__(self, backend: Backend, limit: int, limiter: Limiter | None) -> None:
        self.backend = backend
        self.limit = limit
        self.limiter = limiter
        self.active = 0
        self.waiters: deque[asyncio.Future[None]] = deque()


class Engine:
    """Runs requests against backends with a store, a ledger and limits (see module docstring).

    ``backend`` is one backend, or a mapping from model name to backend (``"*"``: every other
    model) so one run can mix models served by different backends; each backend keeps its own
    concurrency limit (``concurrency`` caps each) and, from ``limiters`` (backend name → limiter), its
    own rate limit.
    """

    def __init__(
        self,
        backend: Backend | Mapping[str, Backend],
        *,
        store: Store | None = None,
        ledger: Ledger | None = None,
        concurrency: int | None = None,
        retry: RetryPolicy | None = None,
        cards: dict[str, ModelCard] | None = None,
        seed: int = 0,
        limiters: Mapping[str, Limiter] | None = None,
        claims: bool | None = None,
        lease_s: float = 60.0,
    ) -> None:
        by_model = dict(backend) if isinstance(backend, Mapping) else {"*": backend}
        if not by_model:
            raise ValueError("an engine needs at least one backend")
        limiters = dict(limiters or {})
        routes: dict[int, _Route] = {}
        for model, b in by_model.items():
            route = routes.get(id(b))
            if route is None:
                route = routes[id(b)] = _Route(b, concurrency or b.concurrency, None)
            route.limiter = route.limiter or limiters.get(model) or limiters.get(b.name)
        self._routes = {model: routes[id(b)] for model, b in by_model.items()}
        self._default = self._routes.get("*") or next(iter(self._routes.values()))
        self.backend = self._default.backend  # the backend of every model not routed elsewhere
        self.store = store if store is not None else Store(":memory:")
        self.ledger = ledger if ledger is not None else Ledger()
        self.retry = retry or RetryPolicy()
        self.stats = EngineStats()
        # Claims (a lease per sample in the store) keep other processes from paying for the same samples;
        # on by default for a store in a file (another process may share it), off in memory.
        self.claims = (self.store.path != ":memory:") if claims is None else claims
        self.lease_s = lease_s
        self._heartbeat: asyncio.TimerHandle | None = None
        # Every pool asked for → the most samples asked of it (a run's completions), once track_pools() is
        # called; off by default so a long sweep's memory does not grow with the pools it touches.
        self.keys: dict[str, int] | None = None
        self._fatal: BaseException | None = None  # a store error met while flushing between calls
        self._rejected_before = len(self.store.rejected)  # the store's refused rows are counted from here
        self._limit = sum(r.limit for r in routes.values())  # calls in flight across all backends
        self._rng = random.Random(seed)
        self._cards = dict(cards or {})
        # Pools being filled; the future is made only when a second ask has to wait for the fill.
        self._inflight: dict[str, asyncio.Future[None] | None] = {}
        self._flush_scheduled = False
        # Pools filled while a bulk lookup is outstanding, so its stale view is not trusted.
        self._fills = 0
        self._filled_at: dict[str, int] = {}
        self._bulk_active = 0

    # -- public API --------------------------------------------------------------------------
    def card(self, model: str) -> ModelCard:
        """The model card used for cost accounting of ``model``."""
        card = self._cards.get(model)
        if card is None:
            card = self._cards[model] = self._route(model).backend.card(model)
        return card

    def track_pools(self) -> dict[str, int]:
        """Start recording every pool asked for (key → most samples asked); returns the record."""
        if self.keys is None:
            self.keys = {}
        return self.keys

    def backends(self) -> list[Backend]:
        """Every backend this engine calls (each once)."""
        return list({id(r.backend): r.backend for r in self._routes.values()}.values())

    def _route(self, model: str) -> _Route:
        return self._routes.get(model) or self._default

    async def complete(self, request: Request, k: int = 1, *, node: str = "default", depth: int = 1,
                       start: int = 0) -> list[Completion]:
        """Samples ``0 … k−1`` of ``request``'s pool, calling only for the missing ones. With ``start``,
        the caller has read samples ``0 … start−1`` already (e.g. an earlier round of the same node):
        only samples ``start …`` are counted in the ledger and the stats."""
        _check_k(k)
        if not 0 <= start <= k:
            raise ValueError(f"start must be between 0 and k = {k}, got {start}")
        self._raise_fatal()
        key = request.key(self._route(request.model).backend.name)
        if self.keys is not None and self.keys.get(key, 0) < k:
            self.keys[key] = k
        return await self._complete(request, k, key, None, node, depth, start=start)

    async def complete_many(
        self, asks: Sequence[tuple[Request, int]], *, node: str = "default", depth: int = 1
    ) -> list[list[Completion]]:
        """:meth:`complete` for many (request, k) pairs at once, results in the same order.

        Stored samples are looked up in bulk; only pools with missing samples become tasks.
        """
        for _, k in asks:
            _check_k(k)
        self._raise_fatal()
        keys = [r.key(self._route(r.model).backend.name) for r, _ in asks]
        seen = self.keys
        if seen is not None:
            for key, (_, k) in zip(keys, asks, strict=True):
                if seen.get(key, 0) < k:
                    seen[key] = k
        stored = self.store.pools(keys, max((k for _, k in asks), default=1))
        epoch = self._fills
        self._bulk_active += 1
        results: list[list[Completion] | None] = [None] * len(asks)
        waiting: list[_Miss] = []
        for i, ((request, k), key) in enumerate(zip(asks, keys, strict=True)):
            got = stored.get(key)
            have = [c for c in got if c.index < k] if got else []
            if len(have) == k and key not in self._inflight:
                self.stats.cache_hits += k
                self._record(request, have, node, depth)
                results[i] = have
            else:
                waiting.append((i, request, k, key, have))
        try:
            if waiting and any(getattr(r.backend, "generate_now", None) is not None for r in self._routes.values()):
                waiting = self._fill_now(waiting, results, node, depth, epoch)
            # A few workers pull the misses in turn: a task per miss would cost more than a simulated call.
            todo = iter(waiting)

            async def worker() -> None:
                for i, request, k, key, have in todo:
                    results[i] = await self._complete(request, k, key, have, node, depth, epoch)

            await asyncio.gather(*(worker() for _ in range(min(len(waiting), self._limit))))
        finally:
            self._bulk_active -= 1
            if not self._bulk_active:
                self._filled_at.clear()
        return [r for r in results if r is not None]

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work()`` on a fresh event loop; the store is flushed however it ends.

        Example:
            >>> from callscale.backends.simulated import SimulatedBackend
            >>> engine = Engine(SimulatedBackend.constant({"A": 1.0}))
            >>> [c.text for c in engine.run(lambda: engine.complete(Request.chat("sim", "q"), 3))]
            ['A', 'A', 'A']
        """

        async def main() -> T:
            try:
                return await work()
            finally:
                self.store.flush()

        try:
            return asyncio.run(main())
        finally:
            self.store.flush()

    async def aclose(self) -> None:
        """Flush the store and close the backends."""
        self.store.flush()
        for backend in self.backends():
            await backend.aclose()

    # -- internals ---------------------------------------------------------------------------
    def _batches(self, request: Request, k: int, have: set[int]) -> list[Batch]:
        max_n = max(1, self._route(request.model).backend.max_n)
        batches: list[Batch] = []
        i = 0
        while i < k:
            if i in have:
                i += 1
                continue
            start = i
            while i < k and i not in have and i - start < max_n:
                i += 1
            batches.append(Batch(request, start, i - start))
        return batches

    def _fill_now(self, waiting: list[_Miss], results: list[list[Completion] | None], node: str, depth: int,
                  epoch: int) -> list[_Miss]:
        """Fill the empty pools one call can fill and the backend can answer at once (see
        :class:`~callscale.backends.base.InstantBackend`), with the bookkeeping of :meth:`_complete`;
        returns the asks left for the awaiting path (partial pools, refusals, backend errors)."""
        rest = []
        for entry in waiting:
            i, request, k, key, have = entry
            backend = self._route(request.model).backend
            generate_now: Callable[[Batch], list[Completion] | None] | None = getattr(backend, "generate_now", None)
            if (generate_now is None or have or k > backend.max_n or key in self._inflight
                    or self._filled_at.get(key, -1) >= epoch):
                rest.append(entry)
                continue
            try:
                fresh = generate_now(Batch(request, 0, k))
            except BackendError:  # the awaiting path calls again and records the failure
                fresh = None
            if fresh is None:
                rest.append(entry)
                continue
            self.stats.requests += 1
            self._keep(key, request, fresh)
            self._mark_filled(key)
            self._record(request, fresh, node, depth)
            results[i] = fresh
        if len(rest) < len(waiting):
            self._schedule_flush()
        return rest

    async def _complete(self, request: Request, k: int, key: str, have: list[Completion] | None,
                        node: str, depth: int, epoch: int = -1, start: int = 0) -> list[Completion]:
        while key in self._inflight:
            pending = self._inflight[key]
            if pending is None:
                pending = self._inflight[key] = asyncio.get_running_loop().create_future()
            await asyncio.shield(pending)
            have = None
        if have is None or self._filled_at.get(key, -1) >= epoch:  # filled since the bulk lookup: read again
            have = self.store.pool(key, k)
        if len(have) < k:
            self._inflight[key] = None
            try:
                if self.claims:
                    fresh, shared = await self._fill_claimed(request, key, k, have)
                    self.stats.cache_hits += shared
                elif not have and k <= self._route(request.model).backend.max_n:  # one call: skip the gather
                    fresh = await self._call(key, Batch(request, 0, k))
                else:
                    fresh = await self._fill(request, key, k, {c.index for c in have})
            finally:
                waiting = self._inflight.pop(key)
                self._mark_filled(key)
                if waiting is not None:
                    waiting.set_result(None)
            self.stats.cache_hits += sum(c.index >= start for c in have)
            samples = sorted(have + fresh, key=lambda c: c.index) if have else fresh
        else:
            self.stats.cache_hits += k - start
            samples = have
        self._record(request, samples[start:] if start else samples, node, depth)
        return samples

    def _keep(self, key: str, request: Request, completions: list[Completion]) -> None:
        """Count the samples a call made and queue them for the store."""
        self.stats.samples += len(completions)
        self.store.add(self._route(request.model).backend.name, request, completions, key)

    def _mark_filled(self, key: str) -> None:
        """Note that pool ``key`` was filled, so asks holding an older bulk lookup read it again."""
        if self._bulk_active:
            self._filled_at[key] = self._fills
        self._fills += 1

    def _record(self, request: Request, samples: list[Completion], node: str, depth: int) -> None:
        card = self.card(request.model)
        for ledger in (self.ledger, *_TALLIES.get()):
            for c in samples:
                ledger.record(node, card, c, depth)

    @contextlib.contextmanager
    def tally(self) -> Iterator[Ledger]:
        """Within the block — in this task and the tasks it starts — every completion handed out is also
        counted in a fresh ledger: the cost of one piece of work while others share the engine (e.g.
        search trials running at once), which before/after differences of :attr:`ledger` would mix.

        Example:
            >>> from callscale.backends.simulated import SimulatedBackend
            >>> engine = Engine(SimulatedBackend.constant({"4": 1.0}))
            >>> async def two() -> tuple[int, int]:
            ...     with engine.tally() as mine:
            ...         await engine.complete(Request.chat("m", "2+2?"), 3)
            ...     await engine.complete(Request.chat("m", "3+1?"), 2)
            ...     return mine.total().system.calls, engine.ledger.total().system.calls
            >>> asyncio.run(two())
            (3, 5)
        """
        ledger = Ledger()
        token = _TALLIES.set((*_TALLIES.get(), ledger))
        try:
            yield ledger
        finally:
            _TALLIES.reset(token)

    async def _fill_claimed(self, request: Request, key: str, k: int,
                            have: list[Completion]) -> tuple[list[Completion], int]:
        """Fill the pool under claims: call only for samples claimed here; wait for samples another
        process is drawing (or for their leases to expire). Returns (new samples, how many of them
        another process paid for)."""
        got = {c.index: c for c in have}
        fresh: list[Completion] = []
        shared, wait = 0, 0.05
        while len(got) < k:
            missing = [i for i in range(k) if i not in got]
            mine, held = self.store.claim(key, missing, self.lease_s)
            if mine:
                self._keep_claims_alive()
                drawn = await self._fill(request, key, k, set(range(k)) - set(mine))
                fresh.extend(drawn)
                got.update((c.index, c) for c in drawn)
            if len(got) < k:
                if held:
                    await asyncio.sleep(wait)
                    wait = min(1.0, wait * 2)
                for c in self.store.pool(key, k):  # written by another process meanwhile
                    if c.index not in got:
                        got[c.index] = c
                        fresh.append(c)
                        shared += 1
        return sorted(fresh, key=lambda c: c.index), shared

    def _keep_claims_alive(self) -> None:
        """Renew this engine's claims every third of a lease while it holds any."""
        if self._heartbeat is not None:
            return
        loop = asyncio.get_running_loop()

        def beat() -> None:
            self._heartbeat = None
            try:
                held = self.store.renew_claims(self.lease_s)
            except StoreError as exc:
                self._fatal = exc
                return
            if held:
                self._heartbeat = loop.call_later(self.lease_s / 3, beat)

        self._heartbeat = loop.call_later(self.lease_s / 3, beat)

    async def _fill(self, request: Request, key: str, k: int, have: set[int]) -> list[Completion]:
        """Call for the missing samples: at most as many batches in flight as the engine allows."""
        batches = self._batches(request, k, have)
        limit = self._route(request.model).limit
        if len(batches) <= limit:
            results = await asyncio.gather(*(self._call(key, b) for b in batches))
            return [c for batch in results for c in batch]
        todo, out = iter(batches), []

        async def worker() -> None:
            for batch in todo:
                out.extend(await self._call(key, batch))

        await asyncio.gather(*(worker() for _ in range(limit)))
        return sorted(out, key=lambda c: c.index)

    async def _call(self, key: str, batch: Batch) -> list[Completion]:
        route = self._route(batch.request.model)
        error, malformed, attempt = "no attempt made", 0, 0
        for attempt in range(self.retry.attempts):
            retry_after: float | None = None
            if route.limiter is not None:
                await route.limiter.acquire(_tokens_of(batch))
            if route.active >= route.limit:
                await self._wait_for_slot(route)
            route.active += 1
            try:
                self._raise_fatal()  # checked once a slot is ours: nothing is sent after the work must stop
                self.stats.requests += 1
                completions = await route.backend.generate(batch)
            except MalformedReply as exc:
                error, malformed = str(exc), malformed + 1
                if malformed >= self.retry.malformed_attempts:
                    break
            except TransientError as exc:
                error, retry_after = str(exc), exc.retry_after
            except AuthenticationError as exc:
                self._fail(key, batch, str(exc), attempt + 1)
                self._fatal = exc
                raise
            except BackendError as exc:
                error = str(exc)
                break
            else:
                self._keep(key, batch.request, completions)
                self._schedule_flush()
                return completions
            finally:
                self._release_slot(route)
            if attempt + 1 < self.retry.attempts:
                self.stats.retries += 1
                await asyncio.sleep(self.retry.delay(attempt, retry_after, self._rng))
        self._fail(key, batch, error, attempt + 1)
        return [Completion(text="", index=i, error=error) for i in range(batch.start, batch.start + batch.n)]

    def _fail(self, key: str, batch: Batch, error: str, attempts: int) -> None:
        """Record the samples of ``batch`` as failed for good, with the (redacted) reason."""
        error = redact(error)
        self.stats.failures += batch.n
        if self.stats.first_error is None:
            self.stats.first_error = error
        for i in range(batch.start, batch.start + batch.n):
            self.store.add_failure(key, i, error, attempts)
        self._schedule_flush()

    def _raise_fatal(self) -> None:
        if self._fatal is not None:
            raise self._fatal

    # A counter and a FIFO of waiters instead of asyncio.Semaphore: taking a free slot costs no
    # coroutine, which matters at tens of thousands of calls per second.
    async def _wait_for_slot(self, route: _Route) -> None:
        while route.active >= route.limit:
            waiter = asyncio.get_running_loop().create_future()
            route.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_next(route)  # pass on the slot we were given but will not use
                raise

    def _release_slot(self, route: _Route) -> None:
        route.active -= 1
        if route.waiters:
            self._wake_next(route)

    @staticmethod
    def _wake_next(route: _Route) -> None:
        while route.waiters:
            waiter = route.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        try:
            self.store.flush()
        except StoreError as exc:  # raised in the next call or ask, not lost in the event loop's log
            self._fatal = exc

    @property
    def failed(self) -> int:
        """Samples that failed for good in this engine, including paid replies the store refused."""
        return self.stats.failures + len(self.store.rejected) - self._rejected_before

    @property
    def first_failure(self) -> str | None:
        """The reason of the first failure (a refused call, or a reply the store could not keep)."""
        if self.stats.first_error is not None:
            return self.stats.first_error
        rejected = self.store.rejected[self._rejected_before:]
        return rejected[0][2] if rejected else None

    def summary(self) -> dict[str, Any]:
        """Counters and ledger as plain data."""
        s = self.stats
        return {
            "backend": self.backend.name,
            "requests": s.requests,
            "samples": s.samples,
            "cache_hits": s.cache_hits,
            "retries": s.retries,
            "failures": self.failed,
            "first_failure": self.first_failure,
            "ledger": self.ledger.as_dict(),
        }


def _tokens_of(batch: Batch) -> int:
    """A rough token count of a call for tokens-per-minute limits: prompt characters / 4 plus the cap."""
    request = batch.request
    text = sum(len(m.content) for m in request.messages) if request.messages else len(request.prompt or "")
    return text // 4 + batch.n * (request.sampling.max_tokens or 0)


def _check_k(k: int) -> None:
    """Refuse a pool size that cannot be meant, before anything is planned."""
    try:
        ok = not isinstance(k, bool) and int(k) == k and 1 <= k <= MAX_SAMPLES
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"k must be an integer from 1 to {MAX_SAMPLES:,}, got {k!r}")
