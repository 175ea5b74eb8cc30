"""``callscale model serve``: the embedded llama.cpp server, standalone, for any OpenAI client."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from callscale.backends.local import DEFAULT_MODEL, LocalServer, ServerSettings
from callscale.cli.common import stderr, user_errors

app = typer.Typer(help="The embedded local model.", no_args_is_help=True)


@app.command("serve")
def serve(
    port: int = typer.Option(8080, help="Port on 127.0.0.1 (0 picks a free one)."),
    slots: int = typer.Option(4, min=1, max=64, help="Parallel sequences (the most `n` one call may ask)."),
    context: int = typer.Option(8192, min=256, help="Total context, shared by the slots."),
    threads: int = typer.Option(2, min=1, help="CPU threads."),
) -> None:
    """Serve SmolLM2-135M-Instruct on 127.0.0.1 until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with user_errors(), LocalServer(ServerSettings(port=port or None, slots=slots, context=context, threads=threads)) as server:
        stderr.print(f"serving {DEFAULT_MODEL} at {server.base_url} (OpenAI-compatible; Ctrl-C to stop)")
        print(server.base_url, flush=True)
        stop.wait()
    stderr.print("stopped")
