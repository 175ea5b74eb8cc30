"""Helpers for the asymptotic tests: a local CLI app with the analyze command, and example runs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import typer
from typer.testing import CliRunner

from callscale.asymptotic.empirical import Analysis
from callscale.asymptotic.examples import analyze_example, get_example
from callscale.cli.analyze import analyze


def cli_app() -> typer.Typer:
    """A Typer app with ``analyze`` registered the way the main app registers it."""
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command("analyze")(analyze)

    @app.command("version")
    def version() -> None:  # a second command keeps ``analyze`` a subcommand
        print("test")

    return app


def invoke(*args: str) -> tuple[int, str, str]:
    """Run ``analyze`` with ``args``; exit code, stdout, stderr."""
    result = CliRunner().invoke(cli_app(), ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def run(name: str, sizes: Sequence[int], *, vary: str | None = None, fixed: Mapping[str, int] | None = None,
        metric: str = "passes", symbolic: bool = False, **kwargs: Any) -> Analysis:
    """``analyze_example`` on the simulated backend, synchronously."""
    return asyncio.run(analyze_example(get_example(name), sizes, vary=vary, fixed=fixed, metric=metric,
                                       symbolic=symbolic, **kwargs))


def gains(analysis: Analysis, metric: str = "passes") -> list[float]:
    """Measured baseline/improved ratios per size."""
    b, i = analysis.names
    return [r.gain(metric, b, i) for r in analysis.rows]
