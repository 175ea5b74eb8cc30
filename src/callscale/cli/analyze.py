"""``callscale analyze``: symbolic and measured cost growth of a decomposition (Meyerson & Qiu).

The target is a worked example — ``routing``, ``debugging``, ``evolution``, ``summarising`` (the
open exercise) or ``specialists`` — or a YAML/TOML network file. ``--sizes`` lists values of one
size parameter (``--vary``; an example's default, e.g. ``k``; for a network file, ``k`` or any
numeric node field such as ``fan_in``, or ``document``/``prompt`` words); ``--set NAME=VALUE``
fixes the others. The command prints the symbolic cost and Θ terms, the measured cost per size,
fitted slopes with 95 % intervals, the best-fitting growth class, whether the declared counts equal
the ledger's, and writes a log-log plot into ``--report DIR``.

Example:
    >>> parse_sizes("2,4,8")
    [2, 4, 8]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from callscale.cli.common import (
    STORE_HELP,
    Executor,
    ExecutorOpt,
    JsonOpt,
    RayAddressOpt,
    UserError,
    WorkersOpt,
    backend_spec,
    default_store_path,
    emit,
    human,
    open_executor_backend,
    open_store,
    stderr,
    stdout,
    user_errors,
)
from callscale.cli.progress import QuietOpt, call_progress

TARGET_HELP = ("routing, debugging, evolution, summarising, specialists, or a YAML/TOML network file.")
NETWORK_SUFFIXES = (".yaml", ".yml", ".toml")


def parse_sizes(text: str) -> list[int]:
    """Comma-separated positive integers, at least two different ones.

    Example:
        >>> parse_sizes(" 8, 2 ,4")
        [8, 2, 4]
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise UserError(f"--sizes must be comma-separated integers, got {text!r}") from None
    bad = [v for v in values if v <= 0]
    if bad:
        raise UserError(f"--sizes must be positive integers, got {bad[0]}")
    if len(set(values)) < 2:
        raise UserError(f"--sizes needs at least two different sizes to fit a growth, got {text!r}")
    return values


def parse_fixed(items: list[str]) -> dict[str, int]:
    """``NAME=VALUE`` pairs with integer values.

    Example:
        >>> parse_fixed(["k=4", "l=16"])
        {'k': 4, 'l': 16}
    """
    out: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = int(value)
        except ValueError:
            raise UserError(f"--set {name.strip()} must be an integer, got {value!r}") from None
    return out


def analyze(
    target: str = typer.Argument(..., help=TARGET_HELP),
    sizes: str | None = typer.Option(None, "--sizes", help="Values of the varied size, comma-separated, at least two "
                                                           "(default: the example's sweep; on the local model: small)."),
    vary: str | None = typer.Option(None, help="Size to vary (default: the example's own, e.g. k; for a network file: k)."),
    fixed: list[str] = typer.Option([], "--set", help="Fix another size: NAME=VALUE (repeatable)."),
    metric: str | None = typer.Option(None, help="passes (the paper's forward-pass cost), primitive (m·n), calls, tokens, "
                                                 "prompt_tokens, completion_tokens or depth (default: passes; calls for "
                                                 "a network file)."),
    seeds: int = typer.Option(0, min=0, help="Average this many seeded randomised runs (evolution); 0 = deterministic."),
    backend: str = typer.Option("simulated", help="simulated | local (the embedded model plays every role; keep sizes small)."),
    task: str = typer.Option("arithmetic", help="Task a network file runs on with --backend local."),
    limit: int | None = typer.Option(None, min=1, help="Items per domain (specialists) or per size (network file, local)."),
    report: Path | None = typer.Option(None, help="Directory for the log-log plot (<target>.png) and <target>.json."),
    store: Path | None = typer.Option(None, help=STORE_HELP + " Simulated runs keep completions in memory unless set."),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Symbolic cost, measured cost per size, fitted growth and the symbolic-vs-measured check."""
    with user_errors(), _run_failures():
        if backend not in ("simulated", "local"):
            raise UserError(f"unknown backend {backend!r}; analyze runs on simulated or local")
        where = Executor(executor, ray_address, workers).check()
        if where.kind != "local" and backend != "local":
            raise UserError("--executor ray runs analyze's calls on --backend local (simulated sizes run in this process)")
        size_list = parse_sizes(sizes) if sizes is not None else None
        settings = parse_fixed(fixed)
        path = Path(target)
        if path.suffix in NETWORK_SUFFIXES or path.exists():
            result = _analyze_network(path, size_list, vary or "k", settings, metric or "calls", backend, task, limit,
                                      store, not quiet, where)
        else:
            result = _analyze_example(target, size_list, vary, settings, metric or "passes", seeds, backend, limit,
                                      store, not quiet, where)
        summary = result.to_dict()
        if report is not None:
            _write_report(summary, report, path.stem if path.suffix in NETWORK_SUFFIXES else target)
    emit(summary, as_json, render)


def _write_report(summary: dict[str, Any], directory: Path, name: str) -> None:
    """The plot ``<name>.png`` (its path added to ``summary``) and ``<name>.json`` in ``directory``."""
    from callscale.report.asymptotic import plot_analysis

    directory.mkdir(parents=True, exist_ok=True)
    from callscale.report.asymptotic import write_html

    summary["plot"] = str(plot_analysis(summary, directory / f"{name}.png"))
    summary["html"] = str(write_html(summary, directory / f"{name}.html"))
    (directory / f"{name}.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")


@contextlib.contextmanager
def _run_failures() -> Iterator[None]:
    """Calls that finally failed: one line on stderr, exit code 1 (nothing the user typed is wrong)."""
    from callscale.asymptotic.measurement import RunFailedError

    try:
        yield
    except RunFailedError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def _example(name: str, size_list: list[int] | None, vary: str | None, settings: dict[str, int], metric: str,
             backend: str, limit: int | None) -> tuple[Any, str, list[int] | None, dict[str, int]]:
    """The registered example, the varied size, the sizes and the fixed settings, checked (one-line user errors)."""
    from callscale.asymptotic.examples import UnknownExampleError, get_example
    from callscale.costs import METRICS

    try:
        example = get_example(name)
    except UnknownExampleError as exc:
        raise UserError(str(exc.args[0])) from None
    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    axis = vary or example.vary
    if axis not in example.defaults:
        raise UserError(f"example {name!r} has no size {axis!r}; its sizes are {', '.join(example.defaults)}")
    if backend == "local":
        base = {k: v for k, v in example.real_sizes.items() if k != axis}
        if limit is not None and "q" in example.defaults:
            base["q"] = limit
        settings = {**base, **settings}
        size_list = size_list or [example.real_sizes[axis], 2 * example.real_sizes[axis]]
    try:
        example.sizes({**settings, axis: (size_list or example.sweep)[0]})
        for value in size_list or example.sweep:
            example.sizes({**settings, axis: value})
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return example, axis, size_list, settings


def _analyze_example(name: str, size_list: list[int] | None, vary: str | None, settings: dict[str, int], metric: str,
                     seeds: int, backend: str, limit: int | None, store: Path | None, chatty: bool,
                     executor: Executor | None = None) -> Any:
    from callscale.asymptotic.examples import analyze_example, real_engine
    from callscale.store import check_store

    example, axis, size_list, settings = _example(name, size_list, vary, settings, metric, backend, limit)
    if store is not None or backend != "simulated":
        check_store(store or default_store_path())

    async def main() -> Any:
        if backend == "simulated":
            if store is None:
                return await analyze_example(example, size_list, vary=axis, fixed=settings, metric=metric, seeds=seeds)
            with open_store(store) as db:
                def sim_engine(ex: Any, sz: Any, seed: int | None) -> Any:
                    from callscale.asymptotic.measurement import PassLedger
                    from callscale.engine import Engine

                    return Engine(ex.simulated(sz, seed), ledger=PassLedger(), store=db)

                return await analyze_example(example, size_list, vary=axis, fixed=settings, metric=metric, seeds=seeds,
                                             engine=sim_engine)
        async with open_executor_backend(_local_spec(), None, executor) as live:
            with open_store(store or default_store_path()) as db, call_progress(name, enabled=chatty) as meter:
                def engine(ex: Any, sz: Any, seed: int | None) -> Any:
                    if chatty:
                        stderr.print(f"running {ex.name} at {', '.join(f'{k}={v}' for k, v in sz.items())} on the local model")
                    return meter.watch(real_engine(live, ex, sz, db))

                return await analyze_example(example, size_list, vary=axis, fixed=settings, metric=metric, engine=engine,
                                             real=True, backend_name="local")

    return asyncio.run(main())


def _analyze_network(path: Path, size_list: list[int] | None, vary: str, settings: dict[str, int], metric: str,
                     backend: str, task: str, limit: int | None, store: Path | None, chatty: bool,
                     executor: Executor | None = None) -> Any:
    from callscale.asymptotic.measurement import PassLedger, analyze_networks
    from callscale.asymptotic.network_structure import StructureError
    from callscale.backends.local import DEFAULT_MODEL
    from callscale.costs import METRICS
    from callscale.engine import Engine
    from callscale.store import check_store
    from callscale.tasks import load_task

    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if settings:
        raise UserError("--set applies to examples; a network file's sizes are its node fields (edit the file)")
    if not path.is_file():
        raise UserError(f"network file not found: {path}")
    networks, title, legend = _networks(path, DEFAULT_MODEL if backend == "local" else "sim", vary)
    network = networks[0]
    chosen = size_list or [1, 2, 4, 8]
    if backend != "simulated":
        check_store(store or default_store_path())

    async def main() -> Any:
        try:
            if backend == "simulated":
                return await analyze_networks(networks, vary, chosen, metric=metric, name=title[0], title=title[1], notes=legend)
            the_task = load_task(task, limit or 2)
            async with open_executor_backend(_local_spec(), None, executor) as live:
                with open_store(store or default_store_path()) as db, call_progress(network.name, enabled=chatty) as meter:
                    def engine(t: Any) -> Any:
                        return meter.watch(Engine(live, store=db, ledger=PassLedger()))

                    return await analyze_networks(networks, vary, chosen, metric=metric, engine=engine, task=the_task,
                                                  backend_name="local", name=title[0], title=title[1], notes=legend)
        except StructureError as exc:
            raise UserError(str(exc)) from None

    return asyncio.run(main())


MAX_CONFIGURATIONS = 6
"""Most configurations of a network file with choices that ``analyze`` measures side by side."""


def _networks(path: Path, default_model: str, vary: str) -> tuple[list[Any], tuple[str | None, str | None], str]:
    """The network of a plain file, or every configuration of a file with choices (models, and ``k``
    unless ``k`` is the size varied), named c1, c2, …; with a title and the legend of the names."""
    import dataclasses

    from callscale.networks import network_from_dict, read_network_file
    from callscale.search.network_space import NoChoices, SearchableNetwork

    raw = read_network_file(path)
    try:
        searchable = SearchableNetwork.from_dict(raw, source=str(path), default_model=default_model)
    except NoChoices:
        return [network_from_dict(raw, source=str(path), default_model=default_model)], (None, None), ""
    configs = searchable.configurations(fixed_k=vary == "k")
    if len(configs) > MAX_CONFIGURATIONS:
        raise UserError(f"{path}: its choices make {len(configs)} configurations; analyze compares at most "
                        f"{MAX_CONFIGURATIONS} side by side (narrow the choices, or search them with optimize --network)")
    networks = [dataclasses.replace(searchable.network(c, default_model=default_model), name=f"c{i}")
                for i, c in enumerate(configs, start=1)]
    labels = [searchable.label(c) if vary != "k" else searchable.label(c).replace(f"×{c[0].samples}", "")
              for c in configs]
    legend = "Configurations: " + "; ".join(f"c{i} {label}" for i, label in enumerate(labels, start=1)) + "."
    return networks, (searchable.name, f"{len(configs)} configurations of its choices"), legend


def _local_spec() -> Any:
    """The embedded model, as every role of an analysis on --backend local."""
    return backend_spec("local", None, None, None, None, None)


# -- rendering -----------------------------------------------------------------------------------
def _num(x: Any) -> str:
    return human(float(x)) if isinstance(x, int | float) else str(x)


def render(summary: dict[str, Any]) -> None:
    """Print an analysis for people (:func:`callscale.report.asymptotic.render_terminal` on stdout)."""
    from callscale.report.asymptotic import render_terminal

    render_terminal(summary, stdout, _num)
