"""Build a backend from a user's choice, checking it before any call is paid for.

Example:
    >>> BackendSpec(kind="simulated").validate().kind
    'simulated'
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from callscale.backends.base import Backend, BackendError, ConfigurationError
from callscale.backends.local import DEFAULT_MODEL, LocalBackend, ServerSettings
from callscale.backends.openai_compat import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_TIMEOUT_S, OpenAICompatBackend
from callscale.backends.replay import ReplayBackend
from callscale.backends.simulated import Responder, SimulatedBackend
from callscale.records import ModelCard

BACKEND_KINDS = ("local", "openai", "simulated", "replay")


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
    timeout_s: float | None = None  # one whole call (default: the backend's)
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S

    def validate(self) -> BackendSpec:
        """Raise :class:`ConfigurationError` (one clear line) for a spec that cannot work."""
        if self.kind not in BACKEND_KINDS:
            raise ConfigurationError(f"unknown backend {self.kind!r}; choose one of {', '.join(BACKEND_KINDS)}")
        if self.kind == "openai" and not self.base_url:
            raise ConfigurationError("--backend openai needs --base-url (e.g. http://127.0.0.1:8080/v1)")
        if self.kind == "openai" and not self.model:
            raise ConfigurationError("--backend openai needs --model")
        if self.kind == "replay" and (self.replay_path is None or not Path(self.replay_path).is_file()):
            raise ConfigurationError(f"--backend replay needs an existing --replay file (got {self.replay_path})")
        if self.kind == "local" and self.model not in (None, DEFAULT_MODEL):
            raise ConfigurationError(f"unknown local model {self.model!r}; the embedded model is {DEFAULT_MODEL}")
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
    spec: BackendSpec, *, responder: Callable[[], Responder] | None = None
) -> AsyncIterator[Backend]:
    """Start (for ``local``) or connect to the backend of ``spec``; close it on exit.

    An ``openai`` server is asked for its model list first, so an unreachable server or an unknown
    model stops the run before anything is written. ``responder`` builds the simulated backend's
    answer model (tasks provide one).
    """
    spec.validate()
    if spec.kind == "local":
        async with LocalBackend.started(ServerSettings(slots=spec.slots), timeout_s=spec.timeout_s,
                                        connect_timeout_s=spec.connect_timeout_s) as local:
            yield local
        return
    backend: Backend
    if spec.kind == "openai":
        cards = {spec.model_name: ModelCard(spec.model_name, params=spec.params or 0)}
        remote = OpenAICompatBackend(str(spec.base_url), api_key_env=spec.api_key_env, max_n=spec.max_n,
                                     concurrency=spec.concurrency or 8, cards=cards,
                                     timeout_s=spec.timeout_s or DEFAULT_TIMEOUT_S, connect_timeout_s=spec.connect_timeout_s)
        try:
            listed = {m.get("id") for m in await remote.models()}
        except BackendError as exc:
            await remote.aclose()
            raise ConfigurationError(f"cannot reach the server at {spec.base_url} ({exc})") from None
        if listed and spec.model_name not in listed and not _aliased(spec.model_name, await remote.models()):
            await remote.aclose()
            served = sorted(map(str, listed))
            raise ConfigurationError(f"model {spec.model_name!r} is not served at {spec.base_url}; it serves {served}")
        backend = remote
    elif spec.kind == "replay":
        backend = ReplayBackend.open(Path(str(spec.replay_path)), name=spec.replay_name)
    else:
        if responder is None:
            raise ConfigurationError("the simulated backend needs a task that defines its answer model")
        backend = SimulatedBackend(responder(), params=spec.params or 1_000_000_000)
    try:
        yield backend
    finally:
        await backend.aclose()


def _aliased(model: str, listing: list[dict[str, object]]) -> bool:
    return any(model in (entry.get("aliases") or []) for entry in listing)  # type: ignore[operator]
