"""A tiny OpenAI-style server on 127.0.0.1 whose every reply is fixed by the test (status, body),
counting the requests that reach it; ``/v1/models`` always answers so backends can start."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, bytes]  # status, body


def chat_reply(text: str) -> bytes:
    """A valid chat-completions body with one choice (``text`` is JSON-escaped, surrogates included)."""
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 5, "completion_tokens": 3}}).encode()


@dataclass
class StatusServer:
    """``reply(n, body)`` gives the n-th chat request's (status, body)."""

    reply: Callable[[int, dict[str, object]], Reply]
    requests: int = 0
    bodies: list[dict[str, object]] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@contextmanager
def serving(reply: Callable[[int, dict[str, object]], Reply]) -> Iterator[StatusServer]:
    state = StatusServer(reply)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send(200, json.dumps({"data": [{"id": "m"}]}).encode())

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with lock:
                n = state.requests
                state.requests += 1
                state.bodies.append(body)
            status, payload = state.reply(n, body)
            self._send(status, payload)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            return  # a client that hung up early (the run stopped): not the test's output

    server = Server(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
