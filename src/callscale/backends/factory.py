"""Build a backend from a user's choice, checking it before any call is paid for.

The kinds come from :mod:`callscale.backends.registry`: the four built-in ones are opened here (the
embedded server is started, an OpenAI-compatible server is asked for its models first, a recording
is loaded, the simulated world is built); a registered or plugged-in class is opened through its
``from_spec`` (or built with no arguments).

Example:
    >>> BackendSpec(kind="simulated").validate().kind
    'simulated'
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callscale.backends.base import Backend, ConfigurationError
from callscale.backends.local import DEFAULT_MODEL, local_model
from callscale.backends.openai_compat import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_TIMEOUT_S
from callscale.backends.registry import BUILTIN_BACKENDS, backend_class, backend_names
from callscale.records import ModelCard

Responder = Callable[[Any], Any]


@dataclass(frozen=True)
class BackendSpec:
    """What the user asked for: a backend kind and its settings."""

    kind: str = "local"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"
    replay_path: Path | None = None
    replay_name: str | None = None
    params: int | None = None
    concurrency: int | None = None
    max_n: int = 1
    slots: int = 4
    threads: int = 2  # CPU threads of an embedded model server
    card: ModelCard | None = None  # size and prices of an openai model (the CLI fills it from the catalogue)
    timeout_s: float | None = None  # one whole call (default: the backend's)
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S

    def validate(self) -> BackendSpec:
        """Raise :class:`ConfigurationError` (one clear line) for a spec that cannot work."""
        if self.kind not in BUILTIN_BACKENDS:
            check = getattr(backend_class(self.kind), "check_spec", None)  # unknown names fail here, in one line
            if check is not None:
                check(self)
        if self.kind == "openai" and not self.base_url:
            raise ConfigurationError("--backend openai needs --base-url (e.g. http://127.0.0.1:8080/v1)")
        if self.kind == "openai" and not self.model:
            raise ConfigurationError("--backend openai needs --model")
        if self.kind == "replay" and (self.replay_path is None or not Path(self.replay_path).is_file()):
            raise ConfigurationError(f"--backend replay needs an existing --replay file (got {self.replay_path})")
        if self.kind == "local" and self.model is not None:
            local_model(self.model)  # unknown names fail here, in one line
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigurationError("--concurrency must be at least 1")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ConfigurationError(f"--timeout must be positive, got {self.timeout_s:g}")
        if not self.connect_timeout_s > 0:
            raise ConfigurationError(f"--connect-timeout must be positive, got {self.connect_timeout_s:g}")
        return self

    @property
    def model_name(self) -> str:
        return self.model or DEFAULT_MODEL


@contextlib.asynccontextmanager
async def open_backend(
    spec: BackendSpec | str, *, responder: Callable[[], Responder] | None = None, **options: Any
) -> AsyncIterator[Backend]:
    """Start (for ``local``) or connect to the backend of ``spec``; close it on exit.

    ``spec`` is a :class:`BackendSpec` or a backend name with its settings as keywords
    (``open_backend("openai", base_url=..., model=...)``). An ``openai`` server is asked for its
    model list first, so an unreachable server or an unknown model stops the run before anything is
    written. ``responder`` builds the simulated backend's answer model (tasks provide one).

    Example:
        >>> import asyncio
        >>> async def name() -> str:
        ...     async with open_backend("simulated", responder=lambda: (lambda request: {"A": 1.0})) as b:
        ...         return b.name
        >>> asyncio.run(name())
        'simulated'
    """
    if isinstance(spec, str):
        spec = BackendSpec(kind=spec, **options)
    spec.validate()
    opener = _BUILTIN_OPENERS.get(spec.kind)
    if opener is not None:
        async with opener(spec, responder) as backend:
            yield backend
        return
    async with _open_registered(spec, responder) as backend:
        yield backend


@contextlib.asynccontextmanager
async def _open_registered(spec: BackendSpec, responder: Callable[[], Responder] | None) -> AsyncIterator[Backend]:
    cls = backend_class(spec.kind)
    from_spec = getattr(cls, "from_spec", None)
    made = from_spec(spec, responder=responder) if from_spec is not None else cls()
    if inspect.isawaitable(made):
        made = await made
    if hasattr(made, "__aenter__"):
        async with made as backend:
            yield backend
        return
    try:
        yield made
    finally:
        await made.aclose()


@contextlib.asynccontextmanager
async def _open_local(spec: BackendSpec, responder: Callable[[], Responder] | None) -> AsyncIterator[Backend]:
    from callscale.backends.local import LocalBackend, ServerSettings

    settings = ServerSettings.for_model(spec.model_name, slots=spec.slots, threads=spec.threads)
    async with LocalBackend.started(settings, timeout_s=spec.timeout_s,
                                    connect_timeout_s=spec.connect_timeout_s) as local:
        yield local


@contextlib.asynccontextmanager
async def _open_openai(spec: BackendSpec, responder: Callable[[], Responder] | None) -> AsyncIterator[Backend]:
    from callscale.backends.openai_compat import OpenAICompatBackend

    cards = {spec.model_name: spec.card or ModelCard(spec.model_name, params=spec.params or 0)}
    remote = OpenAICompatBackend(str(spec.base_url), api_key_env=spec.api_key_env, max_n=spec.max_n,
                                 concurrency=spec.concurrency or 8, cards=cards,
                                 timeout_s=spec.timeout_s or DEFAULT_TIMEOUT_S, connect_timeout_s=spec.connect_timeout_s)
    await remote.check_serves([spec.model_name], url=str(spec.base_url), server="the server")
    try:
        yield remote
    finally:
        await remote.aclose()


@contextlib.asynccontextmanager
async def _open_replay(spec: BackendSpec, responder: Callable[[], Responder] | None) -> AsyncIterator[Backend]:
    from callscale.backends.replay import ReplayBackend

    backend = ReplayBackend.open(Path(str(spec.replay_path)), name=spec.replay_name)
    try:
        yield backend
    finally:
        await backend.aclose()


@contextlib.asynccontextmanager
async def _open_simulated(spec: BackendSpec, responder: Callable[[], Responder] | None) -> AsyncIterator[Backend]:
    from callscale.backends.simulated import SimulatedBackend

    if responder is None:
        raise ConfigurationError("the simulated backend needs a task that defines its answer model")
    backend = SimulatedBackend(responder(), params=spec.params or 1_000_000_000)
    try:
        yield backend
    finally:
        await backend.aclose()


_BUILTIN_OPENERS = {"local": _open_local, "openai": _open_openai, "replay": _open_replay, "simulated": _open_simulated}


def kinds() -> list[str]:
    """The backend names ``--backend`` accepts (see :func:`~callscale.backends.registry.backend_names`)."""
    return backend_names()


