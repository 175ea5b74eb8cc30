"""A small asyncio HTTP/1.1 client with a keep-alive pool, for the engine's hot path.

General-purpose clients spend more CPU per request than a loopback LLM server does at high
concurrency; this one does just what OpenAI-compatible calls need: JSON POST/GET, keep-alive,
Content-Length or chunked bodies, TLS, and one deadline per exchange. Any transport fault raises
:class:`HttpError`.

Example:
    >>> client = HttpClient("http://127.0.0.1:8080")
    >>> client.host, client.port
    ('127.0.0.1', 8080)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_STREAM_LIMIT = 16 * 1024 * 1024


class HttpError(Exception):
    """A transport fault: refused or dropped connection, timeout, malformed response."""


@dataclass(frozen=True)
class HttpResponse:
    """Status, lower-cased headers and the raw body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


class HttpClient:
    """Keep-alive connection pool to one origin (see module docstring)."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 10.0,
        max_connections: int = 8,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        host_header = self.host if parts.port is None else f"{self.host}:{self.port}"
        self._head = {"Host": host_header, "Accept": "application/json", "Connection": "keep-alive", **(headers or {})}
        self.max_connections = max_connections
        self._heads: dict[tuple[str, str, bool], bytes] = {}
        self._idle: list[_Connection] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def _bind(self) -> asyncio.Semaphore | None:
        """Pool state belongs to one event loop; a client reused from another loop starts afresh."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._idle = []
            self._slots = asyncio.Semaphore(self.max_connections) if self.max_connections > 0 else None
        return self._slots

    async def request(self, method: str, path: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> HttpResponse:
        """Send one request to ``prefix + path`` and read the whole response."""
        if self._closed:
            raise HttpError("client is closed")
        raw = self._head_bytes(method, path, body is not None, headers)
        if body is not None:
            raw += b"Content-Length: %d\r\n\r\n" % len(body) + body
        else:
            raw += b"\r\n"
        slots = self._bind()
        if slots is not None:
            await slots.acquire()
        try:
            async with asyncio.timeout(self.timeout_s):
                # No silent resend: a dropped exchange surfaces as an error so every attempt is counted.
                conn = await self._connection()
                try:
                    conn.writer.write(raw)
                    response, reusable = await self._read(conn.reader)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                    self._discard(conn)
                    raise HttpError(f"{type(exc).__name__} from {self.host}:{self.port}") from None
                except BaseException:
                    self._discard(conn)
                    raise
                if reusable and not self._closed:
                    self._idle.append(conn)
                else:
                    self._discard(conn)
                return response
        except TimeoutError:
            raise HttpError(f"timed out after {self.timeout_s:g} s talking to {self.host}:{self.port}") from None
        finally:
            if slots is not None:
                slots.release()

    def _head_bytes(self, method: str, path: str, has_body: bool, headers: dict[str, str] | None) -> bytes:
        """Request line and headers, without Content-Length and the blank line (cached: it rarely varies)."""
        cache_key = (method, path, has_body)
        cached = self._heads.get(cache_key) if headers is None else None
        if cached is not None:
            return cached
        head = {**self._head, **(headers or {})}
        if has_body:
            head.setdefault("Content-Type", "application/json")
        raw = (f"{method} {self.prefix}{path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())).encode("latin-1")
        if headers is None:
            self._heads[cache_key] = raw
        return raw

    async def post_json(self, path: str, payload: Any) -> HttpResponse:
        """POST ``payload`` as JSON."""
        return await self.request("POST", path, json.dumps(payload).encode())

    async def get(self, path: str) -> HttpResponse:
        return await self.request("GET", path)

    async def _connection(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            self._discard(conn)
        context = ssl.create_default_context() if self.tls else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=context, limit=_STREAM_LIMIT), self.connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"cannot connect to {self.host}:{self.port} ({type(exc).__name__})") from None
        return _Connection(reader, writer)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[HttpResponse, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ValueError("not an HTTP response")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        keep = headers.get("connection", "").lower() != "close" and parts[0] != "HTTP/1.0"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(chunks)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = await reader.read()
            keep = False
        return HttpResponse(status, headers, body), keep

    def _discard(self, conn: _Connection) -> None:
        with contextlib.suppress(Exception):
            conn.writer.close()

    async def aclose(self) -> None:
        """Close every pooled connection."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._discard(conn)
