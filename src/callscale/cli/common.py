"""Conventions every command shares: --store, --json, backend options, exit code 2 for user errors,
results on stdout (progress on stderr: :mod:`callscale.cli.progress`).

Example:
    >>> default_store_path().name
    'store.sqlite'
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console, ConsoleDimensions, RenderableType
from rich.table import Table
from rich.text import Text

from callscale.backends.base import AuthenticationError, Backend, ConfigurationError
from callscale.backends.factory import BackendSpec, open_backend
from callscale.backends.openai_compat import DEFAULT_CONNECT_TIMEOUT_S
from callscale.engine import Engine
from callscale.sqlite import DatabaseFileError
from callscale.store import RunRecord, SharedStoreWarning, Store

PIPE_WIDTH = 160
"""The width of stdout piped or redirected, unless ``$COLUMNS`` says otherwise."""


class _Stdout(Console):
    """stdout: the terminal's width (``$COLUMNS`` when set); piped, ``$COLUMNS`` or :data:`PIPE_WIDTH`.
    Read at every print, so a test (or a wrapper) setting ``$COLUMNS`` is honoured."""

    def __init__(self) -> None:
        super().__init__(highlight=False)
        self._width = None  # never frozen at import: the size is read at every print

    @property
    def size(self) -> ConsoleDimensions:
        dims = super().size
        if self._width is None and not self.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
            return ConsoleDimensions(PIPE_WIDTH, dims.height)
        return dims

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


stdout: Console = _Stdout()
stderr = Console(stderr=True, highlight=False)

STORE_HELP = "SQLite store of every completion (reused across runs); default: $CALLSCALE_STORE or the user cache."

# Options every calling command shares (typer reads the Annotated metadata).
BackendOpt = Annotated[str, typer.Option(help="local | openai | simulated | replay")]
ModelOpt = Annotated[str | None, typer.Option(help="Model name (default: the embedded local model).")]
BaseUrlOpt = Annotated[str | None, typer.Option(help="Server URL for --backend openai (…/v1).")]
ApiKeyEnvOpt = Annotated[str | None, typer.Option(help="Environment variable holding the API key.")]
ReplayOpt = Annotated[Path | None, typer.Option(help="Recorded store or JSONL for --backend replay.")]
ConcurrencyOpt = Annotated[int | None, typer.Option(min=1, help="Calls in flight (default: the backend's).")]
TimeoutOpt = Annotated[float | None, typer.Option(min=0.001, help="Seconds one call may take in all, then it is retried "
                                                                  "(default: 120 for servers, 300 for the local model).")]
ConnectTimeoutOpt = Annotated[float, typer.Option(min=0.001, help="Seconds to open a connection to the server.")]
FailShareOpt = Annotated[float, typer.Option(min=0.0, max=1.0, help="Exit 3 without a measurement when at least this "
                                                                      "share of the calls made failed (1: only when all did).")]
StoreOpt = Annotated[Path | None, typer.Option(help=STORE_HELP)]
ExecutorOpt = Annotated[str, typer.Option(help="Where calls run: local (this process) | ray (Ray actors, one backend "
                                              "replica each; the store stays here).")]
RayAddressOpt = Annotated[str | None, typer.Option(help="Ray cluster to join with --executor ray (default: "
                                                        "$RAY_ADDRESS, else a local cluster).")]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Ray workers (default: one per CPU of the cluster).")]
ModelsOpt = Annotated[Path | None, typer.Option("--models", help="Model catalogue (YAML/TOML): backends, servers, sizes, "
                                                                  "prices and limits of the models networks name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable result on stdout.")]


def default_store_path() -> Path:
    """$CALLSCALE_STORE, else $XDG_CACHE_HOME/callscale/store.sqlite, else ~/.cache/callscale/store.sqlite."""
    if os.environ.get("CALLSCALE_STORE"):
        return Path(os.environ["CALLSCALE_STORE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "callscale" / "store.sqlite"


class UserError(Exception):
    """Anything the user can fix: reported in one line, exit code 2."""


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise (code 2)."""
    sys.stderr.write(f"error: {' '.join(message.split())}\n")  # one line, never wrapped
    return typer.Exit(2)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn configuration, data and input errors into one clear line and exit code 2."""
    from callscale.networks import NetworkError
    from callscale.tasks.loaders import TaskDataError
    from callscale.tasks.registry import UnknownTaskError

    try:
        yield
    except (UserError, ConfigurationError, NetworkError, TaskDataError, UnknownTaskError, FileNotFoundError,
            DatabaseFileError, AuthenticationError) as exc:
        message = str(exc.args[0]) if isinstance(exc, UnknownTaskError | KeyError) and exc.args else str(exc)
        if isinstance(exc, AuthenticationError):
            message = f"{message}; the run stopped (every completed call is stored)"
        raise fail(message) from None
    except FailedRun as exc:
        raise typer.Exit(exc.code) from None


def backend_spec(backend: str, model: str | None, base_url: str | None, api_key_env: str | None,
                 replay: Path | None, concurrency: int | None, params: int | None = None, *,
                 timeout: float | None = None, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S) -> BackendSpec:
    """Validated backend spec from the common options."""
    spec = BackendSpec(kind=backend, model=model, base_url=base_url, api_key_env=api_key_env, replay_path=replay,
                       concurrency=concurrency, params=params, timeout_s=timeout,
                       connect_timeout_s=connect_timeout).validate()
    if spec.kind == "openai":  # size from the built-in catalogue, prices from the price table
        import dataclasses

        from callscale.models import openai_card

        spec = dataclasses.replace(spec, card=openai_card(spec))
    return spec


def open_store(path: Path) -> Store:
    """The store at ``path``, checked before any backend starts (a bad file is a one-line error, exit 2);
    a second process writing to it is reported in one warning line."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SharedStoreWarning)
        store = Store(path)
    for warning in caught:
        if issubclass(warning.category, SharedStoreWarning):
            sys.stderr.write(f"warning: {warning.message}\n")
    return store


def catalogue_of(path: Path | None) -> Any:
    """The built-in models, plus (overriding them) those of the file at ``path``."""
    from callscale.catalogue import builtin_catalogue, load_catalogue

    base = builtin_catalogue()
    return base if path is None else base.merged(load_catalogue(path))


def needs_catalogue(models_file: Path | None, spec: BackendSpec, models: tuple[str, ...]) -> bool:
    """Whether a command opens its models from the catalogue: a file was given, or a local run names
    several local models (each gets its own server)."""
    return models_file is not None or (spec.kind == "local" and len(models) > 1)


@contextlib.asynccontextmanager
async def engine_and_store(spec: BackendSpec, responder: Callable[[], Any] | None, store_path: Path, *,
                           models: tuple[str, ...] = (), models_file: Path | None = None,
                           concurrency: int | None = None,
                           executor: Executor | None = None) -> AsyncIterator[tuple[Engine, Store, str]]:
    """An engine over the models a command calls — one backend from ``spec``, or one per catalogue
    endpoint (:func:`needs_catalogue`) — and the store; yields (engine, store, what to call the backends)."""
    from callscale.models import open_models

    if not needs_catalogue(models_file, spec, models):
        async with backend_and_store(spec, responder, store_path, executor=executor) as (live, db):
            yield Engine(live, store=db, concurrency=concurrency), db, live.name
        return
    if executor is not None and executor.kind != "local":
        raise UserError("--executor ray runs one backend (--backend/--model) for now; several catalogue models run "
                        "with --executor local")
    catalogue = catalogue_of(models_file)
    async with open_models(catalogue, models, responder=responder) as opened:
        with open_store(store_path) as db:
            engine = Engine(opened.backends, store=db, concurrency=concurrency, **opened.engine_options())
            yield engine, db, ", ".join(sorted({b.name for b in engine.backends()}))


@contextlib.asynccontextmanager
async def backend_and_store(spec: BackendSpec, responder: Callable[[], Any] | None, store_path: Path, *,
                            executor: Executor | None = None) -> AsyncIterator[tuple[Backend, Store]]:
    """The backend of ``spec`` started (here, or as replicas on Ray workers), then the store opened
    (:func:`open_store`); both closed on exit."""
    async with open_executor_backend(spec, responder, executor) as live:
        with open_store(store_path) as db:
            yield live, db


@dataclass(frozen=True)
class Executor:
    """Where calls run (``--executor``), and for Ray the cluster and the number of workers."""

    kind: str = "local"
    address: str | None = None
    workers: int | None = None

    def check(self) -> Executor:
        """A one-line error for an unknown executor, or for Ray when it is not installed."""
        from callscale.executors import EXECUTORS

        if self.kind not in EXECUTORS:
            raise UserError(f"unknown executor {self.kind!r}; choose one of {', '.join(EXECUTORS)}")
        if self.kind == "ray":
            from callscale.executors.ray import import_ray

            import_ray()
        return self


@contextlib.asynccontextmanager
async def open_executor_backend(spec: BackendSpec, responder: Callable[[], Any] | None,
                                executor: Executor | None) -> AsyncIterator[Backend]:
    """:func:`~callscale.backends.factory.open_backend`, or a :class:`~callscale.executors.ray.RayBackend`
    over replicas of it (each embedded model server on one CPU thread)."""
    if executor is None or executor.kind == "local":
        async with open_backend(spec, responder=responder) as live:
            yield live
        return
    import dataclasses

    from callscale.executors.ray import ray_backend

    replica = dataclasses.replace(spec, threads=1)

    def opener() -> Any:
        return open_backend(replica, responder=responder)

    async with ray_backend(opener, workers=executor.workers, models=(spec.model_name,), address=executor.address) as rb:
        yield rb


@dataclass
class Failures:
    """Calls made now and calls that failed for good, over one command (several engines add up)."""

    made: int = 0
    failed: int = 0
    first: str | None = None

    def add(self, engine: Engine) -> None:
        """Count one engine's calls."""
        self.made += engine.stats.samples
        self.failed += engine.failed
        self.first = self.first or engine.first_failure

    def verdict(self, fail_share: float, run: RunRecord | None = None) -> None:
        """Say on stderr how many calls failed and why; raise exit 3 (no measurement) when at least
        ``fail_share`` of the calls made failed. The run row is marked ``failed`` then."""
        if not self.failed:
            return
        total = self.made + self.failed
        line = f"{self.failed} of {total} calls failed; first: {self.first}"
        if self.failed >= fail_share * total:
            if run is not None:
                run.status = "failed"
                run.summary.update({"calls_made": self.made, "failures": self.failed, "first_failure": self.first})
            sys.stderr.write(f"error: {' '.join(line.split())} — no measurement reported\n")
            raise FailedRun(3, line)
        sys.stderr.write(f"warning: {' '.join(line.split())}\n")


class FailedRun(Exception):
    """Too many calls failed: the command ends with this exit code and prints no measurement."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def emit(result: dict[str, Any], as_json: bool, render: Callable[[dict[str, Any]], None]) -> None:
    """Print ``result`` as JSON on stdout, or render it for people."""
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    else:
        render(result)


def human(n: float) -> str:
    """Compact number: 1.2k, 3.4M, 5.6G, 7.8T."""
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.3g}" if isinstance(n, float) and not n.is_integer() else str(int(n))


WIDE_COST_TABLE = 130
"""From this console width on, the cost per node is one table; below it, two that fit 80 columns."""

COST_LEGEND = ("calls, tokens, passes, m·n, FLOPs, $: system cost (what the system costs fresh, cache hits included); "
               "hits: cache hits; depth: position on the chain of dependent calls; made now: calls this run paid for")


def cost_table(ledger: dict[str, Any], title: str = "cost per node") -> Table:
    """The ledger as one wide table (130 columns): spent (calls made now) and system (what the system costs fresh)."""
    table = Table(title=title, title_justify="left")
    for column in ("node", "model", "calls", "cache hits", "prompt tok", "compl tok", "fwd passes", "m·n",
                   "FLOPs", "$", "depth", "spent calls", "spent m·n"):
        name = column in ("node", "model")
        table.add_column(column, justify="left" if name else "right", overflow="fold" if name else "ellipsis",
                         no_wrap=not name)
    rows = [*ledger["lines"], ledger["total"]]
    for line in rows:
        sysc, spent = line["system"], line["spent"]
        table.add_row(line["node"], line["model"], str(sysc["calls"]), str(line["cache_hits"]),
                      human(sysc["prompt_tokens"]), human(sysc["completion_tokens"]), human(sysc["forward_passes"]),
                      human(sysc["primitive_cost"]), human(sysc["flops"]), _dollars(sysc["dollars"]), str(line["depth"]),
                      str(spent["calls"]), human(spent["primitive_cost"]),
                      end_section=line is rows[-2])
    return table


def cost_tables(ledger: dict[str, Any], width: int, title: str = "cost per node") -> list[RenderableType]:
    """The ledger for a console ``width`` columns wide: :func:`cost_table` when it fits; else two tables
    of short headers (node and model in one column, folded, never cut), the total as their footer, and a
    legend line."""
    if width >= WIDE_COST_TABLE:
        return [cost_table(ledger, title)]
    headers = (("calls", "hits", "in tok", "out tok", "passes", "depth"), ("m·n", "FLOPs", "$", "made now", "now m·n"))
    total = _cost_cells(ledger["total"])
    tables: list[RenderableType] = []
    for half, columns in enumerate(headers):
        table = Table(title=title if half == 0 else f"\n{title}, continued", title_justify="left", box=box.SIMPLE,
                      pad_edge=False, show_edge=False, show_footer=True)
        cells = [_cost_cells(line)[half] for line in ledger["lines"]]
        by_column = zip(columns, total[half], *cells, strict=True)  # header, footer, then each row's cell
        numbers = sum(max(map(len, texts)) + 3 for texts in by_column)  # a column and its gap
        table.add_column("node · model", "total", overflow="fold", max_width=max(12, width - numbers))
        for column, footer in zip(columns, total[half], strict=True):
            table.add_column(column, footer, justify="right", overflow="fold")
        for line, row in zip(ledger["lines"], cells, strict=True):
            table.add_row(Text.assemble(line["node"], "\n  ", (line["model"], "dim")), *row)
        tables.append(table)
    return [*tables, Text(COST_LEGEND, style="dim")]


def _cost_cells(line: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One ledger line's cells for the two narrow cost tables."""
    sysc, spent = line["system"], line["spent"]
    return ((str(sysc["calls"]), str(line["cache_hits"]), human(sysc["prompt_tokens"]), human(sysc["completion_tokens"]),
             human(sysc["forward_passes"]), str(line["depth"])),
            (human(sysc["primitive_cost"]), human(sysc["flops"]), _dollars(sysc["dollars"]), str(spent["calls"]),
             human(spent["primitive_cost"])))


def _dollars(value: float | None) -> str:
    """Dollars to four decimals; unknown is "—", never 0."""
    return "—" if value is None else f"{value:.4f}"
