"""A loopback OpenAI-compatible HTTP server for benchmarks and chaos tests, bound to 127.0.0.1 only.

Two modes: it answers by itself after a fixed latency (``upstream=None``), or it forwards to a real
server (e.g. the embedded llama.cpp) and counts what passes. Either way it can inject faults at a
given rate — 429 with ``Retry-After``, 500, a hang past the client's timeout, or a dropped
connection — chosen by a seeded generator so a run is reproducible. Counters tell exactly how many
requests and samples reached it, were answered, or were failed on purpose.

Example:
    >>> with LoopbackServer(latency_s=0.0).running() as server:
    ...     print(server.base_url.startswith("http://127.0.0.1:"), server.counters.requests)
    True 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

FAULT_KINDS = ("429", "500", "hang", "drop")


@dataclass
class Counters:
    """What reached the server."""

    requests: int = 0
    answered: int = 0
    samples_answered: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "answered": self.answered, "samples_answered": self.samples_answered,
                "faults": dict(self.faults)}


class LoopbackServer:
    """See the module docstring. ``fault_kinds`` limits which faults are drawn."""

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
        unknown = set(fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {FAULT_KINDS}")
        self.latency_s = latency_s
        self.upstream = upstream.rstrip("/") if upstream else None
        self.fault_rate = fault_rate
        self.fault_kinds = fault_kinds
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
        self.counters.requests += 1
        fault = self._draw_fault()
        if fault is not None:
            self.counters.faults[fault] += 1
            if fault == "429":
                self._write(writer, 429, b'{"error":{"message":"slow down"}}', {"Retry-After": f"{self.retry_after_s}"})
                return True
            if fault == "500":
                self._write(writer, 500, b'{"error":{"message":"injected"}}')
                return True
            if fault == "hang":
                await asyncio.sleep(self.hang_s)
            return False  # "drop" (and a hang's end): close without answering
        samples: int | None = None
        if self.upstream:
            status, payload = await self._forward(path, body)
        else:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            status, (payload, samples) = 200, self._fake(path, body)
        if status == 200:
            self.counters.answered += 1
            if self.record:
                self.answered_bodies.append(json.loads(body or b"{}"))
            if samples is None:
                with contextlib.suppress(ValueError, KeyError):
                    samples = len(json.loads(payload)["choices"])
            self.counters.samples_answered += samples or 0
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

    def _fake(self, path: str, body: bytes) -> tuple[bytes, int]:
        request = json.loads(body or b"{}")
        n = int(request.get("n", 1))
        chat = path.endswith("/chat/completions")
        choice = (lambda i: {"index": i, "message": {"role": "assistant", "content": self.answer}, "finish_reason": "stop"}) \
            if chat else (lambda i: {"index": i, "text": self.answer, "finish_reason": "stop"})
        return json.dumps({
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": request.get("model", "loopback"),
            "choices": [choice(i) for i in range(n)],
            "usage": {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n},
        }).encode(), n

    @staticmethod
    def _write(writer: asyncio.StreamWriter, status: int, payload: bytes, extra: dict[str, str] | None = None) -> None:
        reason = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error"}.get(status, "Error")
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
            raise RuntimeError("loopback server did not start")
        self.port = int(line)
        return self

    def counters(self) -> dict[str, Any]:
        """Counters (and, with ``record=True``, the answered request bodies) read from the server."""
        return dict(httpx.get(f"http://127.0.0.1:{self.port}/__counters", timeout=10).json())

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
    parser.add_argument("--settings", default=None, help="JSON of LoopbackServer keyword arguments")
    args = parser.parse_args()
    settings = json.loads(args.settings) if args.settings else {
        "latency_s": args.latency, "fault_rate": args.fault_rate, "port": args.port}
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
