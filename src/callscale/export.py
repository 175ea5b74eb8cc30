"""Export what the store holds — completions, runs, per-item outcomes — as JSONL, CSV or Parquet,
or as a pandas data frame. pandas and pyarrow are optional (``pip install 'callscale[export]'``) and
imported only when asked for; JSONL and CSV need nothing.

Parquet files are written with pyarrow in plain column types (strings, int64, float64), so DuckDB,
pandas and Polars read them directly.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> write_rows([{"item": "a", "score": 1.0}, {"item": "b", "score": 0.0}], out, "csv")
    2
    >>> out.getvalue().splitlines()
    ['item,score', 'a,1.0', 'b,0.0']
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

FORMATS = ("jsonl", "csv", "parquet")
EXTRA = "pip install 'callscale[export]'  (pandas and pyarrow)"


class ExportError(ValueError):
    """An export that cannot be done (unknown format, a missing optional package); one line."""


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(f"{module} is not installed; run: {EXTRA}") from None


def write_rows(rows: Iterable[Mapping[str, Any]], out: IO[str] | str | Path, fmt: str) -> int:
    """Write flat ``rows`` to ``out`` (a text stream, or a path; Parquet needs a path); returns the count.

    Columns are the union of the rows' keys, in first-seen order.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rows = list(rows)
    if fmt == "parquet":
        if not isinstance(out, str | Path):
            raise ExportError("parquet needs a file: give --out PATH")
        pyarrow = _require("pyarrow")
        parquet = _require("pyarrow.parquet")
        parquet.write_table(pyarrow.Table.from_pylist(_uniform(rows)), str(out))
        return len(rows)
    if isinstance(out, str | Path):
        with open(out, "w", encoding="utf-8", newline="") as stream:
            return write_rows(rows, stream, fmt)
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=True, sort_keys=False, default=str) + "\n")
        return len(rows)
    writer = csv.DictWriter(out, fieldnames=_columns(rows), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)


def to_pandas(rows: Iterable[Mapping[str, Any]]) -> Any:
    """The rows as a ``pandas.DataFrame`` (pandas imported now)."""
    pandas = _require("pandas")
    rows = list(rows)
    return pandas.DataFrame.from_records(rows, columns=_columns(rows))


def _columns(rows: list[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


def _uniform(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every row with every column (missing ones None); text that is not valid UTF-8 escaped."""
    columns = _columns(rows)
    return [{c: _plain(row.get(c)) for c in columns} for row in rows]


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value
