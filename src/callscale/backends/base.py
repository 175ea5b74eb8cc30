"""The Backend protocol: turn a Request into Completions, nothing more.

Backends do no caching and no retrying of their own; they raise :class:`TransientError` for faults
worth retrying (429, 5xx, timeouts, dropped connections), :class:`MalformedReply` for a 200 reply
that is not an answer, :class:`AuthenticationError` for refused credentials (the run stops) and
:class:`BackendError` for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from callscale.records import Completion, ModelCard, Request
from callscale.recordtools import slot_init


class BackendError(Exception):
    """A call failed and retrying will not help (bad request, unknown model...)."""


class TransientError(BackendError):
    """A call failed in a way worth retrying; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationError(BackendError):
    """The server refused the credentials (401/403): no call can succeed, so the run stops at once."""


class MalformedReply(TransientError):
    """A 200 reply that is not a usable answer (invalid JSON, no ``choices``): retried a few times only."""


class ConfigurationError(Exception):
    """The user asked for something that cannot work (unknown backend, missing runtime...)."""


@slot_init
@dataclass(frozen=True, slots=True)
class Batch:
    """Samples ``start … start+n−1`` of one request's pool, asked for in one call."""

    request: Request
    start: int
    n: int

    @property
    def seed(self) -> int:
        return self.request.seed_for(self.start)


@runtime_checkable
class InstantBackend(Protocol):
    """A backend that can sometimes answer without waiting (the simulated one at zero latency).

    ``generate_now(batch)`` returns what ``await generate(batch)`` would return, or None when this
    call has to go through :meth:`Backend.generate` (latency to wait, a fault to raise). The engine
    fills pools this way in bulk, without a coroutine, a concurrency slot or a retry loop per call.
    """

    def generate_now(self, batch: Batch) -> list[Completion] | None:
        """The completions of ``batch`` if they can be had at once, else None."""
        ...


@runtime_checkable
class Backend(Protocol):
    """Anything that can produce samples for a request.

    ``name`` is part of every sample's identity (so it must not change between runs, e.g. no port
    numbers); ``max_n`` is the most samples one call may return; ``concurrency`` is the default
    number of calls in flight.
    """

    name: str
    max_n: int
    concurrency: int

    async def generate(self, batch: Batch) -> list[Completion]:
        """Return exactly ``batch.n`` completions indexed ``batch.start …``."""
        ...

    def card(self, model: str) -> ModelCard:
        """Cost facts about ``model`` on this backend."""
        ...

    async def aclose(self) -> None:
        """Release connections and processes."""
        ...
