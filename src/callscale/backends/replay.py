"""Serve completions recorded earlier (a store file or JSONL export), with no network.

The replay backend takes the *name* of the backend that recorded the samples, so pool keys match
and a recorded study regenerates offline exactly. Asking for a sample that was never recorded is a
permanent error naming the pool.

Example:
    >>> backend = ReplayBackend.from_samples([], name="local")
    >>> backend.name
    'local'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from callscale.backends.base import BackendError, Batch, ConfigurationError
from callscale.records import Completion, ModelCard
from callscale.store import Store, StoredSample, read_jsonl


class ReplayBackend:
    """Backend answering from recorded samples (see module docstring)."""

    max_n = 1024
    concurrency = 1024

    def __init__(self, samples: dict[tuple[str, int], Completion], *, name: str, cards: dict[str, ModelCard] | None = None):
        self.name = name
        self._samples = samples
        self._cards = dict(cards or {})

    @classmethod
    def from_samples(cls, samples: Iterable[StoredSample], *, name: str | None = None,
                     cards: dict[str, ModelCard] | None = None) -> ReplayBackend:
        """Index recorded samples; ``name`` defaults to the (single) backend that recorded them."""
        table: dict[tuple[str, int], Completion] = {}
        names: set[str] = set()
        for s in samples:
            names.add(s.backend)
            table[(s.request.key(s.backend), s.completion.index)] = replace(s.completion, cached=False)
        if name is None:
            if len(names) > 1:
                raise ConfigurationError(f"recording holds several backends {sorted(names)}; name the one to replay")
            name = next(iter(names), "replay")
        return cls(table, name=name, cards=cards)

    @classmethod
    def open(cls, path: str | Path, *, name: str | None = None, cards: dict[str, ModelCard] | None = None) -> ReplayBackend:
        """Load a recording from a store file (``.sqlite``/``.db``) or a JSONL(.gz) export."""
        p = Path(path)
        if not p.is_file():
            raise ConfigurationError(f"replay file not found: {p}")
        if p.suffix in {".jsonl", ".gz"}:
            return cls.from_samples(read_jsonl(p), name=name, cards=cards)
        store = Store(p, readonly=True)
        try:
            return cls.from_samples(store.samples(name), name=name, cards=cards)
        finally:
            store.close()

    def __len__(self) -> int:
        return len(self._samples)

    def card(self, model: str) -> ModelCard:
        return self._cards.get(model) or ModelCard(model, params=0)

    async def generate(self, batch: Batch) -> list[Completion]:
        """The recorded samples of ``batch``; a missing one is a permanent error."""
        key = batch.request.key(self.name)
        out = []
        for i in range(batch.start, batch.start + batch.n):
            sample = self._samples.get((key, i))
            if sample is None:
                raise BackendError(f"sample {i} of pool {key[:12]} was not recorded (model {batch.request.model})")
            out.append(sample)
        return out

    async def aclose(self) -> None:
        return None
