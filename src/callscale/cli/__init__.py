"""The ``callscale`` command line: run · scale · theory · analyze · optimize · model · tasks.

Every command takes ``--store`` and ``--json``; user errors exit with code 2 and one clear line.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Any

import typer

from callscale.cli import model, theory
from callscale.cli.analyze import analyze
from callscale.cli.common import emit, stdout
from callscale.cli.optimize import optimize
from callscale.cli.run import run
from callscale.cli.scale import scale

app = typer.Typer(
    name="callscale",
    help="Measure, predict and budget the scaling of compound LLM systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run)
app.command("scale")(scale)
app.command("analyze")(analyze)
app.command("optimize")(optimize)
app.add_typer(model.app, name="model")
app.add_typer(theory.app, name="theory")


@app.command("tasks")
def tasks(as_json: bool = typer.Option(False, "--json", help="Machine-readable list.")) -> None:
    """List the shipped and generated tasks."""
    from callscale.tasks import get_task, task_names

    rows = [{"name": n, "items": len(get_task(n)), "multiple_choice": get_task(n).is_multiple_choice} for n in task_names()]

    def render(result: dict[str, Any]) -> None:
        for t in result["tasks"]:
            stdout.print(f"{t['name']:<36} {t['items']:>5} items{'  (multiple choice)' if t['multiple_choice'] else ''}")

    emit({"tasks": rows}, as_json, render)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Console entry point: SIGTERM behaves like Ctrl-C, so servers stop and stores are flushed."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: every completed call is stored; run the same command again to resume\n")
        raise SystemExit(130) from None
