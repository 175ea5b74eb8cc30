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
from rich.table import Table

from callscale.cli.common import (
    STORE_HELP,
    JsonOpt,
    UserError,
    default_store_path,
    emit,
    human,
    open_store,
    stderr,
    stdout,
    user_errors,
)

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
) -> None:
    """Symbolic cost, measured cost per size, fitted growth and the symbolic-vs-measured check."""
    with user_errors(), _run_failures():
        if backend not in ("simulated", "local"):
            raise UserError(f"unknown backend {backend!r}; analyze runs on simulated or local")
        size_list = parse_sizes(sizes) if sizes is not None else None
        settings = parse_fixed(fixed)
        path = Path(target)
        if path.suffix in NETWORK_SUFFIXES or path.exists():
            result = _analyze_network(path, size_list, vary or "k", settings, metric or "calls", backend, task, limit,
                                      store, not as_json)
        else:
            result = _analyze_example(target, size_list, vary, settings, metric or "passes", seeds, backend, limit,
                                      store, not as_json)
        summary = result.as_dict()
        if report is not None:
            from callscale.asymptotic.report import plot_analysis

            name = path.stem if path.suffix in NETWORK_SUFFIXES else target
            report.mkdir(parents=True, exist_ok=True)
            summary["plot"] = str(plot_analysis(result, report / f"{name}.png"))
            (report / f"{name}.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    emit(summary, as_json, render)


@contextlib.contextmanager
def _run_failures() -> Iterator[None]:
    """Calls that finally failed: one line on stderr, exit code 1 (nothing the user typed is wrong)."""
    from callscale.asymptotic.examples import RunFailedError

    try:
        yield
    except RunFailedError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def _analyze_example(name: str, size_list: list[int] | None, vary: str | None, settings: dict[str, int], metric: str,
                     seeds: int, backend: str, limit: int | None, store: Path | None, chatty: bool) -> Any:
    from callscale.asymptotic.examples import UnknownExampleError, analyze_example, get_example, real_engine
    from callscale.asymptotic.symbolic import METRICS
    from callscale.store import check_store

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

    if store is not None or backend != "simulated":
        check_store(store or default_store_path())

    async def main() -> Any:
        if backend == "simulated":
            if store is None:
                return await analyze_example(example, size_list, vary=axis, fixed=settings, metric=metric, seeds=seeds)
            with open_store(store) as db:
                def sim_engine(ex: Any, sz: Any, seed: int | None) -> Any:
                    from callscale.asymptotic.empirical import PassLedger
                    from callscale.engine import Engine

                    return Engine(ex.simulated(sz, seed), ledger=PassLedger(), store=db)

                return await analyze_example(example, size_list, vary=axis, fixed=settings, metric=metric, seeds=seeds,
                                             engine=sim_engine)
        from callscale.backends.local import LocalBackend

        async with LocalBackend.started() as live:
            with open_store(store or default_store_path()) as db:
                def engine(ex: Any, sz: Any, seed: int | None) -> Any:
                    if chatty:
                        stderr.print(f"running {ex.name} at {', '.join(f'{k}={v}' for k, v in sz.items())} on the local model")
                    return real_engine(live, ex, sz, db)

                return await analyze_example(example, size_list, vary=axis, fixed=settings, metric=metric, engine=engine,
                                             real=True, backend_name="local")

    return asyncio.run(main())


def _analyze_network(path: Path, size_list: list[int] | None, vary: str, settings: dict[str, int], metric: str,
                     backend: str, task: str, limit: int | None, store: Path | None, chatty: bool) -> Any:
    from callscale.asymptotic.empirical import PassLedger, StructureError, analyze_network
    from callscale.asymptotic.symbolic import METRICS
    from callscale.backends.local import DEFAULT_MODEL
    from callscale.engine import Engine
    from callscale.networks import load_network
    from callscale.store import check_store
    from callscale.tasks import load_task

    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if settings:
        raise UserError("--set applies to examples; a network file's sizes are its node fields (edit the file)")
    if not path.is_file():
        raise UserError(f"network file not found: {path}")
    network = load_network(path, default_model=DEFAULT_MODEL if backend == "local" else "sim")
    chosen = size_list or [1, 2, 4, 8]
    if backend != "simulated":
        check_store(store or default_store_path())

    async def main() -> Any:
        try:
            if backend == "simulated":
                return await analyze_network(network, vary, chosen, metric=metric)
            from callscale.backends.local import LocalBackend

            the_task = load_task(task, limit or 2)
            async with LocalBackend.started() as live:
                with open_store(store or default_store_path()) as db:
                    def engine(t: Any) -> Any:
                        return Engine(live, store=db, ledger=PassLedger())

                    return await analyze_network(network, vary, chosen, metric=metric, engine=engine, task=the_task,
                                                 backend_name="local")
        except StructureError as exc:
            raise UserError(str(exc)) from None

    return asyncio.run(main())


# -- rendering -----------------------------------------------------------------------------------
def _num(x: Any) -> str:
    return human(float(x)) if isinstance(x, int | float) else str(x)


def render(summary: dict[str, Any]) -> None:
    """Print an analysis for people: symbolic side, table per size, fits and checks."""
    vary, metric, names = summary["vary"], summary["metric"], summary["decompositions"]
    fixed = ", ".join(f"{k}={v}" for k, v in summary["fixed"].items())
    paper = f" — paper: {summary['paper']}" if summary["paper"] else ""
    stdout.print(f"[bold]{summary['example']}[/]: {summary['title']}{paper}")
    stdout.print(f"backend {summary['backend']} · metric {metric} · vary {vary}" + (f" · fixed {fixed}" if fixed else "")
                 + (f" · mean of {summary['seeds']} seeds" if summary["seeds"] else ""))
    sym = summary.get("symbolic")
    if sym:
        stdout.print("\n[bold]symbolic[/] (every size symbolic; model sizes are constants m_*)")
        for name, info in sym["decompositions"].items():
            stdout.print(f"  {name}: {metric} = {info['cost'][metric]}")
            stdout.print(f"      {info['theta']}   depth {info['theta_depth']}")
            if "at_fixed" in info:
                stdout.print(f"      at the fixed sizes: {info['at_fixed'][metric]}  (growth in {vary}: "
                             f"{info['at_fixed']['growth']})")
        if "gain" in sym:
            g = sym["gain"]
            stdout.print(f"  gain {names[0]}/{names[1]} = {g['ratio']}")
            stdout.print(f"      {g['theta']}")
            stdout.print(f"      at the fixed sizes: {g['at_fixed']['ratio']}  (growth in {vary}: {g['at_fixed']['growth']})")
    table = Table(title=f"\nmeasured per size ({metric}; declared in brackets where it differs)", title_justify="left")
    table.add_column(vary, justify="right")
    for name in names:
        for col in ("calls", metric if metric != "calls" else "tokens", "depth"):
            table.add_column(f"{name} {col}", justify="right")
    if len(names) == 2:
        table.add_column("gain", justify="right")
    for row in summary["rows"]:
        cells = [str(row["size"])]
        for name in names:
            for col in ("calls", metric if metric != "calls" else "tokens", "depth"):
                got = row["measured"][name].get(col)
                want = row["declared"].get(name, {}).get(col)
                cell = _num(got) if got is not None else "—"
                if want is not None and got is not None and abs(got - want) > 1e-9 * max(1.0, abs(want)):
                    cell += f" [{_num(want)}]"
                cells.append(cell)
        if len(names) == 2:
            cells.append(f"{row['measured'][names[0]][metric] / row['measured'][names[1]][metric]:.3g}")
        table.add_row(*cells)
    stdout.print(table)
    keys = list(dict.fromkeys(k for row in summary["rows"] for d in row["detail"].values() for k, v in d.items()
                              if isinstance(v, int | float | bool)))
    if keys:
        details = Table(title="\nwhat each run reported", title_justify="left")
        details.add_column(vary, justify="right")
        details.add_column("decomposition")
        for key in keys:
            details.add_column(key, justify="right")
        for row in summary["rows"]:
            for name, d in row["detail"].items():
                details.add_row(str(row["size"]), name, *[("—" if key not in d else f"{d[key]:.3g}"
                                                           if isinstance(d[key], float) else str(d[key])) for key in keys])
        stdout.print(details)
    fits = Table(title="\ngrowth fits (95 % intervals)", title_justify="left")
    for col in ("series", "fit", "slope", "interval", "declared slope", "best class", "Θ class", "declared = measured"):
        fits.add_column(col, justify="left" if col in ("series", "fit", "best class", "Θ class") else "right")
    for name, c in summary["checks"].items():
        s = c["slope"]
        exact = "—" if c["declared"] is None else ("yes" if c["exact"] else f"no (max rel. err {c['max_relative_error']:.2g})")
        fits.add_row(name, c["fit"], f"{s['slope']:.3f}",
                     f"[{s['ci'][0]:.3f}, {s['ci'][1]:.3f}]",
                     "—" if c["declared_slope"] is None else f"{c['declared_slope']:.3f}",
                     c["best_class"] or "—", c["declared_growth"] or "—", exact)
    stdout.print(fits)
    stdout.print(f"declared counts equal the ledger's at every size: {'yes' if summary['exact'] else 'no'}")
    for name, c in summary["checks"].items():
        if c["class_agrees"] is False and c["declared_slope"] is not None:
            stdout.print(f"note: {name}'s best-fitting class over these sizes ({c['best_class']}) is not its asymptotic "
                         f"class ({c['declared_growth']}); the declared curve's own slope over the same sizes is "
                         f"{c['declared_slope']:.3f}.")
    if summary.get("notes"):
        stdout.print(f"note: {summary['notes']}")
    if summary.get("plot"):
        stdout.print(f"plot: {summary['plot']}")
