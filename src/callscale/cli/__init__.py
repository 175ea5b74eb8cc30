"""The ``callscale`` command line: run · scale · theory · analyze · optimize · model · tasks.

Every command takes ``--store`` and ``--json``; user errors exit with code 2 and one clear line.
"""

from __future__ import annotations

import signal
import sys
import warnings
from types import FrameType
from typing import Any

import typer

from callscale.cli import model, theory
from callscale.cli.analyze import analyze
from callscale.cli.common import emit, stdout
from callscale.cli.export import export
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
app.command("export")(export)
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


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
    """Warnings (an unknown price, a shared store) as one line on stderr, without the code location."""
    sys.stderr.write(f"warning: {' '.join(str(message).split())}\n")


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM is handled as Ctrl-C is: asyncio's own SIGINT handling cancels the work cleanly."""
    signal.raise_signal(signal.SIGINT)


INTERRUPTED = "interrupted: every completed call is stored; run the same command again to resume"


def main(args: list[str] | None = None) -> None:
    """Console entry point. Usage errors are one line (exit 2); Ctrl-C and SIGTERM stop the servers,
    flush the store, mark the run interrupted and say so (exit 130)."""
    from typer._click import exceptions as click_exceptions  # typer's own copy of click
    from typer.exceptions import Abort

    signal.signal(signal.SIGTERM, _terminate)
    warnings.showwarning = _one_line_warning
    argv = sys.argv[1:] if args is None else args
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="callscale", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.format_message() + "\n")
        raise SystemExit(0) from None
    except click_exceptions.UsageError as exc:
        where = f" (see 'callscale {exc.ctx.command_path.partition(' ')[2]} --help')".replace("  ", " ") if exc.ctx else ""
        sys.stderr.write(f"error: {' '.join(exc.format_message().split())}{where}\n")
        raise SystemExit(exc.exit_code) from None
    except click_exceptions.ClickException as exc:
        sys.stderr.write(f"error: {' '.join(exc.format_message().split())}\n")
        raise SystemExit(exc.exit_code) from None
    except (Abort, KeyboardInterrupt):
        code = 130
    except BrokenPipeError:  # output piped into a reader that stopped early (``| head``)
        code = 0
    if code == 130:  # typer turns Ctrl-C into exit code 130; nothing else here exits with it
        sys.stderr.write(INTERRUPTED + "\n")
    raise SystemExit(code or 0)
