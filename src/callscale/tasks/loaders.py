"""Loading items: validated JSONL files, the shipped slices, and (optionally) Hugging Face datasets.

One item per line, a JSON object with the fields of :class:`ItemRecord`::

    {"answer": "B", "choices": ["Rome", "Paris"], "id": "q1", "metadata": {}, "question": "Capital of France?"}

A bad row stops loading with a :class:`TaskDataError` naming the file, the line and the field.
Files may be gzip-compressed (``.jsonl.gz``).

Example:
    >>> items = load_shipped("gsm8k")
    >>> len(items), items[0].answer
    (300, '18')
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from callscale.tasks.items import Item
from callscale.tasks.parsers import LETTERS

__all__ = [
    "ItemRecord",
    "TaskDataError",
    "dumps_rows",
    "from_huggingface",
    "item_to_row",
    "load_jsonl",
    "load_shipped",
    "parse_jsonl",
    "shipped_manifest",
    "shipped_names",
    "write_jsonl",
]


class TaskDataError(ValueError):
    """A data file (or data row) does not match the item schema.

    Example:
        >>> str(TaskDataError("items.jsonl:3: field 'answer': missing"))
        "items.jsonl:3: field 'answer': missing"
    """


class ItemRecord(BaseModel):
    """The schema of one JSONL row (strict: no unknown fields, no type coercion).

    Example:
        >>> ItemRecord.model_validate({"id": "x", "question": "1+1", "answer": "2"}).answer
        '2'
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    choices: list[str] | None = None
    answer: str
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("choices")
    @classmethod
    def _enough_choices(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not 2 <= len(value) <= len(LETTERS):
            raise ValueError(f"needs 2 to {len(LETTERS)} options, got {len(value)}")
        return value

    @field_validator("answer")
    @classmethod
    def _answer_fits(cls, value: str, info: ValidationInfo) -> str:
        choices = info.data.get("choices")
        if choices is not None and value not in LETTERS[: len(choices)]:
            raise ValueError(f"must be an option letter in {LETTERS[: len(choices)]!r}, got {value!r}")
        if choices is None and not value.strip():
            raise ValueError("must not be empty")
        return value

    def to_item(self) -> Item:
        """The :class:`~callscale.tasks.items.Item` of this row.

        Example:
            >>> ItemRecord(id="x", question="q", answer="A", choices=["a", "b"]).to_item().choices
            ('a', 'b')
        """
        return Item(
            id=self.id,
            question=self.question,
            answer=self.answer,
            choices=tuple(self.choices) if self.choices is not None else None,
            metadata=self.metadata,
        )


def _describe(error: ValidationError) -> str:
    parts = []
    for detail in error.errors():
        loc = ".".join(str(p) for p in detail["loc"]) or "<row>"
        parts.append(f"field '{loc}': {detail['msg']}")
    return "; ".join(parts)


def json_objects(lines: Iterable[str], *, source: str, error: type[Exception] = TaskDataError,
                 expected: str = "a JSON object") -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of JSONL ``lines`` with their line numbers, blank lines skipped; a line that is
    not JSON, or not an object, raises ``error`` naming ``source`` and the line — the one reader of
    JSONL rows (tasks, task files, answer logs).

    Example:
        >>> list(json_objects(['{"a": 1}', "", '{"b": 2}'], source="x.jsonl"))
        [(1, {'a': 1}), (3, {'b': 2})]
        >>> list(json_objects(["[1]"], source="x.jsonl"))
        Traceback (most recent call last):
        ...
        callscale.tasks.loaders.TaskDataError: x.jsonl:1: expected a JSON object, got list
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{source}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(raw, dict):
            raise error(f"{source}:{number}: expected {expected}, got {type(raw).__name__}")
        yield number, raw


def parse_jsonl(lines: Iterable[str], *, source: str = "<data>") -> tuple[Item, ...]:
    """Validate JSONL ``lines`` into items; errors name ``source``, the line number and the field.

    Blank lines are skipped; item ids must be unique.

    Example:
        >>> parse_jsonl(['{"id": "a", "question": "q", "answer": "1"}'])[0].id
        'a'
        >>> parse_jsonl(['{"id": "a", "question": "q"}'], source="x.jsonl")
        Traceback (most recent call last):
        ...
        callscale.tasks.loaders.TaskDataError: x.jsonl:1: field 'answer': Field required
    """
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, raw in json_objects(lines, source=source):
        try:
            record = ItemRecord.model_validate(raw)
        except ValidationError as exc:
            raise TaskDataError(f"{source}:{number}: {_describe(exc)}") from None
        if record.id in seen:
            raise TaskDataError(f"{source}:{number}: field 'id': {record.id!r} already used on line {seen[record.id]}")
        seen[record.id] = number
        items.append(record.to_item())
    return tuple(items)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8")


def load_jsonl(path: str | Path) -> tuple[Item, ...]:
    """Load and validate a ``.jsonl`` or ``.jsonl.gz`` file of items.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.jsonl"
        >>> _ = p.write_text('{"id": "a", "question": "1+1", "answer": "2"}\\n')
        >>> load_jsonl(p)[0].answer
        '2'
    """
    path = Path(path)
    return parse_jsonl(_read_text(path).splitlines(), source=str(path))


def item_to_row(item: Item) -> dict[str, Any]:
    """The JSON-ready row of ``item`` (inverse of loading).

    Example:
        >>> item_to_row(Item(id="a", question="q", answer="1"))
        {'answer': '1', 'choices': None, 'id': 'a', 'metadata': {}, 'question': 'q'}
    """
    return {
        "answer": item.answer,
        "choices": list(item.choices) if item.choices is not None else None,
        "id": item.id,
        "metadata": dict(item.metadata),
        "question": item.question,
    }


def dumps_rows(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Canonical JSONL bytes: sorted keys, compact separators, UTF-8, one ``\\n`` after each row.

    The same rows always give the same bytes, which is what makes the shipped slices reproducible.

    Example:
        >>> dumps_rows([{"b": 1, "a": "é"}])
        b'{"a":"\\xc3\\xa9","b":1}\\n'
    """
    return b"".join(
        (json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode()
        for row in rows
    )


def write_jsonl(items: Iterable[Item], path: str | Path) -> Path:
    """Write items as canonical JSONL (gzip when the name ends in ``.gz``, with a fixed timestamp).

    Example:
        >>> import tempfile, pathlib
        >>> p = write_jsonl([Item(id="a", question="q", answer="1")], pathlib.Path(tempfile.mkdtemp()) / "t.jsonl")
        >>> load_jsonl(p)[0].id
        'a'
    """
    path = Path(path)
    data = dumps_rows(item_to_row(it) for it in items)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# shipped slices

MANIFEST = "manifest.json"


def _data_dir() -> Any:
    return resources.files("callscale.tasks") / "data"


def shipped_manifest() -> dict[str, dict[str, Any]]:
    """The manifest of shipped slices: file name, item count, SHA-256, source and license per slice.

    Example:
        >>> shipped_manifest()["gsm8k"]["count"]
        300
    """
    data: dict[str, dict[str, Any]] = json.loads((_data_dir() / MANIFEST).read_text(encoding="utf-8"))
    return data


def shipped_names() -> list[str]:
    """Names of the shipped data slices.

    Example:
        >>> "arc_easy" in shipped_names()
        True
    """
    return sorted(shipped_manifest())


def load_shipped(name: str) -> tuple[Item, ...]:
    """The items of shipped slice ``name`` (validated; see :func:`shipped_names`).

    Example:
        >>> load_shipped("arc_challenge")[0].choices is not None
        True
    """
    manifest = shipped_manifest()
    if name not in manifest:
        raise KeyError(f"no shipped slice {name!r}; available: {', '.join(sorted(manifest))}")
    entry = manifest[name]
    resource = _data_dir() / entry["file"]
    data = resource.read_bytes()
    if entry["file"].endswith(".gz"):
        data = gzip.decompress(data)
    return parse_jsonl(data.decode("utf-8").splitlines(), source=f"callscale/tasks/data/{entry['file']}")


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (as recorded in the manifest).

    Example:
        >>> sha256_of(b"")[:8]
        'e3b0c442'
    """
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# Hugging Face datasets (optional dependency)

FieldSpec = str | Callable[[Mapping[str, Any]], Any]


def _get(row: Mapping[str, Any], spec: FieldSpec) -> Any:
    return spec(row) if callable(spec) else row[spec]


def from_huggingface(
    name: str,
    split: str,
    mapping: Mapping[str, FieldSpec | Sequence[str]],
    *,
    config: str | None = None,
    limit: int | None = None,
    id_prefix: str | None = None,
    **load_kwargs: Any,
) -> tuple[Item, ...]:
    """Items from a Hugging Face dataset, if the optional ``datasets`` package is installed.

    ``mapping`` says where each item field comes from: a column name or a function of the row,
    for ``question`` and ``answer`` (required) and ``id``, ``choices`` (optional); ``metadata``
    may also be a list of column names to copy. Without an ``id`` the row index is used. A
    multiple-choice ``answer`` may be an integer index; it becomes the option letter. Rows are
    validated like JSONL rows (errors name the row).

    Example (needs ``pip install datasets`` and network access)::

        items = from_huggingface("openai/gsm8k", "test", config="main", mapping={
            "question": "question",
            "answer": lambda r: r["answer"].split("####")[-1].strip().replace(",", ""),
        })
    """
    missing = {"question", "answer"} - set(mapping)
    if missing:
        raise ValueError(f"mapping needs {sorted(missing)} (a column name or a function of the row)")
    unknown = set(mapping) - {"id", "question", "answer", "choices", "metadata"}
    if unknown:
        raise ValueError(f"mapping has unknown item fields {sorted(unknown)}")
    try:
        datasets = importlib.import_module("datasets")
    except ImportError:
        raise ImportError(
            "from_huggingface needs the optional 'datasets' package: pip install datasets "
            "(or load a JSONL file with callscale.tasks.load_jsonl)"
        ) from None
    args = (name, config) if config is not None else (name,)
    dataset = datasets.load_dataset(*args, split=split, **load_kwargs)
    prefix = id_prefix if id_prefix is not None else f"{name}/{split}"
    source = f"{name}[{split}]"
    items: list[Item] = []
    seen: set[str] = set()
    for index, row in enumerate(dataset):
        if limit is not None and index >= limit:
            break
        raw = _hf_row(row, mapping, index, prefix, source)
        try:
            record = ItemRecord.model_validate(raw)
        except ValidationError as exc:
            raise TaskDataError(f"{source} row {index}: {_describe(exc)}") from None
        if record.id in seen:
            raise TaskDataError(f"{source} row {index}: field 'id': {record.id!r} is not unique")
        seen.add(record.id)
        items.append(record.to_item())
    return tuple(items)


def _hf_row(
    row: Mapping[str, Any], mapping: Mapping[str, FieldSpec | Sequence[str]], index: int, prefix: str, source: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in mapping.items():
        try:
            if key == "metadata" and not callable(spec) and not isinstance(spec, str):
                out[key] = {column: row[column] for column in spec}
            else:
                out[key] = _get(row, spec)  # type: ignore[arg-type]
        except KeyError as exc:
            raise TaskDataError(f"{source} row {index}: field '{key}': no column {exc}") from None
    out["id"] = f"{prefix}/{out['id']}" if "id" in out else f"{prefix}/{index}"
    if out.get("choices") is not None:
        out["choices"] = [str(c) for c in out["choices"]]
        if isinstance(out["answer"], int) and not isinstance(out["answer"], bool):
            out["answer"] = LETTERS[out["answer"]] if 0 <= out["answer"] < len(LETTERS) else str(out["answer"])
    if isinstance(out.get("answer"), int | float) and not isinstance(out.get("answer"), bool):
        out["answer"] = str(out["answer"])
    return out
