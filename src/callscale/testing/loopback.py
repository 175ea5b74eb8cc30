"""A loopback OpenAI-compatible HTTP server for benchmarks and chaos tests, bound to 127.0.0.1 only.

Two modes: it answers by itself after a fixed latency (``upstream=None``), or it forwards to a real
server (e.g. the embedded llama.cpp) and counts what passes. Either way it can inject faults at a
given rate, chosen by a seeded generator so a run is reproducible:

* transport faults (:data:`FAULT_KINDS`, the default): 429 with ``Retry-After``, 500, a hang past
  the client's timeout (the connection is closed after ``hang_s``), a dropped connection;
* the rest of :data:`CHAOS_KINDS`: 503 with ``Retry-After``; 200 replies that are *not* paid
  completions (:data:`BAD_REPLY_KINDS`: a body that is not JSON, JSON without ``choices``); and odd
  but valid paid replies (:data:`ODD_KINDS`), whose text is :func:`odd_text` — an escaped lone
  surrogate, a NUL, right-to-left marks, about a million characters, an empty text, a null message
  or content. Odd replies are answered samples like any other.

Counters tell exactly how many requests and samples reached it, were answered, or were failed on
purpose, and which samples: every sample asked for and every sample answered with a usable 200 is
kept under its identity (see :func:`sample_ids`), so a sample paid twice shows up as such.

Example:
    >>> with LoopbackServer(latency_s=0.0).running() as server:
    ...     print(server.base_url.startswith("http://127.0.0.1:"), server.counters.requests)
    True 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

FAULT_KINDS = ("429", "500", "hang", "drop")
"""The transport faults drawn by default."""
BAD_REPLY_KINDS = ("bad-json", "no-choices")
"""200 replies that carry no completion: nothing is paid for."""
ODD_KINDS = ("surrogate", "nul", "rtl", "huge", "empty", "null-message")
"""Odd but valid 200 replies: paid samples whose text is :func:`odd_text`."""
CHAOS_KINDS = (*FAULT_KINDS, "503", *BAD_REPLY_KINDS, *ODD_KINDS)
"""Every kind the server can inject."""
HUGE_CHARS = 1_000_000
"""Characters in the text of a ``huge`` reply."""


@functools.cache
def odd_text(kind: str, answer: str = "4") -> str:
    """The text of each choice of an odd reply of ``kind`` (one of :data:`ODD_KINDS`).

    Example:
        >>> odd_text("surrogate", "6")
        'lone \\udc80 surrogate, answer: 6'
        >>> len(odd_text("huge")) == HUGE_CHARS, odd_text("null-message")
        (True, '')
    """
    if kind == "surrogate":  # sent escaped: the JSON holds the six characters \udc80
        return f"lone \udc80 surrogate, answer: {answer}"
    if kind == "nul":
        return f"nul \x00 inside, answer: {answer}"
    if kind == "rtl":
        return f"\u200f\u202eanswer: {answer}\u202c\u200f"
    if kind == "huge":
        head = f"answer: {answer} "
        filler = "lorem ipsum dolor sit amet, ünïcödé ✓ "
        return (head + filler * (HUGE_CHARS // len(filler) + 1))[:HUGE_CHARS]
    if kind in ("empty", "null-message"):
        return ""
    raise ValueError(f"not an odd reply kind: {kind!r}; choose from {ODD_KINDS}")


def sample_ids(body: Mapping[str, Any]) -> list[str]:
    """Identities of the samples a call with JSON ``body`` asks for, one per choice.

    A sample is ``<pool>/<seed>``: ``pool`` hashes every field of the body but ``n`` and ``seed``
    (model, messages or prompt, sampling, extras), and choice ``j`` has the seed ``seed + j``. So the
    same sample asked for alone or in a batch has the same identity; a client computes it from the
    body it sends (e.g. ``sample_ids(backend.body(batch))``).

    Example:
        >>> sample_ids({"model": "m", "messages": [], "seed": 7, "n": 2})[1].endswith("/8")
        True
    """
    rest = {k: v for k, v in body.items() if k not in ("n", "seed")}
    pool = hashlib.blake2b(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode(), digest_size=8).hexdigest()
    seed = body.get("seed")
    n = int(body.get("n", 1) or 1)
    if isinstance(seed, int) and not isinstance(seed, bool):
        return [f"{pool}/{seed + j}" for j in range(n)]
    return [f"{pool}/-{j}" for j in range(n)]


@dataclass
class Counters:
    """What reached the server.

    ``faults`` counts every kind drawn (odd replies included: they are also ``answered``);
    ``requested`` maps each sample identity (:func:`sample_ids`) to the number of calls that asked
    for it, ``paid`` to the kinds (``"ok"`` or an odd kind) of the usable 200 replies that answered it
    — a list longer than one is a sample paid more than once.
    """

    requests: int = 0
    answered: int = 0
    samples_answered: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHAOS_KINDS, 0))
    requested: dict[str, int] = field(default_factory=dict)
    paid: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "answered": self.answered, "samples_answered": self.samples_answered,
                "faults": dict(self.faults), "requested": dict(self.requested),
                "paid": {k: list(v) for k, v in self.paid.items()}}


def settled(counters: Mapping[str, Any] | Counters) -> bool:
    """Whether every request that reached the server has been answered or failed on purpose (none is
    still being worked on), from :class:`Counters` or their :meth:`~Counters.as_dict` form. A hang
    counts as failed from the moment it is drawn."""
    c = counters.as_dict() if isinstance(counters, Counters) else counters
    unpaid = sum(n for kind, n in c["faults"].items() if kind not in ODD_KINDS)
    return int(c["requests"]) == int(c["answered"]) + unpaid


class LoopbackServer:
    """See the module docstring. ``fault_kinds`` limits which faults are drawn (any of :data:`CHAOS_KINDS`)."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        upstream: str | None = None,
        fault_rate: float = 0.0,
        fault_kinds: tuple[str, ...] = FAULT_KINDS,
        hang_s: float = 5.0,
        retry_after_s: float = 0.05,
        answer: str = "4",
        seed: int = 0,
        port: int = 0,
        record: bool = False,
    ) -> None:
        unknown = set(fault_kinds) - set(CHAOS_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {CHAOS_KINDS}")
        self.latency_s = latency_s
        self.upstream = upstream.rstrip("/") if upstream else None
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        self.hang_s = hang_s
        self.retry_after_s = retry_after_s
        self.answer = answer
        self.port = port
        self.counters = Counters()
        self.record = record
        self.answered_bodies: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._client: httpx.AsyncClient | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        """Bind to 127.0.0.1 and start serving (in the running loop)."""
        if self.upstream:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(600.0), limits=httpx.Limits(max_connections=64))
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    @contextlib.contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        """Serve from a background thread with its own event loop for the duration of the block."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)

    # -- HTTP ---------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                keep = await self._respond(method, path, body, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if method == "GET" and path.endswith("/health"):
            self._write(writer, 200, b'{"status":"ok"}')
            return True
        if method == "GET" and path == "/__counters":
            self._write(writer, 200, json.dumps({**self.counters.as_dict(), "bodies": self.answered_bodies}).encode())
            return True
        if method == "GET" and path.endswith("/models"):  # a listing, never a fault nor a counted request
            status, payload = await self._list_models(path)
            self._write(writer, status, payload)
            return True
        self.counters.requests += 1
        request: dict[str, Any] | None = None
        with contextlib.suppress(ValueError, TypeError):
            parsed = json.loads(body or b"{}")
            request = parsed if isinstance(parsed, dict) else None
        if request is None and not self.upstream:
            raise ValueError("request body is not a JSON object")  # closes the connection, as it always did
        ids = sample_ids(request) if request is not None else []
        requested = self.counters.requested
        for sid in ids:
            requested[sid] = requested.get(sid, 0) + 1
        fault = self._draw_fault()
        if fault is not None:
            self.counters.faults[fault] += 1
            if fault in ("429", "503"):
                status = int(fault)
                self._write(writer, status, b'{"error":{"message":"slow down"}}', {"Retry-After": f"{self.retry_after_s}"})
                return True
            if fault == "500":
                self._write(writer, 500, b'{"error":{"message":"injected"}}')
                return True
            if fault == "bad-json":
                self._write(writer, 200, b'{"object":"chat.completion","choices":[{"index":0,"message":{"content":"4')
                return True
            if fault == "no-choices":
                self._write(writer, 200, json.dumps({
                    "object": "chat.completion", "created": int(time.time()),
                    "model": (request or {}).get("model", "loopback"),
                    "usage": {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10}}).encode())
                return True
            if fault == "hang":
                await asyncio.sleep(self.hang_s)
                return False
            if fault == "drop":
                return False  # close without answering
        kind = fault or "ok"
        samples: int | None = None
        if self.upstream:
            status, payload = await self._forward(path, body)
            if status == 200 and kind != "ok":
                payload = self._make_odd(payload, kind)
        else:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            status, (payload, samples) = 200, self._fake(path, request or {}, kind)
        if status == 200:
            self.counters.answered += 1
            if self.record:
                self.answered_bodies.append(request if request is not None else {})
            if samples is None:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    samples = len(json.loads(payload)["choices"])
            self.counters.samples_answered += samples or 0
            paid = self.counters.paid
            for sid in ids[: samples or 0]:
                paid.setdefault(sid, []).append(kind)
        self._write(writer, status, payload)
        return True

    def _draw_fault(self) -> str | None:
        if self.fault_rate > 0 and self._rng.random() < self.fault_rate:
            return self._rng.choice(self.fault_kinds)
        return None

    async def _forward(self, path: str, body: bytes) -> tuple[int, bytes]:
        assert self._client is not None and self.upstream is not None
        target = self.upstream.removesuffix("/v1") + path
        response = await self._client.post(target, content=body, headers={"Content-Type": "application/json"})
        return response.status_code, response.content

    async def _list_models(self, path: str) -> tuple[int, bytes]:
        if self._client is None or self.upstream is None:
            return 200, b'{"object":"list","data":[]}'
        response = await self._client.get(self.upstream.removesuffix("/v1") + path)
        return response.status_code, response.content

    def _choice(self, chat: bool, i: int, text: str | None, kind: str) -> dict[str, Any]:
        if kind == "null-message":  # alternately a null message and a null content (null text for completions)
            if not chat:
                return {"index": i, "text": None, "finish_reason": "stop"}
            if self.counters.faults["null-message"] % 2:
                return {"index": i, "message": None, "finish_reason": "stop"}
            return {"index": i, "message": {"role": "assistant", "content": None}, "finish_reason": "stop"}
        if chat:
            return {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return {"index": i, "text": text, "finish_reason": "stop"}

    def _fake(self, path: str, request: Mapping[str, Any], kind: str = "ok") -> tuple[bytes, int]:
        n = int(request.get("n", 1))
        chat = path.endswith("/chat/completions")
        text = self.answer if kind == "ok" else odd_text(kind, self.answer)
        return self._dump({
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": request.get("model", "loopback"),
            "choices": [self._choice(chat, i, text, kind) for i in range(n)],
            "usage": {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n},
        }, kind), n

    def _make_odd(self, payload: bytes, kind: str) -> bytes:
        """An upstream reply with the text of every choice replaced by the odd one."""
        try:
            reply = json.loads(payload)
            choices = reply["choices"]
            for i, c in enumerate(choices):
                chat = "message" in c
                choices[i] = {**c, **self._choice(chat, c.get("index", i), odd_text(kind, self.answer), kind)}
        except (ValueError, KeyError, TypeError, AttributeError):
            return payload
        return self._dump(reply, kind)

    @staticmethod
    def _dump(reply: dict[str, Any], kind: str) -> bytes:
        # Ordinary replies as before (ASCII); odd ones in raw UTF-8, except the lone surrogate, which
        # only an escape can carry.
        if kind in ("ok", "surrogate"):
            return json.dumps(reply).encode()
        return json.dumps(reply, ensure_ascii=False).encode()

    @staticmethod
    def _write(writer: asyncio.StreamWriter, status: int, payload: bytes, extra: dict[str, str] | None = None) -> None:
        reason = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error",
                  503: "Service Unavailable"}.get(status, "Error")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(payload)), "Connection": "keep-alive"}
        headers.update(extra or {})
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1") + payload)


class LoopbackProcess:
    """A :class:`LoopbackServer` in its own process (no GIL shared with the client under test).

    Example:
        >>> with LoopbackProcess(latency_s=0.0) as server:
        ...     print(server.base_url.startswith("http://127.0.0.1:"), server.counters()["requests"])
        True 0
    """

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LoopbackProcess:
        command = [sys.executable, "-m", "callscale.testing.loopback", "--settings", json.dumps(self.settings)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self._process.kill()
            self._process.wait(10)
            raise RuntimeError("loopback server did not start")
        self.port = int(line)
        return self

    def counters(self) -> dict[str, Any]:
        """Counters (and, with ``record=True``, the answered request bodies) read from the server."""
        return dict(httpx.get(f"http://127.0.0.1:{self.port}/__counters", timeout=10).json())

    def settled_counters(self, timeout_s: float = 10.0) -> dict[str, Any]:
        """:meth:`counters` once no request is being worked on (see :func:`settled`), or after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        counters = self.counters()
        while not settled(counters) and time.monotonic() < deadline:
            time.sleep(0.02)
            counters = self.counters()
        return counters

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)


def main() -> None:
    """Run a loopback server from the command line (used by benchmarks in a separate process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-kinds", default=None,
                        help=f"comma-separated kinds to draw, or 'chaos' for all of {','.join(CHAOS_KINDS)}")
    parser.add_argument("--settings", default=None, help="JSON of LoopbackServer keyword arguments")
    args = parser.parse_args()
    settings = json.loads(args.settings) if args.settings else {
        "latency_s": args.latency, "fault_rate": args.fault_rate, "port": args.port}
    if args.fault_kinds:
        settings["fault_kinds"] = CHAOS_KINDS if args.fault_kinds == "chaos" else args.fault_kinds.split(",")
    if "fault_kinds" in settings:
        settings["fault_kinds"] = tuple(settings["fault_kinds"])
    server = LoopbackServer(**settings)

    async def serve() -> None:
        await server.start()
        print(server.port, flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
