"""Plain records shared by every layer: requests, completions, usage and model cards.

No I/O lives here. A :class:`Request` is the identity of a *sample pool*: its key covers the
backend, model, messages (or prompt), and every sampling parameter except the number of samples
and the seed. Sample ``i`` of a pool always gets the seed ``seed_for(i)``. A request may also carry
``facts`` about what it asks (which task, item and primitive: see :mod:`callscale.primitives.facts`);
they are for simulation only: not part of the identity or of equality, never sent, never stored.

Example:
    >>> req = Request.chat("smollm2", "What is 2+3?", max_tokens=8)
    >>> req.seed_for(0) + 1 == req.seed_for(1)
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callscale.costs import dollars
from callscale.recordtools import once, slot_init

SEED_SPACE = 2**31 - 1

Fact = str | int | tuple[str, ...]
"""The value of one request fact (see :attr:`Request.facts`)."""


@slot_init
@dataclass(frozen=True, slots=True)
class Message:
    """One chat message."""

    role: str
    content: str


@slot_init
@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampler settings; all of them are part of a pool's identity.

    The defaults draw faithfully from the model's distribution (no top-k/top-p/min-p truncation),
    which is what vote-scaling analysis assumes.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    max_tokens: int = 64
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0

    def __post_init__(self) -> None:
        # Stops given as a list (YAML, JSON, keyword arguments) or as one string mean the same tuple.
        if not isinstance(self.stop, tuple):
            stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)
            object.__setattr__(self, "stop", stop)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "max_tokens": self.max_tokens,
            "stop": list(self.stop),
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
        }

    @property
    def canonical_json(self) -> str:
        """Canonical JSON of :meth:`as_dict`, computed once per distinct settings (requests built from
        the same keywords carry equal, not identical, Sampling objects). The cache key includes the
        fields' types: 1 == 1.0 == True, but their JSON differs.

        >>> Sampling(temperature=1).canonical_json == Sampling(temperature=1.0).canonical_json
        False
        """
        # A plain tuple of the values: hashing and comparing it runs in C, unlike the dataclass's own.
        t, top_p, top_k, min_p, max_tokens = self.temperature, self.top_p, self.top_k, self.min_p, self.max_tokens
        logprobs, top_logprobs = self.logprobs, self.top_logprobs
        key = (t, top_p, top_k, min_p, max_tokens, self.stop, logprobs, top_logprobs, type(t), type(top_p),
               type(top_k), type(min_p), type(max_tokens), type(logprobs), type(top_logprobs))
        text = _SAMPLING_JSON.get(key)
        if text is None:
            if len(_SAMPLING_JSON) >= 4096:
                _SAMPLING_JSON.clear()
            text = _SAMPLING_JSON[key] = _canonical(self.as_dict())
        return text


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_string = json.encoder.encode_basestring  # what _canonical does to a str, without the encoder's dispatch

_SAMPLING_JSON: dict[tuple[Any, ...], str] = {}


@dataclass(frozen=True)
class Request:
    """What to ask a model; identifies a sample pool (see module docstring).

    Exactly one of ``messages`` (chat) or ``prompt`` (plain completion, for base models) is set.
    ``extra`` carries server-specific fields passed through verbatim (llama.cpp ``grammar``,
    ``json_schema``, ``cache_prompt``...); they are part of the identity too.

    ``facts`` says what the request asks in structured form (task, item, primitive, what a judge is
    shown), for the simulated world to answer from. They are *not* part of the identity: the key,
    equality and hash ignore them, servers never see them, the store does not keep them.

    Example:
        >>> a = Request.chat("m", "2+2?", facts={"task": "sums", "item": "q1", "op": "generate"})
        >>> a == Request.chat("m", "2+2?") and a.key("b") == Request.chat("m", "2+2?").key("b")
        True
    """

    model: str
    messages: tuple[Message, ...] | None = None
    prompt: str | None = None
    sampling: Sampling = field(default_factory=Sampling)
    extra: Mapping[str, Any] = field(default_factory=dict)
    facts: Mapping[str, Fact] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a Request needs exactly one of messages or prompt")
        if not self.model:
            raise ValueError("a Request needs a model name")

    @classmethod
    def chat(
        cls,
        model: str,
        user: str,
        *,
        system: str | None = None,
        extra: Mapping[str, Any] | None = None,
        facts: Mapping[str, Fact] | None = None,
        **sampling: Any,
    ) -> Request:
        """A one-turn chat request.

        Example:
            >>> Request.chat("m", "hi", temperature=0.0).sampling.temperature
            0.0
        """
        messages = ((Message("system", system),) if system else ()) + (Message("user", user),)
        return cls(model=model, messages=messages, sampling=Sampling(**sampling), extra=dict(extra or {}),
                   facts=dict(facts or {}))

    @classmethod
    def completion(cls, model: str, prompt: str, *, extra: Mapping[str, Any] | None = None,
                   facts: Mapping[str, Fact] | None = None, **sampling: Any) -> Request:
        """A plain text-completion request (for base models without a chat template)."""
        return cls(model=model, prompt=prompt, sampling=Sampling(**sampling), extra=dict(extra or {}),
                   facts=dict(facts or {}))

    def with_facts(self, **facts: Fact) -> Request:
        """The same request (same pool, equal) carrying ``facts`` too, over any it had.

        The copy shares the identity already computed: facts are not part of it.

        Example:
            >>> r = Request.chat("m", "q", facts={"task": "t"}).with_facts(item="a")
            >>> dict(r.facts), r == Request.chat("m", "q")
            ({'task': 't', 'item': 'a'}, True)
        """
        out = object.__new__(type(self))  # a copy without __init__: several times cheaper than copy.copy
        out.__dict__.update(self.__dict__)
        out.__dict__["facts"] = {**self.facts, **facts} if self.facts else facts
        return out

    def identity(self) -> dict[str, Any]:
        """The JSON-ready identity of this request, without backend, ``n`` or seed."""
        body: dict[str, Any] = {"model": self.model, "sampling": self.sampling.as_dict()}
        if self.messages is not None:
            body["messages"] = [[m.role, m.content] for m in self.messages]
        else:
            body["prompt"] = self.prompt
        if self.extra:
            body["extra"] = dict(self.extra)
        return body

    @once
    def identity_json(self) -> str:
        """Canonical JSON of :meth:`identity` (sorted keys, no spaces, UTF-8 kept).

        Assembled piece by piece in key order rather than by encoding :meth:`identity`, because
        every call pays for it; ``tests/test_records.py`` checks both give the same text.
        """
        head = '{"extra":' + _canonical(dict(self.extra)) + "," if self.extra else "{"
        if self.messages is not None:
            pairs = ",".join(f"[{_string(m.role)},{_string(m.content)}]" for m in self.messages)
            return f'{head}"messages":[{pairs}],"model":{_string(self.model)},"sampling":{self.sampling.canonical_json}}}'
        prompt = _string(self.prompt) if self.prompt is not None else "null"
        return f'{head}"model":{_string(self.model)},"prompt":{prompt},"sampling":{self.sampling.canonical_json}}}'

    def key(self, backend: str) -> str:
        """The sample-pool key of this request on ``backend`` (hex SHA-256)."""
        cached = self.__dict__.get("_key")  # (backend, key) of the last backend asked: one untracked tuple
        if cached is not None and cached[0] == backend:
            return str(cached[1])
        key = hashlib.sha256(f"{backend}\n{self.identity_json}".encode()).hexdigest()
        self.__dict__["_key"] = (backend, key)
        return key

    @once
    def identity_digest(self) -> int:
        """A stable 64-bit number for this pool: the first 8 bytes of its identity's SHA-256, read
        big-endian. Seeds derive from it, and so do the simulated backend's draws."""
        return int.from_bytes(hashlib.sha256(self.identity_json.encode()).digest()[:8], "big")

    def seed_for(self, index: int) -> int:
        """The seed of sample ``index``: consecutive samples get consecutive seeds.

        Servers such as llama.cpp give choice ``j`` of an ``n``-sample call the seed ``seed + j``,
        so one batched call starting at sample ``i`` reproduces samples ``i…i+n−1`` exactly.
        """
        return (self.identity_digest % (SEED_SPACE // 2) + index) % SEED_SPACE

    @property
    def text(self) -> str:
        """All prompt text, for token estimates and display."""
        if self.messages is not None:
            if len(self.messages) == 1:
                return self.messages[0].content
            return "\n".join([m.content for m in self.messages])
        return self.prompt or ""

    @classmethod
    def from_identity(cls, body: Mapping[str, Any]) -> Request:
        """Inverse of :meth:`identity` (without facts: they are not part of it)."""
        sampling = dict(body.get("sampling", {}))
        sampling["stop"] = tuple(sampling.get("stop", ()))
        messages = body.get("messages")
        return cls(
            model=body["model"],
            messages=tuple(Message(r, c) for r, c in messages) if messages is not None else None,
            prompt=body.get("prompt"),
            sampling=Sampling(**sampling),
            extra=dict(body.get("extra", {})),
        )


@slot_init
@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one sample cost, as if it had been its own call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def forward_passes(self) -> int:
        """One prefill plus one pass per generated token."""
        return 1 + self.completion_tokens


@slot_init
@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """Log-probability of one generated token and its top alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class Completion:
    """One sample of a pool.

    ``cached`` tells whether it came from the store (no call made now); ``error`` is set when the
    call finally failed, in which case ``text`` is empty and the sample is not stored as a result.
    """

    text: str
    index: int
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    latency_s: float = 0.0
    logprobs: tuple[TokenLogprob, ...] | None = None
    cached: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@slot_init
@dataclass(frozen=True, slots=True)
class ModelCard:
    """What cost accounting needs to know about a model.

    ``params`` is the parameter count m of the primitive cost m·n. Prices are dollars per million
    tokens.

    Example:
        >>> ModelCard("smollm2-135m", params=134_515_008).params
        134515008
    """

    name: str
    params: int
    price_in_per_mtok: float | None = None
    price_out_per_mtok: float | None = None
    context_length: int | None = None
    chat: bool = True

    def dollars(self, usage: Usage) -> float | None:
        """Dollar cost of ``usage``, or None when no price is known."""
        return dollars(usage.prompt_tokens, usage.completion_tokens, self.price_in_per_mtok, self.price_out_per_mtok)
