"""JSONL validation errors, round trips, and the optional Hugging Face loader."""

from __future__ import annotations

import gzip
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callscale.tasks import Item, TaskDataError, from_huggingface, load_jsonl, parse_jsonl, write_jsonl
from callscale.tasks.loaders import dumps_rows, item_to_row

GOOD = {"id": "a", "question": "Capital of France?", "choices": ["Rome", "Paris"], "answer": "B", "metadata": {}}


def write(tmp_path: Path, rows: list[Any], name: str = "items.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_load_good_file(tmp_path: Path) -> None:
    free = {"id": "b", "question": "2+2", "answer": "4"}
    items = load_jsonl(write(tmp_path, [GOOD, "", free]))
    assert [it.id for it in items] == ["a", "b"]
    assert items[0].choices == ("Rome", "Paris") and items[1].choices is None and items[1].metadata == {}


@pytest.mark.parametrize(
    ("bad", "field", "fragment"),
    [
        ({**GOOD, "answer": "C"}, "answer", "option letter"),
        ({k: v for k, v in GOOD.items() if k != "answer"}, "answer", "Field required"),
        ({**GOOD, "question": ""}, "question", "at least 1"),
        ({**GOOD, "id": 7}, "id", "string"),
        ({**GOOD, "choices": ["only one"], "answer": "A"}, "choices", "2 to 26"),
        ({**GOOD, "choices": "Rome, Paris"}, "choices", "list"),
        ({**GOOD, "extra": 1}, "extra", "Extra inputs"),
        ({**GOOD, "choices": None, "answer": " "}, "answer", "empty"),
        ({**GOOD, "metadata": []}, "metadata", "dict"),
    ],
)
def test_invalid_row_names_file_line_and_field(tmp_path: Path, bad: dict[str, Any], field: str, fragment: str) -> None:
    path = write(tmp_path, [GOOD | {"id": "first"}, GOOD | {"id": "second"}, bad])
    with pytest.raises(TaskDataError) as info:
        load_jsonl(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: ")
    assert f"field '{field}'" in message
    assert fragment in message


def test_bad_json_and_non_objects_and_duplicates(tmp_path: Path) -> None:
    with pytest.raises(TaskDataError, match=r"items.jsonl:2: not valid JSON"):
        load_jsonl(write(tmp_path, [GOOD, '{"id": "x", '], "items.jsonl"))
    with pytest.raises(TaskDataError, match=r":1: expected a JSON object"):
        load_jsonl(write(tmp_path, [[1, 2]]))
    with pytest.raises(TaskDataError, match=r":2: field 'id': 'a' already used on line 1"):
        load_jsonl(write(tmp_path, [GOOD, GOOD]))


def test_round_trip_plain_and_gzip(tmp_path: Path) -> None:
    items = (
        Item(id="x", question="Ünïcode?", choices=("a", "b"), answer="A", metadata={"k": [1, {"z": None}]}),
        Item(id="y", question="1+1", answer="2"),
    )
    for name in ("t.jsonl", "t.jsonl.gz"):
        path = write_jsonl(items, tmp_path / name)
        assert load_jsonl(path) == items
    assert gzip.decompress((tmp_path / "t.jsonl.gz").read_bytes()) == (tmp_path / "t.jsonl").read_bytes()
    # gzip output is reproducible (fixed mtime)
    again = write_jsonl(items, tmp_path / "u.jsonl.gz")
    assert again.read_bytes() == (tmp_path / "t.jsonl.gz").read_bytes()


def test_dumps_rows_is_canonical() -> None:
    row = item_to_row(Item(id="x", question="é", answer="1", metadata={"b": 1, "a": 2}))
    data = dumps_rows([row])
    assert data == '{"answer":"1","choices":null,"id":"x","metadata":{"a":2,"b":1},"question":"é"}\n'.encode()
    assert parse_jsonl(data.decode().splitlines())[0].metadata == {"a": 2, "b": 1}
    with pytest.raises(ValueError):
        dumps_rows([{"x": float("nan")}])


class FakeDatasets(types.ModuleType):
    """Stands in for the optional ``datasets`` package."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__("datasets")
        self.rows = rows
        self.calls: list[tuple[Any, ...]] = []

    def load_dataset(self, *args: Any, split: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append((args, split, kwargs))
        return iter(self.rows)


def test_from_huggingface_maps_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDatasets(
        [
            {"q": "Sky?", "opts": ["red", "blue"], "label": 1, "src": "s1", "uid": "u1"},
            {"q": "Grass?", "opts": ["green", "pink"], "label": 0, "src": "s2", "uid": "u2"},
        ]
    )
    monkeypatch.setitem(sys.modules, "datasets", fake)
    items = from_huggingface(
        "org/colours",
        "test",
        {"id": "uid", "question": "q", "choices": "opts", "answer": "label", "metadata": ["src"]},
        config="main",
        revision="abc",
    )
    assert fake.calls == [(("org/colours", "main"), "test", {"revision": "abc"})]
    assert [it.id for it in items] == ["org/colours/test/u1", "org/colours/test/u2"]
    assert items[0].answer == "B" and items[1].answer == "A" and items[0].metadata == {"src": "s1"}

    numbers = FakeDatasets([{"question": "1+1", "answer": "x #### 2"}, {"question": "2+2", "answer": "#### 4"}])
    monkeypatch.setitem(sys.modules, "datasets", numbers)
    items = from_huggingface(
        "gsm", "test", {"question": "question", "answer": lambda r: r["answer"].split("####")[-1].strip()}, limit=1
    )
    assert [(it.id, it.answer) for it in items] == [("gsm/test/0", "2")]


def test_from_huggingface_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", FakeDatasets([{"question": "q", "answer": ""}]))
    with pytest.raises(TaskDataError, match=r"d\[test\] row 0: field 'answer'"):
        from_huggingface("d", "test", {"question": "question", "answer": "answer"})
    with pytest.raises(TaskDataError, match=r"row 0: field 'question': no column 'missing'"):
        from_huggingface("d", "test", {"question": "missing", "answer": "answer"})
    with pytest.raises(ValueError, match="needs"):
        from_huggingface("d", "test", {"question": "q"})
    with pytest.raises(ValueError, match="unknown"):
        from_huggingface("d", "test", {"question": "q", "answer": "a", "passage": "p"})


def test_from_huggingface_without_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(ImportError, match="pip install datasets"):
        from_huggingface("d", "test", {"question": "q", "answer": "a"})
