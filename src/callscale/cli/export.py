"""``callscale export``: completions, runs and per-item outcomes from the store, as JSONL, CSV or Parquet."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from callscale.cli.common import StoreOpt, UserError, default_store_path, user_errors


def export(
    table: str = typer.Argument("completions", help="completions | runs | outcomes"),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | csv | parquet"),
    run: int | None = typer.Option(None, help="Only this run (see `callscale export runs`)."),
    out: Path | None = typer.Option(None, help="File to write (default: stdout; Parquet needs a file)."),
    store: StoreOpt = None,
) -> None:
    """Export the store: every completion (with its pool's backend, model, prompt and sampling), the
    runs (their settings and summaries) or the per-item outcomes of runs."""
    from callscale.export import ExportError, write_rows
    from callscale.store import EXPORT_TABLES, Store, check_store

    with user_errors():
        if table not in EXPORT_TABLES:
            raise UserError(f"unknown table {table!r}; choose one of {', '.join(EXPORT_TABLES)}")
        path = store or default_store_path()
        if not path.is_file():
            raise UserError(f"no store at {path}")
        check_store(path)
        with Store(path, readonly=True) as db:
            if run is not None and all(r["id"] != run for r in db.runs()):
                raise UserError(f"{path}: no run {run}; its runs are {', '.join(str(r['id']) for r in db.runs()) or 'none'}")
            try:
                n = write_rows(db.table_rows(table, run), out if out is not None else sys.stdout, fmt)
            except ExportError as exc:
                raise UserError(str(exc)) from None
        if out is not None:
            sys.stderr.write(f"{n} {table} rows → {out}\n")
