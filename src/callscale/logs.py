"""Answers recorded anywhere, read as sample pools for vote-scaling analysis (no backend, no calls).

Three layouts:

* JSONL, one item per line: ``{"id": ..., "gold": ..., "answers": [..., null, ...]}`` (answers in
  sample order; ``null`` is an abstention);
* CSV in long form, one sample per row: ``item_id,sample,answer,gold`` (an empty answer abstains;
  rows may come in any order — ``sample`` orders them);
* Parquet with the CSV's columns (needs pyarrow: ``pip install 'callscale[export]'``).

Answers and gold are compared after a parser (``exact`` by default: the text, normalised; ``number``,
``letter``, ``yes-no``, ``regex:PATTERN`` as for tasks), so ``"5.0"`` and ``"5"`` are one answer
with ``--parser number``. Bad input is a :class:`PoolFileError` naming the file, the line and the field.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> _ = path.write_text('{"id": "q1", "gold": "4", "answers": ["4", "The answer is 4", null]}\\n')
    >>> read_pool_file(path, parser="number")[0].answers
    ('4', '4', None)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from callscale.scaling.estimate import PoolItem
from callscale.tasks.files import parser_named
from callscale.tasks.loaders import json_objects
from callscale.tasks.parsers import normalize_text

CSV_COLUMNS = ("item_id", "sample", "answer", "gold")


class PoolFileError(ValueError):
    """A pool file that cannot be read: one line naming the file, the line and the field."""


def read_pool_file(path: str | Path, *, parser: str = "exact") -> list[PoolItem]:
    """The items of a recorded pool (see module docstring), answers and gold parsed by ``parser``."""
    path = Path(path)
    if not path.is_file():
        raise PoolFileError(f"pool file not found: {path}")
    try:
        parse = parser_named(parser)
    except ValueError as exc:
        raise PoolFileError(str(exc)) from None
    name = path.name.lower()
    if name.endswith(".parquet"):
        raw = _parquet_items(path)
    elif name.endswith((".csv", ".csv.gz")):
        raw = _long_items(path, _csv_rows(path))
    else:
        raw = _jsonl_items(path)
    if not raw:
        raise PoolFileError(f"{path}: no items")
    return [_parsed(item, parse) for item in raw]


def _parsed(item: PoolItem, parse: Callable[[str, Any], str | None]) -> PoolItem:
    gold = parse(item.gold, None) or normalize_text(item.gold)
    answers = tuple(None if a is None else parse(a, None) for a in item.answers)
    return PoolItem(item.id, gold, answers)


def _text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoolFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _jsonl_items(path: Path) -> list[PoolItem]:
    items: list[PoolItem] = []
    seen: dict[str, int] = {}
    for number, row in json_objects(_text(path).splitlines(), source=str(path), error=PoolFileError,
                                    expected="an object with 'id', 'gold' and 'answers'"):
        for field in ("id", "gold", "answers"):
            if field not in row or row[field] is None or (field != "answers" and str(row[field]).strip() == ""):
                raise PoolFileError(f"{path}:{number}: field {field!r}: missing")
        answers = row["answers"]
        if not isinstance(answers, list) or not answers:
            raise PoolFileError(f"{path}:{number}: field 'answers': a non-empty list of answers (null = abstain)")
        if any(isinstance(a, dict | list) for a in answers):
            raise PoolFileError(f"{path}:{number}: field 'answers': each answer is text, a number or null")
        item_id = str(row["id"])
        if item_id in seen:
            raise PoolFileError(f"{path}:{number}: field 'id': {item_id!r} already on line {seen[item_id]}")
        seen[item_id] = number
        items.append(PoolItem(item_id, str(row["gold"]), tuple(None if a is None else str(a) for a in answers)))
    return _same_length(path, items, seen)


def _csv_rows(path: Path) -> list[tuple[int, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(_text(path)))
    columns = reader.fieldnames or []
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if missing:
        raise PoolFileError(f"{path}:1: column {missing[0]!r} missing; need {', '.join(CSV_COLUMNS)} "
                            f"(found {', '.join(columns) or 'none'})")
    rows: list[tuple[int, Mapping[str, Any]]] = []
    for row in reader:
        if None in row or any(v is None for v in row.values()):
            raise PoolFileError(f"{path}:{reader.line_num}: {len(columns)} columns expected ({', '.join(columns)})")
        rows.append((reader.line_num, row))
    return rows


def _parquet_items(path: Path) -> list[PoolItem]:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise PoolFileError(f"{path}: reading Parquet needs pyarrow; run: pip install 'callscale[export]'") from None
    table = parquet.read_table(path)
    missing = [c for c in CSV_COLUMNS if c not in table.column_names]
    if missing:
        raise PoolFileError(f"{path}: column {missing[0]!r} missing; need {', '.join(CSV_COLUMNS)}")
    rows = table.select(list(CSV_COLUMNS)).to_pylist()
    return _long_items(path, [(i + 1, {k: ("" if v is None and k == "answer" else v) for k, v in r.items()})
                              for i, r in enumerate(rows)], row_word="row")


def _long_items(path: Path, rows: Iterable[tuple[int, Mapping[str, Any]]], row_word: str = "") -> list[PoolItem]:
    by_item: dict[str, dict[int, str | None]] = {}
    gold: dict[str, str] = {}
    first: dict[str, int] = {}
    where = (lambda n: f"{path} {row_word} {n}") if row_word else (lambda n: f"{path}:{n}")
    for number, row in rows:
        item = str(row["item_id"] if row["item_id"] is not None else "").strip()
        if not item:
            raise PoolFileError(f"{where(number)}: field 'item_id': missing")
        try:
            sample = int(str(row["sample"]).strip())
        except (TypeError, ValueError):
            raise PoolFileError(f"{where(number)}: field 'sample': an integer, got {row['sample']!r}") from None
        g = "" if row["gold"] is None else str(row["gold"]).strip()
        if not g:
            raise PoolFileError(f"{where(number)}: field 'gold': missing")
        if gold.setdefault(item, g) != g:
            raise PoolFileError(f"{where(number)}: field 'gold': {g!r}, but item {item!r} has gold {gold[item]!r}")
        samples = by_item.setdefault(item, {})
        first.setdefault(item, number)
        if sample in samples:
            raise PoolFileError(f"{where(number)}: field 'sample': item {item!r} has sample {sample} twice")
        answer = row["answer"]
        samples[sample] = None if answer is None or str(answer).strip() == "" else str(answer)
    items = []
    for item, samples in by_item.items():
        order = sorted(samples)
        if order != list(range(order[0], order[0] + len(order))):
            raise PoolFileError(f"{where(first[item])}: field 'sample': item {item!r} has gaps in its samples {order}")
        items.append(PoolItem(item, gold[item], tuple(samples[i] for i in order)))
    return _same_length(path, items, first)


def _same_length(path: Path, items: list[PoolItem], lines: Mapping[str, int]) -> list[PoolItem]:
    """Every item must have the same number of samples (a pool of M samples per item)."""
    if items:
        m = len(items[0].answers)
        for item in items:
            if len(item.answers) != m:
                raise PoolFileError(f"{path}:{lines[item.id]}: field 'answers': item {item.id!r} has "
                                    f"{len(item.answers)} samples, the first item {m} (a pool needs the same M for all)")
    return items
