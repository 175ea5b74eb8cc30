"""Export: completions (of one run, or all), runs and per-item outcomes, as JSONL, CSV and Parquet,
and data frames; a bad request is one line, exit 2."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.store import Store

runner = CliRunner()


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    path = tmp_path / "s.sqlite"
    for limit, k in ((4, 3), (6, 2)):
        result = runner.invoke(app, ["run", "--task", "arithmetic", "--backend", "simulated", "--limit", str(limit),
                                     "--k", str(k), "--store", str(path)])
        assert result.exit_code == 0, result.stderr
    return path


def _export(store: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["export", *args, "--store", str(store)])
    return result.exit_code, result.stdout, result.stderr


def test_completions_runs_and_outcomes_as_jsonl_and_csv(store: Path) -> None:
    code, out, _ = _export(store, "completions")
    rows = [json.loads(line) for line in out.splitlines()]
    with Store(store) as db:
        assert len(rows) == db.count() == 4 * 3 + 2 * 2  # run 2's first 4 items reuse run 1's pools
    assert {"pool", "backend", "model", "index", "text", "prompt", "temperature"} <= set(rows[0])
    code, out, _ = _export(store, "completions", "--run", "2", "--format", "csv")
    second = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(second) == 6 * 2 and all(int(r["index"]) < 2 for r in second)
    code, out, _ = _export(store, "runs", "--format", "csv")
    runs = list(csv.DictReader(io.StringIO(out)))
    assert [r["status"] for r in runs] == ["finished", "finished"] and runs[0]["items"] == "4"
    code, out, _ = _export(store, "outcomes", "--run", "1")
    outcomes = [json.loads(line) for line in out.splitlines()]
    assert len(outcomes) == 4 and all(o["run"] == 1 and 0.0 <= o["score"] <= 1.0 for o in outcomes)
    run_json = json.loads(runner.invoke(app, ["run", "--task", "arithmetic", "--backend", "simulated", "--limit", "4",
                                              "--k", "3", "--store", str(store), "--json"]).stdout)
    assert sorted(o["item"] for o in outcomes) == sorted(o["item_id"] for o in run_json["outcomes"])


def test_parquet_reads_back_in_pandas(store: Path, tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "c.parquet"
    code, _, err = _export(store, "completions", "--format", "parquet", "--out", str(out))
    assert code == 0 and "16 completions rows" in err
    frame = pandas.read_parquet(out)
    assert len(frame) == 16 and set(frame["model"]) == {"smollm2-135m-instruct"}
    assert str(frame["prompt_tokens"].dtype) == "int64"


def test_bad_exports_are_one_line(store: Path, tmp_path: Path) -> None:
    for args, words in ((["tables"], "unknown table 'tables'"), (["runs", "--run", "9"], "no run 9"),
                        (["runs", "--format", "xml"], "unknown format 'xml'"),
                        (["runs", "--format", "parquet"], "parquet needs a file")):
        code, _, err = _export(store, *args)
        assert code == 2 and err.count("\n") == 1 and words in err, (args, err)
    code, _, err = _export(tmp_path / "none.sqlite", "runs")
    assert code == 2 and "no store at" in err


def test_a_run_result_as_a_data_frame(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    import asyncio

    import callscale as cs

    task = cs.load_task("arithmetic", limit=5)

    async def go() -> object:
        async with cs.open_backend("simulated", responder=lambda: cs.simulated_world(task)) as backend:
            return await cs.run_network(cs.builtin_network("vote", "m", k=3), task, cs.Engine(backend))

    frame = asyncio.run(go()).to_pandas()  # type: ignore[attr-defined]
    assert list(frame.columns) == ["item", "answer", "score", "gold"] and len(frame) == 5
