"""Catalogue models opened as backends: one backend per endpoint for the models a run names, with
the catalogue's cards (sizes, prices) and rate limiters; and the card of a model given on the
command line (``--backend openai --model NAME``), sized from the built-in catalogue and priced from
the price table.

This module sits above both the catalogue and the backends (it imports them; neither imports it).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callscale.backends.base import Backend, ConfigurationError
from callscale.backends.factory import BackendSpec, Responder, open_backend
from callscale.backends.openai_compat import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_TIMEOUT_S
from callscale.records import ModelCard


def openai_card(spec: BackendSpec) -> ModelCard:
    """What a model on an OpenAI-compatible server costs: its size from ``--params`` or the built-in
    catalogue, its prices from the price table (genai-prices) — not looked up for a server on this
    machine; unknown stays unknown ("—", with a warning), never 0."""
    from urllib.parse import urlsplit

    from callscale.catalogue import ModelEntry, builtin_catalogue, with_prices

    known = builtin_catalogue().get(spec.model_name, None)
    entry = ModelEntry(spec.model_name, "openai", base_url=spec.base_url, params=spec.params or (known.params if known else 0))
    host = urlsplit(str(spec.base_url)).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        entry = with_prices(entry)
    return entry.card()



@dataclass(frozen=True)
class OpenModels:
    """The backends of several catalogue models, ready for :class:`~callscale.engine.Engine`:
    ``Engine(models.backends, cards=models.cards, limiters=models.limiters)``."""

    backends: dict[str, Backend]
    cards: dict[str, ModelCard]
    limiters: dict[str, Any]

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~callscale.engine.Engine` for these models."""
        return {"cards": dict(self.cards), "limiters": dict(self.limiters)}


@contextlib.asynccontextmanager
async def open_models(catalogue: Any, models: Sequence[str], *, responder: Callable[[], Responder] | None = None,
                      slots: int = 4) -> AsyncIterator[OpenModels]:
    """Open one backend per endpoint for the catalogue ``models`` (entries on one server share it),
    with the catalogue's cards (sizes, prices) and per-endpoint rate limiters; close them all on exit.

    Local models are separate servers side by side, the machine's cores split between them. Unknown
    models, and entries that cannot work, stop here in one line before any call.

    Example:
        >>> import asyncio
        >>> from callscale.catalogue import catalogue_from_dict
        >>> cat = catalogue_from_dict({"a": {"backend": "simulated", "params": 10},
        ...                            "b": {"backend": "simulated", "params": 20}})
        >>> async def names() -> list[str]:
        ...     async with open_models(cat, ["a", "b"], responder=lambda: (lambda r: {"4": 1.0})) as opened:
        ...         return sorted(opened.backends)
        >>> asyncio.run(names())
        ['a', 'b']
    """
    entries = [catalogue.get(m) for m in dict.fromkeys(models)]
    groups: dict[str, list[Any]] = {}
    for entry in entries:
        groups.setdefault(entry.endpoint, []).append(entry)
    n_local = sum(1 for group in groups.values() if group[0].backend == "local")
    limiters = catalogue.limiters()
    async with contextlib.AsyncExitStack() as stack:
        backends: dict[str, Backend] = {}
        for group in groups.values():
            backend = await stack.enter_async_context(_open_group(group, responder, n_local, slots))
            backends.update({entry.name: backend for entry in group})
        cards = {e.name: e.card() for e in entries}
        for name, card in cards.items():  # sizes the server states (llama.cpp's /v1/models) fill unknown ones
            if not card.params and backends[name].card(name).params:
                cards[name] = backends[name].card(name)
        yield OpenModels(backends=backends, cards=cards,
                         limiters={e.name: limiters.for_endpoint(e.endpoint) for e in entries if e.rpm or e.tpm})


def _open_group(group: list[Any], responder: Callable[[], Responder] | None, n_local: int,
                slots: int) -> contextlib.AbstractAsyncContextManager[Backend]:
    """The backend serving the catalogue entries of one endpoint."""
    first = group[0]
    if first.backend == "local":
        return _open_local_entry(first, n_local, slots)
    if first.backend == "openai":
        return _open_openai_entries(group)
    if first.backend == "simulated":
        return _open_simulated_entries(group, responder)
    spec = BackendSpec(kind=first.backend, model=first.model, base_url=first.base_url, api_key_env=first.api_key_env,
                       params=first.params or None, concurrency=first.concurrency, timeout_s=first.timeout,
                       connect_timeout_s=first.connect_timeout or DEFAULT_CONNECT_TIMEOUT_S)
    return open_backend(spec, responder=responder)


@contextlib.asynccontextmanager
async def _open_local_entry(entry: Any, n_local: int, slots: int) -> AsyncIterator[Backend]:
    from callscale.backends.local import LocalBackend, ServerSettings

    threads = max(1, 2 // max(1, n_local))  # two local servers on two cores: one thread each
    if entry.weights:
        settings = ServerSettings(model_path=Path(entry.weights), alias=entry.model, threads=threads, slots=slots)
    else:
        settings = ServerSettings.for_model(entry.model, threads=threads, slots=slots)
    async with LocalBackend.started(settings, timeout_s=entry.timeout,
                                    connect_timeout_s=entry.connect_timeout or DEFAULT_CONNECT_TIMEOUT_S) as local:
        local.served[entry.name] = entry.model
        local._cards[entry.name] = entry.card()
        yield local


@contextlib.asynccontextmanager
async def _open_openai_entries(group: list[Any]) -> AsyncIterator[Backend]:
    from callscale.backends.openai_compat import OpenAICompatBackend

    first = group[0]
    remote = OpenAICompatBackend(
        str(first.base_url), api_key_env=first.api_key_env or "OPENAI_API_KEY",
        max_n=min(e.max_n or 1 for e in group), concurrency=min(e.concurrency or 8 for e in group),
        timeout_s=min(e.timeout or DEFAULT_TIMEOUT_S for e in group),
        connect_timeout_s=min(e.connect_timeout or DEFAULT_CONNECT_TIMEOUT_S for e in group),
        cards={e.name: e.card() for e in group}, served={e.name: e.model for e in group})
    await remote.check_serves([e.model for e in group], url=str(first.base_url), server=f"the server of {first.name!r}")
    try:
        yield remote
    finally:
        await remote.aclose()


@contextlib.asynccontextmanager
async def _open_simulated_entries(group: list[Any], responder: Callable[[], Responder] | None) -> AsyncIterator[Backend]:
    from callscale.backends.simulated import SimulatedBackend

    if responder is None:
        raise ConfigurationError("the simulated backend needs a task that defines its answer model")
    backend = SimulatedBackend(responder(), params={e.name: e.params or 1_000_000_000 for e in group})
    try:
        yield backend
    finally:
        await backend.aclose()
