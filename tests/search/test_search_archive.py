"""The SQLite archive and resuming an interrupted search from it."""

from __future__ import annotations

import collections
import sqlite3
from pathlib import Path

import pytest

from callscale.search.archive import Archive
from callscale.search.base import run_search
from callscale.search.environments.base import TrialResult
from callscale.search.environments.simulated import AgentTTSBenchmark
from callscale.search.searchers.model_based import ModelBasedAllocator
from callscale.search.searchers.random import RandomSearcher
from callscale.search.space import Config
from callscale.sqlite import DatabaseFileError
from callscale.store import Store


def test_archive_records_trials(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path) as archive:
        archive.open_search("s", space_fingerprint="fp", budget=900, searcher="random", meta={"k": 1})
        t1 = archive.begin("s", Config.of(("72B", 1), ("3B", 15)), guideline="start big")
        assert (t1.number, t1.status) == (1, "running")
        done = archive.finish("s", 1, TrialResult(score=0.7, cost=831.0, stage_scores=(0.8, 0.7)))
        assert done.done and done.score == 0.7 and done.stage_scores == (0.8, 0.7)
        assert done.guideline == "start big" and done.finished_at is not None
        t2 = archive.begin("s", Config.of(("3B", 1), ("3B", 1)))
        archive.fail("s", t2.number, "boom")
        assert archive.trial("s", 2).status == "failed" and archive.trial("s", 2).info["error"] == "boom"
        assert archive.next_number("s") == 3
        assert archive.best("s") == archive.trial("s", 1)
        archive.set_test_score("s", 1, 0.69)
        assert archive.trial("s", 1).test_score == 0.69
    # WAL mode on disk, readable by another connection
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == 2
    conn.close()


def test_archive_refuses_another_space_or_budget() -> None:
    archive = Archive()
    archive.open_search("s", space_fingerprint="a", budget=900, searcher="x")
    archive.open_search("s", space_fingerprint="a", budget=900, searcher="other")  # same: fine
    with pytest.raises(ValueError):
        archive.open_search("s", space_fingerprint="b", budget=900, searcher="x")
    with pytest.raises(ValueError):
        archive.open_search("s", space_fingerprint="a", budget=500, searcher="x")


class _Interrupting(AgentTTSBenchmark):
    """Raises KeyboardInterrupt on the ``stop_at``-th evaluation; counts evaluations per config."""

    def __init__(self, stop_at: int | None) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.evaluated: collections.Counter[str] = collections.Counter()

    def evaluate(self, config: Config) -> TrialResult:
        if self.stop_at is not None and sum(self.evaluated.values()) + 1 == self.stop_at:
            raise KeyboardInterrupt
        self.evaluated[config.key] += 1
        return super().evaluate(config)


@pytest.mark.parametrize("searcher", ["random", "model_based"])
def test_interrupted_search_resumes_from_the_archive(tmp_path: Path, searcher: str) -> None:
    path = tmp_path / "search.sqlite"

    def make(env: AgentTTSBenchmark) -> RandomSearcher | ModelBasedAllocator:
        if searcher == "random":
            return RandomSearcher(env.space, 900, seed=5)
        return ModelBasedAllocator(env.space, 900, n_init=3)

    first = _Interrupting(stop_at=6)
    with Archive(path) as archive, pytest.raises(KeyboardInterrupt):
        run_search(first, make(first), n_trials=10, archive=archive, search_id="s")
    with Archive(path) as archive:
        finished = archive.finished("s")
        pending = archive.pending("s")
        assert [t.number for t in finished] == [1, 2, 3, 4, 5]
        assert [t.number for t in pending] == [6]

    second = _Interrupting(stop_at=None)
    with Archive(path) as archive:
        result = run_search(second, make(second), n_trials=10, archive=archive, search_id="s")
    assert [t.number for t in result.trials] == list(range(1, 11))
    assert all(t.status == "finished" for t in result.trials)
    # the resumed search re-ran only the interrupted trial (6) and new ones (7..10)
    done_before = {t.config.key for t in finished}
    assert not done_before & set(second.evaluated)
    assert sum(second.evaluated.values()) == 5
    assert result.trials[5].config == pending[0].config
    assert len({t.config.key for t in result.trials}) == 10


def test_resumed_random_search_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    bench = AgentTTSBenchmark()
    straight = run_search(bench, RandomSearcher(bench.space, 850, seed=2), n_trials=8)
    archive = Archive(tmp_path / "r.sqlite")
    run_search(bench, RandomSearcher(bench.space, 850, seed=2), n_trials=4, archive=archive, search_id="r")
    resumed = run_search(bench, RandomSearcher(bench.space, 850, seed=2), n_trials=8, archive=archive, search_id="r")
    assert [t.config for t in resumed.trials] == [t.config for t in straight.trials]


def test_failed_evaluations_are_recorded_and_the_search_goes_on() -> None:
    bench = AgentTTSBenchmark()
    calls = {"n": 0}

    class Flaky(AgentTTSBenchmark):
        def evaluate(self, config: Config) -> TrialResult:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("backend down")
            return super().evaluate(config)

    result = run_search(Flaky(), RandomSearcher(bench.space, 900), n_trials=4)
    assert [t.status for t in result.trials] == ["finished", "failed", "finished", "finished"]
    assert "backend down" in result.trials[1].info["error"]


def test_an_unusable_file_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.sqlite"
    bad.write_text("not a database, just notes\n" * 10)
    with pytest.raises(DatabaseFileError, match=r"notes\.sqlite: not a usable callscale search archive"):
        Archive(bad)
    with pytest.raises(DatabaseFileError, match="is a directory"):
        Archive(tmp_path)


def test_the_archive_shares_the_store_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with Store(path):
        pass
    with Archive(path) as archive:
        archive.open_search("s", space_fingerprint="f", budget=900, searcher="grid")
    with Store(path), Archive(path) as archive:
        assert archive.searches() == ["s"]

