"""The papers' probabilistic model as a backend: every request has an answer distribution.

A *responder* maps a request to a distribution over answer texts (for a question, a judge prompt,
a fusion prompt...). Sample ``i`` of a pool is drawn with a hash of (pool identity, seed), so runs
are exactly reproducible and batched calls equal single ones. Token counts and latency are
configurable; logprobs come back as the distribution itself (one token per answer). The responder
for tasks and networks is :func:`callscale.primitives.world.simulated_world`, which answers from the
facts a request carries; :meth:`SimulatedBackend.table` and :meth:`SimulatedBackend.constant` are for
tests of the engine and backends.

Example:
    >>> sim = SimulatedBackend.table({"2+2?": {"4": 0.7, "5": 0.3}})
    >>> sim.distribution(Request.chat("sim", "2+2?"))["4"]
    0.7
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from callscale.backends.base import BackendError, Batch, TransientError
from callscale.records import Completion, ModelCard, Request, TokenLogprob, Usage

Distribution = Mapping[str, float]
Responder = Callable[[Request], Distribution]

_MASK = (1 << 64) - 1
_USAGE_CACHE = 4096


def _splitmix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def identity_hash(identity: str) -> int:
    """A stable 64-bit hash of a pool identity (Python's own ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(identity.encode(), digest_size=8).digest(), "big")


def uniform(identity: str | int, seed: int, salt: int = 0) -> float:
    """A deterministic uniform number in [0, 1) for (identity, seed, salt)."""
    base = identity if isinstance(identity, int) else identity_hash(identity)
    return _splitmix(base ^ _splitmix(seed * 1_000_003 + salt)) / 2.0**64


def with_temperature(dist: Distribution, temperature: float) -> dict[str, float]:
    """Apply a sampling temperature to a distribution (T=0 puts all mass on the argmax).

    Example:
        >>> with_temperature({"a": 0.75, "b": 0.25}, 0.0)
        {'a': 1.0, 'b': 0.0}
    """
    items = [(a, p) for a, p in dist.items() if p > 0]
    if not items:
        raise BackendError("responder returned an empty distribution")
    if temperature <= 0:
        best = max(items, key=lambda x: x[1])[0]
        return {a: (1.0 if a == best else 0.0) for a in dist}
    if temperature == 1.0:
        total = sum(p for _, p in items)
        return {a: max(p, 0.0) / total for a, p in dist.items()}
    logs = [(a, math.log(p) / temperature) for a, p in items]
    top = max(v for _, v in logs)
    weights = {a: math.exp(v - top) for a, v in logs}
    total = sum(weights.values())
    return {a: weights.get(a, 0.0) / total for a in dist}


@dataclass(frozen=True)
class Faults:
    """Deterministic fault injection: a call fails transiently with probability ``rate``."""

    rate: float = 0.0
    retry_after_s: float | None = None


def _pick(dist: Mapping[str, float], identity: str | int, seed: int) -> str:
    u = uniform(identity, seed) * sum(dist.values())
    total = 0.0
    last = ""
    for answer, p in dist.items():
        if p <= 0:
            continue
        total += p
        last = answer
        if u < total:
            return answer
    return last


class SimulatedBackend:
    """Backend drawing answers from per-request distributions (see module docstring)."""

    def __init__(
        self,
        responder: Responder,
        *,
        name: str = "simulated",
        params: int | Mapping[str, int] = 1_000_000_000,
        completion_tokens: int | Callable[[str], int] = 8,
        prompt_tokens: Callable[[Request], int] | None = None,
        latency_s: float = 0.0,
        max_n: int = 16,
        concurrency: int = 1024,
        faults: Faults | None = None,
    ) -> None:
        self.responder = responder
        self.name = name
        self.max_n = max_n
        self.concurrency = concurrency
        self.latency_s = latency_s
        self.faults = faults or Faults()
        self._params = params
        self._completion_tokens = completion_tokens
        self._prompt_tokens = prompt_tokens or (lambda r: max(1, math.ceil(len(r.text) / 4)))
        self.attempts = 0
        self._usages: dict[tuple[int, int], Usage] = {}

    @classmethod
    def table(cls, answers: Mapping[str, Distribution], **kwargs: object) -> SimulatedBackend:
        """Distributions looked up by the last message (or prompt) text."""

        def respond(request: Request) -> Distribution:
            text = request.messages[-1].content if request.messages else request.prompt or ""
            if text not in answers:
                raise BackendError(f"simulated backend has no distribution for {text[:60]!r}")
            return answers[text]

        return cls(respond, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def constant(cls, dist: Distribution, **kwargs: object) -> SimulatedBackend:
        """The same distribution for every request."""
        return cls(lambda _request: dist, **kwargs)  # type: ignore[arg-type]

    def card(self, model: str) -> ModelCard:
        params = self._params if isinstance(self._params, int) else self._params.get(model, 0)
        return ModelCard(model, params=params)

    def distribution(self, request: Request) -> dict[str, float]:
        """The distribution samples of ``request`` are drawn from (temperature applied)."""
        return with_temperature(self.responder(request), request.sampling.temperature)

    def draw(self, request: Request, seed: int) -> str:
        """The answer drawn with ``seed`` (deterministic)."""
        return _pick(self.distribution(request), request.identity_digest, seed)

    async def generate(self, batch: Batch) -> list[Completion]:
        """Draw ``batch.n`` samples; may raise a transient fault as configured."""
        self.attempts += 1
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        request = batch.request
        if self.faults.rate > 0 and uniform(request.identity_digest, batch.seed, salt=self.attempts) < self.faults.rate:
            raise TransientError("simulated fault", retry_after=self.faults.retry_after_s)
        return self._draw(batch)

    def generate_now(self, batch: Batch) -> list[Completion] | None:
        """What :meth:`generate` returns, at once, when there is no latency and no fault to inject
        (never for a subclass that overrides :meth:`generate`: its own behaviour must run)."""
        if self.latency_s > 0 or self.faults.rate > 0 or type(self).generate is not SimulatedBackend.generate:
            return None
        self.attempts += 1
        return self._draw(batch)

    def _draw(self, batch: Batch) -> list[Completion]:
        request = batch.request
        sampling = request.sampling
        prompt_tokens = self._prompt_tokens(request)
        dist = self.responder(request)
        if sampling.temperature != 1.0:
            dist = with_temperature(dist, sampling.temperature)
        identity = request.identity_digest
        tokens = self._completion_tokens
        out = []
        for index in range(batch.start, batch.start + batch.n):
            text = _pick(dist, identity, request.seed_for(index))
            n_out = tokens if isinstance(tokens, int) else tokens(text)
            usage = self._usage(prompt_tokens, min(n_out, sampling.max_tokens))
            lp = self._logprobs(dist, text, sampling.top_logprobs) if sampling.logprobs else None
            out.append(Completion(text, index, usage, "stop", self.latency_s, lp))
        return out

    def _usage(self, prompt_tokens: int, completion_tokens: int) -> Usage:
        # Records are immutable, so samples with the same token counts share one; few counts recur.
        usage = self._usages.get((prompt_tokens, completion_tokens))
        if usage is None:
            if len(self._usages) >= _USAGE_CACHE:
                self._usages.clear()
            usage = self._usages[(prompt_tokens, completion_tokens)] = Usage(prompt_tokens, completion_tokens)
        return usage

    @staticmethod
    def _logprobs(dist: Mapping[str, float], text: str, top_n: int) -> tuple[TokenLogprob, ...]:
        total = sum(dist.values())
        ranked = tuple((a, math.log(p / total)) for a, p in sorted(dist.items(), key=lambda x: -x[1]) if p > 0)
        return (TokenLogprob(text, math.log(dist[text] / total), ranked[: top_n or len(ranked)]),)

    async def aclose(self) -> None:
        return None
