"""A thin async client for OpenAI-compatible servers (llama.cpp, vLLM, SGLang, Ollama, OpenAI...).

Speaks ``/v1/chat/completions`` for chat requests and ``/v1/completions`` for plain prompts. The API
key is read from an environment variable when the backend is built and only ever sent in the
``Authorization`` header: it is not part of the backend's name, repr, errors or logs.

Example:
    >>> backend = OpenAICompatBackend("http://127.0.0.1:8080/v1", api_key_env=None)
    >>> backend.name
    'openai:127.0.0.1/v1'
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from callscale.backends.base import (
    AuthenticationError,
    BackendError,
    Batch,
    ConfigurationError,
    MalformedReply,
    TransientError,
)
from callscale.backends.http import HttpClient, HttpError, HttpResponse
from callscale.records import Completion, Message, ModelCard, TokenLogprob, Usage
from callscale.redaction import redact, register_secret

TokenCounting = Literal["usage", "tokenize"]
_TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
DEFAULT_TIMEOUT_S = 120.0  # one whole call: connect, send, wait for the model, read
DEFAULT_CONNECT_TIMEOUT_S = 10.0


def default_name(base_url: str) -> str:
    """A stable backend name for ``base_url``: host and path, without scheme or port."""
    parts = urlsplit(base_url)
    return f"openai:{parts.hostname or ''}{parts.path.rstrip('/')}"


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header (seconds or an HTTP date).

    Example:
        >>> retry_after_seconds("2")
        2.0
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class OpenAICompatBackend:
    """Backend for any server speaking the OpenAI HTTP protocol.

    ``sampler_extras`` sends ``top_k`` and ``min_p`` (understood by llama.cpp, vLLM, SGLang, Ollama;
    turn it off for servers that reject unknown fields). ``token_counting="tokenize"`` counts each
    choice's tokens with llama.cpp's ``/tokenize`` when a call returns several choices, because
    llama.cpp then reports the usage of the first choice only.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        name: str | None = None,
        max_n: int = 1,
        concurrency: int = 8,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        sampler_extras: bool = True,
        token_counting: TokenCounting = "usage",
        cards: Mapping[str, ModelCard] | None = None,
        served: Mapping[str, str] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base URL must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.name = name or default_name(self.base_url)
        self.max_n = max_n
        self.concurrency = concurrency
        self.sampler_extras = sampler_extras
        self.token_counting = token_counting
        self._cards = dict(cards or {})
        self.served = dict(served or {})  # a request's model name → the name the server knows it by
        self._root_client: HttpClient | None = None
        headers: dict[str, str] = {}
        if api_key_env:
            key = os.environ.get(api_key_env)
            if key:
                register_secret(key)
                headers["Authorization"] = f"Bearer {key}"
        if not timeout_s > 0 or not connect_timeout_s > 0:
            raise ConfigurationError(f"timeouts must be positive, got {timeout_s:g} s and {connect_timeout_s:g} s to connect")
        self._client = HttpClient(self.base_url, headers=headers, timeout_s=timeout_s,
                                  connect_timeout_s=min(connect_timeout_s, timeout_s), max_connections=concurrency + 4)

    def __repr__(self) -> str:
        return f"OpenAICompatBackend(base_url={self.base_url!r}, name={self.name!r})"

    def card(self, model: str) -> ModelCard:
        """The card registered for ``model``, or one with unknown size (params 0)."""
        return self._cards.get(model) or ModelCard(model, params=0)

    async def check_serves(self, models: Sequence[str], *, url: str, server: str) -> None:
        """Open the server's ``/v1/models`` listing: a server that cannot be reached (named ``server``),
        or one that serves none of the names (or aliases) of one of ``models``, is a
        ConfigurationError and the client is closed; otherwise unknown sizes are learnt from it
        (:meth:`learn_sizes`). ``url`` is the address the errors show."""
        try:
            listing = await self.models()
        except BackendError as exc:
            await self.aclose()
            raise ConfigurationError(f"cannot reach {server} at {url} ({exc})") from None
        listed = {m.get("id") for m in listing}
        missing = [m for m in models if listed and m not in listed and not _aliased(m, listing)]
        if missing:
            await self.aclose()
            raise ConfigurationError(f"model {missing[0]!r} is not served at {url}; it serves {sorted(map(str, listed))}")
        self.learn_sizes(listing)

    def learn_sizes(self, listing: list[dict[str, Any]]) -> list[str]:
        """Fill unknown parameter counts (and context lengths) from the server's ``/v1/models``
        listing where it states them (llama.cpp: ``meta.n_params``, ``meta.n_ctx_train``); returns
        the models learnt. A size the catalogue gives is kept.

        Example:
            >>> b = OpenAICompatBackend("http://127.0.0.1:1/v1", cards={"m": ModelCard("m", 0)})
            >>> b.learn_sizes([{"id": "m", "meta": {"n_params": 134515008, "n_ctx_train": 8192}}])
            ['m']
            >>> b.card("m").params, b.card("m").context_length
            (134515008, 8192)
        """
        learnt = []
        for name, card in list(self._cards.items()):
            if card.params:
                continue
            served = self.served.get(name, name)
            entry = next((m for m in listing if m.get("id") == served or served in (m.get("aliases") or ())), None)
            meta = entry.get("meta") if isinstance(entry, dict) else None
            params = meta.get("n_params") if isinstance(meta, dict) else None
            if isinstance(params, int) and not isinstance(params, bool) and params > 0:
                context = meta.get("n_ctx_train") if isinstance(meta, dict) else None
                self._cards[name] = dataclasses.replace(
                    card, params=params,
                    context_length=card.context_length or (context if isinstance(context, int) and context > 0 else None))
                learnt.append(name)
        return learnt

    def body(self, batch: Batch) -> dict[str, Any]:
        """The JSON body of the call for ``batch``."""
        request, s = batch.request, batch.request.sampling
        body: dict[str, Any] = {
            "model": self.served.get(request.model, request.model),
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "seed": batch.seed,
        }
        if batch.n != 1:
            body["n"] = batch.n
        if s.stop:
            body["stop"] = list(s.stop)
        if self.sampler_extras:
            body["top_k"] = s.top_k
            body["min_p"] = s.min_p
        if request.messages is not None and self.card(request.model).chat:
            body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
            if s.logprobs:
                body["logprobs"] = True
                if s.top_logprobs:
                    body["top_logprobs"] = s.top_logprobs
        else:  # a plain prompt, or a chat turned into one for a model without a chat template
            body["prompt"] = request.prompt if request.messages is None else completion_prompt(request.messages)
            if request.messages is not None and not s.stop:
                body["stop"] = ["\n\n"]
            if s.logprobs:
                body["logprobs"] = max(1, s.top_logprobs)
        body.update(request.extra)
        return body

    async def generate(self, batch: Batch) -> list[Completion]:
        """One HTTP call returning samples ``batch.start …`` of the pool."""
        chat = batch.request.messages is not None and self.card(batch.request.model).chat
        path = "/chat/completions" if chat else "/completions"
        started = time.perf_counter()
        try:
            response = await self._client.post_json(path, self.body(batch))
        except HttpError as exc:
            raise TransientError(f"{exc} ({self.name})") from None
        latency = time.perf_counter() - started
        if response.status in _TRANSIENT_STATUS or response.status >= 500:
            raise TransientError(
                f"HTTP {response.status} from {self.name}",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        if response.status in (401, 403):
            raise AuthenticationError(f"HTTP {response.status} from {self.name}: {_error_message(response)} "
                                      "(check the API key's environment variable)")
        if response.status >= 400:
            raise BackendError(f"HTTP {response.status} from {self.name}: {_error_message(response)}")
        try:
            payload = response.json()
            choices = sorted(payload["choices"], key=lambda c: c.get("index", 0))
            if not all(isinstance(c, dict) for c in choices):
                raise TypeError("a choice is not an object")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedReply(f"malformed reply from {self.name} ({type(exc).__name__})") from None
        if len(choices) != batch.n:
            raise MalformedReply(f"{self.name} returned {len(choices)} choices, asked for {batch.n}")
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        prompt_tokens = _count(usage.get("prompt_tokens"))
        try:
            texts = [_choice_text(c) for c in choices]
            logprobs = [_choice_logprobs(c) for c in choices]
        except (ValueError, TypeError, AttributeError) as exc:
            raise MalformedReply(f"malformed choice from {self.name} ({type(exc).__name__})") from None
        counts = await self._completion_tokens(texts, logprobs, _count(usage.get("completion_tokens")))
        return [
            Completion(
                text=texts[j],
                index=batch.start + j,
                usage=Usage(prompt_tokens, counts[j]),
                finish_reason=str(choices[j].get("finish_reason") or "stop"),
                latency_s=latency,
                logprobs=logprobs[j],
            )
            for j in range(batch.n)
        ]

    async def _completion_tokens(
        self, texts: list[str], logprobs: list[tuple[TokenLogprob, ...] | None], total: int
    ) -> list[int]:
        if len(texts) == 1:
            return [total]
        if all(lp is not None for lp in logprobs):
            return [len(lp or ()) for lp in logprobs]
        if self.token_counting == "tokenize":
            return [await self.count_tokens(t) for t in texts]
        return _split_proportionally(total, texts)

    async def count_tokens(self, text: str) -> int:
        """Token count of ``text`` from llama.cpp's ``/tokenize`` endpoint."""
        try:
            response = await self._root.post_json("/tokenize", {"content": text})
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return len(response.json()["tokens"])
        except (HttpError, ValueError, KeyError) as exc:
            raise TransientError(f"counting tokens at {self.name} failed: {type(exc).__name__}") from None

    async def models(self) -> list[dict[str, Any]]:
        """The server's ``/v1/models`` listing."""
        try:
            response = await self._client.get("/models")
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return list(response.json().get("data", []))
        except (HttpError, ValueError) as exc:
            raise BackendError(f"cannot list models at {self.name}: {exc}") from None

    @property
    def _root(self) -> HttpClient:
        """A client for the server root (llama.cpp's own endpoints live beside /v1)."""
        if self._root_client is None:
            self._root_client = HttpClient(self.base_url.removesuffix("/v1"), headers=self._client._head,
                                           timeout_s=self._client.timeout_s, max_connections=4)
        return self._root_client

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._root_client is not None:
            await self._root_client.aclose()


def _error_message(response: HttpResponse) -> str:
    """The server's error text, one line, at most 300 characters, with any key removed."""
    try:
        error = response.json().get("error", {})
        text = str(error.get("message", error) if isinstance(error, dict) else error)
    except (ValueError, AttributeError):
        text = response.text
    return redact(" ".join(text.split()))[:300]


def completion_prompt(messages: Sequence[Message]) -> str:
    """A chat as a plain prompt for a base model: the turns in order, then ``Answer:`` to continue.

    Example:
        >>> from callscale.records import Message
        >>> completion_prompt([Message("user", "What is 2+3?")])
        'What is 2+3?\\nAnswer:'
    """
    turns = [m.content.strip() if m.role != "assistant" else f"Answer: {m.content.strip()}" for m in messages]
    return "\n\n".join(turns) + "\nAnswer:"


def _count(value: Any) -> int:
    """A token count from a usage field (absent or odd values count 0)."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError, OverflowError):
        return 0


def _choice_text(choice: Mapping[str, Any]) -> str:
    if "message" in choice:
        return str((choice.get("message") or {}).get("content") or "")
    return str(choice.get("text") or "")


def _choice_logprobs(choice: Mapping[str, Any]) -> tuple[TokenLogprob, ...] | None:
    raw = choice.get("logprobs")
    if not raw:
        return None
    if isinstance(raw, dict) and isinstance(raw.get("content"), list):
        return tuple(
            TokenLogprob(
                token=str(t.get("token", "")),
                logprob=float(t.get("logprob", -math.inf)),
                top=tuple((str(a.get("token", "")), float(a.get("logprob", -math.inf))) for a in t.get("top_logprobs") or ()),
            )
            for t in raw["content"]
        )
    if isinstance(raw, dict) and isinstance(raw.get("tokens"), list):  # legacy completions format
        tops = raw.get("top_logprobs") or [{}] * len(raw["tokens"])
        return tuple(
            TokenLogprob(token=str(tok), logprob=float(lp), top=tuple((str(k), float(v)) for k, v in (top or {}).items()))
            for tok, lp, top in zip(raw["tokens"], raw.get("token_logprobs") or [], tops, strict=False)
        )
    return None


def _split_proportionally(total: int, texts: list[str]) -> list[int]:
    """Split a batch's completion-token total over choices by text length (largest remainder)."""
    weights = [max(1, len(t)) for t in texts]
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    for j in sorted(range(len(raw)), key=lambda j: counts[j] - raw[j])[: total - sum(counts)]:
        counts[j] += 1
    return counts


def _aliased(model: str, listing: list[dict[str, Any]]) -> bool:
    """Whether ``model`` is one of the aliases a server lists for one of its models."""
    return any(model in (entry.get("aliases") or []) for entry in listing)
