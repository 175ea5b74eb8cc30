"""Every paid completion is kept: odd text is stored losslessly, one bad row never drops the others,
and a store that cannot be written keeps its queue and says so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from status_server import chat_reply, serving
from typer.testing import CliRunner

from callscale.backends.simulated import SimulatedBackend
from callscale.cli import app
from callscale.engine import MAX_SAMPLES, Engine
from callscale.records import Completion, Request, Usage
from callscale.store import Store, StoreError

ODD = ["lone \udc80 surrogate, answer: 6", "nul \x00 inside, answer: 7", "rtl \u200f\u202e marks, answer: 8",
       "", "x" * 1_000_000]


def test_odd_texts_round_trip_through_the_store(tmp_path: Path) -> None:
    r = Request.chat("m", "q")
    with Store(tmp_path / "s.sqlite") as store:
        store.add("b", r, [Completion(t, i, Usage(1, 1)) for i, t in enumerate(ODD)])
        assert [c.text for c in store.pool(r.key("b"), 9)] == ODD  # pending
    with Store(tmp_path / "s.sqlite") as again:
        assert [c.text for c in again.pool(r.key("b"), 9)] == ODD  # committed, read back
        assert [s.completion.text for s in again.samples()] == ODD
        out = tmp_path / "export.jsonl"
        again.export_jsonl(out)
    from callscale.store import read_jsonl

    assert [s.completion.text for s in read_jsonl(out)] == ODD


def test_one_unwritable_row_is_a_failure_and_the_others_are_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    r = Request.chat("m", "q")
    good = [Completion(f"answer {i}", i, Usage(1, 1)) for i in range(5)]
    bad = Completion("odd", 5, Usage(1, 1), finish_reason=["not", "bindable"])  # type: ignore[arg-type]
    store.add("b", r, [*good[:3], bad, *good[3:]])
    store.flush()
    assert [c.text for c in store.pool(r.key("b"), 9)] == [c.text for c in good]
    assert [(i, reason.startswith("could not store the reply")) for _, i, reason in store.rejected] == [(5, True)]
    assert [(f[1], "could not store" in f[2]) for f in store.failures()] == [(5, True)]
    store.close()


def test_a_store_that_refuses_the_write_keeps_the_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "s.sqlite")
    r = Request.chat("m", "q")
    store.add("b", r, [Completion("kept", 0, Usage(1, 1))])

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_write", disk_full)
    with pytest.raises(StoreError, match=r"s\.sqlite: cannot write to the store \(database or disk is full\)"):
        store.flush()
    assert store.dirty and [c.text for c in store.pool(r.key("b"), 1)] == ["kept"]
    monkeypatch.undo()
    store.close()
    assert Store(tmp_path / "s.sqlite").count() == 1


async def test_an_engine_stops_when_its_store_cannot_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "s.sqlite")
    engine = Engine(SimulatedBackend.constant({"A": 1.0}), store=store)

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_write", disk_full)
    await engine.complete(Request.chat("m", "q1"), 2)
    with pytest.raises(StoreError, match="disk is full"):
        for i in range(50):  # the failed flush surfaces in a following ask, never only in a log
            await engine.complete(Request.chat("m", f"q{i + 2}"), 2)
            await __import__("asyncio").sleep(0)
    monkeypatch.undo()
    store.close()
    assert Store(tmp_path / "s.sqlite").count() >= 2  # the queued samples were written at close


def test_surrogate_replies_over_http_are_all_stored_and_never_paid_twice(tmp_path: Path) -> None:
    """5 % of the replies hold a lone surrogate (valid JSON): all 200 completions are stored, the run
    reports no failure, and a second run pays for nothing."""

    def reply(n: int, body: dict[str, object]) -> tuple[int, bytes]:
        text = "lone \udc80 surrogate, answer: 6" if n % 20 == 7 else f"answer: {n % 10}"
        return 200, chat_reply(text)

    store = tmp_path / "s.sqlite"
    args = ["run", "--task", "arithmetic", "--k", "5", "--limit", "40", "--backend", "openai", "--model", "m",
            "--store", str(store), "--json"]
    with serving(reply) as server:
        first = CliRunner().invoke(app, [*args, "--base-url", server.base_url])
        assert first.exit_code == 0, first.stderr
        summary = json.loads(first.stdout)
        assert summary["calls_made"] == 200 and summary["failures"] == 0 and server.requests == 200
        second = CliRunner().invoke(app, [*args, "--base-url", server.base_url])
        assert second.exit_code == 0 and json.loads(second.stdout)["calls_made"] == 0 and server.requests == 200
    with Store(store) as db:
        assert db.count() == 200 and db.failures() == []
        assert sum("\udc80" in s.completion.text for s in db.samples()) == 10


async def test_k_beyond_the_bound_is_refused_before_any_planning() -> None:
    engine = Engine(SimulatedBackend.constant({"A": 1.0}))
    for k in (0, MAX_SAMPLES + 1, 1_000_000_000, 2.5, True):
        with pytest.raises(ValueError, match=f"k must be an integer from 1 to {MAX_SAMPLES:,}"):
            await engine.complete(Request.chat("m", "q"), k)  # type: ignore[arg-type]
    assert engine.stats.requests == 0


async def test_a_large_pool_is_filled_by_a_few_workers() -> None:
    """Missing samples are called for by at most ``concurrency`` workers: no task per sample."""
    import asyncio

    class Slow(SimulatedBackend):
        peak = 0
        live = 0

        async def generate(self, batch):  # type: ignore[no-untyped-def]
            Slow.live += 1
            Slow.peak = max(Slow.peak, Slow.live)
            try:
                await asyncio.sleep(0)
                return await super().generate(batch)
            finally:
                Slow.live -= 1

    backend = Slow.constant({"A": 1.0})
    engine = Engine(backend, concurrency=3)
    tasks_before = len(asyncio.all_tasks())
    got = await engine.complete(Request.chat("m", "q"), 5000)
    assert [c.index for c in got] == list(range(5000)) and Slow.peak <= 3
    assert len(asyncio.all_tasks()) == tasks_before
