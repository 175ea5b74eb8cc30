"""A user's own task from a JSONL or CSV file: a prompt template over each row's fields, an answer
parser and a scorer chosen by name — on the command line or in a sidecar YAML next to the data.

Each row needs its gold answer (field ``answer``, or ``gold``) and may have an ``id`` (default: the
row's line number). With a template (``"Compute {a} + {b}."``, or a file holding one), the prompt is
the template filled from the row; without one, the row's ``question`` is the prompt. Rows with
``choices`` (multiple choice: ``answer`` is the option letter) follow callscale's own item format
(``id``, ``question``, ``choices``, ``answer``, ``metadata``). The sidecar ``data.yaml`` next to ``data.jsonl`` (or ``data.csv``)
may set ``name``, ``template``, ``parser``, ``scorer``, ``max_tokens`` and ``system``; options given
on the command line win.

Parsers: ``number`` (the final number, GSM8K style), ``letter`` (an option letter), ``yes-no``,
``exact`` (the text, normalised), ``regex:PATTERN`` (the last match; its first group if it has one).
Scorers: ``exact``, ``numeric`` (numbers compared as numbers: ``5.0`` = ``5``), ``contains`` (the
gold text appears in the answer). Defaults: ``number`` and ``numeric`` when every gold answer is a
number, else ``exact`` and ``exact``.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sums.jsonl"
    >>> _ = path.write_text('{"a": 2, "b": 3, "answer": 5}\\n')
    >>> task = load_task_file(path, template="Compute {a} + {b}.")
    >>> item = task.items[0]
    >>> task.prompt(item), task.score(task.parse("2 + 3 = 5", item), item)
    ('Compute 2 + 3.', 1.0)
"""

from __future__ import annotations

import csv
import io
import re
import string
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from callscale.tasks.items import Item, Task
from callscale.tasks.loaders import ItemRecord, TaskDataError, _read_text, json_objects
from callscale.tasks.parsers import AnswerParser, canonical_number, parse_choice, parse_exact, parse_number, parse_yes_no
from callscale.tasks.scorers import Item as ScoredItem
from callscale.tasks.scorers import exact_match, normalize_text, numeric_match

PARSERS: dict[str, AnswerParser] = {"number": parse_number, "letter": parse_choice, "yes-no": parse_yes_no,
                                    "exact": parse_exact}
SCORERS: dict[str, Callable[[str | None, Item], float]] = {"exact": exact_match, "numeric": numeric_match}
SIDECAR_FIELDS = ("name", "template", "parser", "scorer", "max_tokens", "system")
GOLD_FIELDS = ("answer", "gold")
_OWN_FORMAT = set(ItemRecord.model_fields)


def contains_match(answer: str | None, item: ScoredItem) -> float:
    """1 when the normalised gold text appears in the normalised answer.

    Example:
        >>> contains_match("It is Paris, France", Item(id="x", question="?", answer="paris"))
        1.0
    """
    if answer is None:
        return 0.0
    return 1.0 if normalize_text(item.answer) in normalize_text(answer) else 0.0


SCORERS["contains"] = contains_match


def parser_named(name: str) -> AnswerParser:
    """The parser called ``name`` (see module docstring); ``ValueError`` naming the choices otherwise.

    Example:
        >>> parser_named("regex:final: (\\\\w+)")("final: yes", None)
        'yes'
    """
    if name.startswith("regex:"):
        try:
            pattern = re.compile(name.removeprefix("regex:"))
        except re.error as exc:
            raise ValueError(f"parser {name!r}: not a regular expression ({exc})") from None
        return _regex_parser(pattern)
    if name not in PARSERS:
        raise ValueError(f"unknown parser {name!r}; choose one of {', '.join(PARSERS)}, regex:PATTERN")
    return PARSERS[name]


def _regex_parser(pattern: re.Pattern[str]) -> AnswerParser:
    def parse(text: str, choices: Sequence[str] | None = None) -> str | None:
        matches = list(pattern.finditer(text))
        if not matches:
            return None
        last = matches[-1]
        found = last.group(1) if pattern.groups else last.group(0)
        return found.strip() if found is not None else None

    return parse


def scorer_named(name: str) -> Callable[[str | None, Item], float]:
    """The scorer called ``name`` (exact, numeric, contains); ``ValueError`` naming the choices otherwise."""
    if name not in SCORERS:
        raise ValueError(f"unknown scorer {name!r}; choose one of {', '.join(SCORERS)}")
    return SCORERS[name]


def sidecar_of(path: Path) -> dict[str, Any]:
    """The settings in ``<stem>.yaml`` (or ``.yml``) beside the data file, checked; ``{}`` when absent."""
    stem = path.name.removesuffix(".gz").rsplit(".", 1)[0]
    for candidate in (path.with_name(f"{stem}.yaml"), path.with_name(f"{stem}.yml")):
        if candidate.is_file():
            try:
                raw = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
                raise TaskDataError(f"{candidate}:{line}: not valid YAML") from None
            if not isinstance(raw, dict):
                raise TaskDataError(f"{candidate}: expected a mapping of {', '.join(SIDECAR_FIELDS)}")
            unknown = sorted(set(raw) - set(SIDECAR_FIELDS))
            if unknown:
                raise TaskDataError(f"{candidate}: unknown field {unknown[0]!r}; allowed: {', '.join(SIDECAR_FIELDS)}")
            return dict(raw) | {"_source": str(candidate)}
    return {}


def load_task_file(path: str | Path, *, template: str | None = None, parser: str | None = None,
                   scorer: str | None = None, name: str | None = None) -> Task:
    """The task in a JSONL (``.jsonl``, ``.jsonl.gz``) or CSV file (see module docstring); bad data is
    a :class:`~callscale.tasks.loaders.TaskDataError` naming the file, the line and the field."""
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"task file not found: {path}")
    side = sidecar_of(path)
    where = side.get("_source", str(path))
    template = _template_text(template if template is not None else side.get("template"), path)
    rows = _rows(path)
    if not rows:
        raise TaskDataError(f"{path}: no rows")
    if template is None and all(set(row) <= _OWN_FORMAT and ("choices" in row or "metadata" in row) for _, row in rows):
        items = tuple(_own_item(path, number, row) for number, row in rows)
    else:
        items = tuple(_row_item(path, number, row, template) for number, row in rows)
    _check_unique(path, rows, items)
    numeric = all(it.choices is None and canonical_number(it.answer) is not None for it in items)
    multiple_choice = any(it.choices for it in items)
    try:
        chosen_parser = parser_named(parser or side.get("parser") or
                                     ("letter" if multiple_choice else "number" if numeric else "exact"))
        chosen_scorer = scorer_named(scorer or side.get("scorer") or ("numeric" if numeric else "exact"))
    except ValueError as exc:
        raise TaskDataError(f"{where if (parser is None and scorer is None) else path}: {exc}") from None
    sampling = {"max_tokens": side["max_tokens"]} if "max_tokens" in side else {}
    prompt = "{question}\n\n{options}\n\nAnswer with the letter of the correct option." if multiple_choice else "{question}"
    try:
        return Task(name or side.get("name") or path.name.split(".")[0], items, prompt, parser=chosen_parser,
                    scorer=chosen_scorer, system=side.get("system"), sampling=sampling, source=str(path))
    except ValueError as exc:
        raise TaskDataError(f"{where}: {exc}") from None


def _template_text(template: str | None, data: Path) -> str | None:
    """A template given inline, or the text of a file naming one."""
    if template is None:
        return None
    candidate = Path(template)
    if "{" not in template and (candidate.is_file() or (data.parent / candidate).is_file()):
        return (candidate if candidate.is_file() else data.parent / candidate).read_text(encoding="utf-8").strip()
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise TaskDataError(f"template {template!r}: {exc}") from None
    if not fields:
        raise TaskDataError(f"template {template!r} uses no field of the rows (write e.g. 'Compute {{a}} + {{b}}.')")
    return template


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    text = _read_text(path)
    if path.name.removesuffix(".gz").endswith(".csv"):
        return _csv_rows(path, text)
    return list(json_objects(text.splitlines(), source=str(path)))


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    if not any(g in columns for g in GOLD_FIELDS):
        raise TaskDataError(f"{path}:1: no 'answer' (or 'gold') column; columns: {', '.join(columns) or 'none'}")
    rows = []
    for row in reader:
        number = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise TaskDataError(f"{path}:{number}: {len(columns)} columns expected ({', '.join(columns)})")
        rows.append((number, dict(row)))
    return rows


def _gold(path: Path, number: int, row: Mapping[str, Any]) -> str:
    for field in GOLD_FIELDS:
        if field in row:
            value = row[field]
            if value is None or isinstance(value, dict | list) or str(value).strip() == "":
                raise TaskDataError(f"{path}:{number}: field {field!r}: a gold answer (text or number) is needed")
            return str(value)
    raise TaskDataError(f"{path}:{number}: field 'answer': missing (give 'answer' or 'gold')")


def _row_item(path: Path, number: int, row: Mapping[str, Any], template: str | None) -> Item:
    gold = _gold(path, number, row)
    if template is None:
        if not isinstance(row.get("question"), str) or not row["question"].strip():
            raise TaskDataError(f"{path}:{number}: field 'question': missing (or give --template over the row's fields)")
        question = row["question"]
    else:
        try:
            question = template.format_map(_Fields(row))
        except KeyError as exc:
            raise TaskDataError(f"{path}:{number}: field {exc.args[0]!r}: the template uses it, the row lacks it") from None
    item_id = str(row.get("id") or f"{path.name.split('.')[0]}/{number}")
    extra = {k: v for k, v in row.items() if k not in ("id", *GOLD_FIELDS)}
    return Item(id=item_id, question=question, answer=gold, metadata=extra)


def _own_item(path: Path, number: int, row: Mapping[str, Any]) -> Item:
    from pydantic import ValidationError

    from callscale.tasks.loaders import _describe

    try:
        return ItemRecord.model_validate(row).to_item()
    except ValidationError as exc:
        raise TaskDataError(f"{path}:{number}: {_describe(exc)}") from None


def _check_unique(path: Path, rows: list[tuple[int, dict[str, Any]]], items: tuple[Item, ...]) -> None:
    seen: dict[str, int] = {}
    for (number, _), item in zip(rows, items, strict=True):
        if item.id in seen:
            raise TaskDataError(f"{path}:{number}: field 'id': {item.id!r} already used on line {seen[item.id]}")
        seen[item.id] = number


class _Fields(dict[str, Any]):
    """Row fields for ``str.format_map``: a missing field raises ``KeyError`` with its name."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(key)
