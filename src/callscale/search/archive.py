"""The trial archive: every proposed and evaluated configuration of every search, in SQLite.

One table of trials keyed by ``(search_id, number)`` — config JSON, score, cost, status, the
searcher's guideline text, timestamps — and one table of searches (space fingerprint, budget,
searcher name) so a search is only ever resumed on the space and budget it started with.
The connection is callscale's one SQLite class (:class:`callscale.sqlite.Database`, shared with the
completion store): WAL mode with a busy timeout, so readers (a report, a second process) do not
block a running search, and a file that cannot be used is refused in one line.

A trial is written as ``running`` before it is evaluated and becomes ``finished`` or ``failed``
after; a search interrupted mid-trial leaves a ``running`` row, which
:func:`~callscale.search.base.run_search` evaluates again under the same number on resume.

Example:
    >>> from callscale.search.space import Config
    >>> from callscale.search.environments.base import TrialResult
    >>> archive = Archive(":memory:")
    >>> archive.open_search("s1", space_fingerprint="f", budget=900, searcher="random")
    >>> t = archive.begin("s1", Config.of(("72B", 1), ("3B", 15)))
    >>> archive.finish("s1", t.number, TrialResult(score=0.5, cost=831.0)).status
    'finished'
    >>> archive.next_number("s1")
    2
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from callscale.search.environments.base import TrialResult
from callscale.search.space import Config
from callscale.sqlite import Database

RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"
STATUSES = (RUNNING, FINISHED, FAILED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    search_id TEXT PRIMARY KEY,
    space_fingerprint TEXT NOT NULL,
    budget REAL NOT NULL,
    searcher TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    search_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    score REAL,
    cost REAL,
    stage_scores TEXT NOT NULL DEFAULT '[]',
    test_score REAL,
    guideline TEXT NOT NULL DEFAULT '',
    info TEXT NOT NULL DEFAULT '{}',
    started_at REAL NOT NULL,
    finished_at REAL,
    PRIMARY KEY (search_id, number)
);
CREATE INDEX IF NOT EXISTS trials_by_config ON trials (search_id, config);
"""


@dataclass(frozen=True)
class Trial:
    """One row of the archive.

    Example:
        >>> Trial("s", 1, Config.of(("3B", 1)), "finished", score=0.4, cost=3.0).done
        True
    """

    search_id: str
    number: int
    config: Config
    status: str
    score: float | None = None
    cost: float | None = None
    stage_scores: tuple[float, ...] = ()
    test_score: float | None = None
    guideline: str = ""
    info: Mapping[str, Any] = field(default_factory=dict, hash=False)
    started_at: float = 0.0
    finished_at: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @property
    def done(self) -> bool:
        """Finished with a score."""
        return self.status == FINISHED and self.score is not None


@dataclass(frozen=True)
class SearchInfo:
    """One row of the searches table.

    Example:
        >>> a = Archive()
        >>> a.open_search("s", space_fingerprint="f", budget=900, searcher="grid")
        >>> a.search("s").searcher
        'grid'
    """

    search_id: str
    space_fingerprint: str
    budget: float
    searcher: str
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)
    created_at: float = 0.0


class Archive:
    """SQLite archive of searches and trials (a :class:`~callscale.sqlite.Database`, WAL mode).

    ``path`` is a file path or ``":memory:"``; an unusable file raises
    :class:`~callscale.sqlite.DatabaseFileError`. The object is safe to share between threads of one
    process (a lock serialises statements); several processes may open the same file.

    Example:
        >>> with Archive(":memory:") as a:
        ...     a.searches()
        []
    """

    def __init__(self, path: str | Path = ":memory:", *, timeout_s: float = 30.0) -> None:
        self.path = str(path)
        self._db = Database(self.path, schema=_SCHEMA, busy_timeout_s=timeout_s, kind="search archive")

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self._db.execute(sql, params)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- searches ------------------------------------------------------------------------------------
    def open_search(
        self,
        search_id: str,
        *,
        space_fingerprint: str,
        budget: float,
        searcher: str,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Create search ``search_id`` or check that an existing one matches space and budget.

        Raises ValueError when resuming with another space fingerprint or budget. A different
        searcher name is allowed (switching strategy mid-search is legitimate).
        """
        existing = self.search(search_id)
        if existing is None:
            self._execute(
                "INSERT INTO searches VALUES (?, ?, ?, ?, ?, ?)",
                (search_id, space_fingerprint, float(budget), searcher, json.dumps(dict(meta or {})), time.time()),
            )
            return
        if existing.space_fingerprint != space_fingerprint:
            raise ValueError(f"search {search_id!r} was run on space {existing.space_fingerprint}, not {space_fingerprint}")
        if abs(existing.budget - float(budget)) > 1e-9:
            raise ValueError(f"search {search_id!r} was run with budget {existing.budget}, not {budget}")

    def search(self, search_id: str) -> SearchInfo | None:
        """The searches-table row of ``search_id``, or None."""
        rows = self._execute("SELECT * FROM searches WHERE search_id = ?", (search_id,))
        if not rows:
            return None
        row = rows[0]
        return SearchInfo(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])

    def searches(self) -> list[str]:
        """All search ids, oldest first."""
        return [r[0] for r in self._execute("SELECT search_id FROM searches ORDER BY created_at, search_id")]

    # -- trials --------------------------------------------------------------------------------------
    def next_number(self, search_id: str) -> int:
        """The number the next new trial of ``search_id`` gets (trials are numbered from 1)."""
        rows = self._execute("SELECT MAX(number) FROM trials WHERE search_id = ?", (search_id,))
        return int(rows[0][0] or 0) + 1

    def begin(self, search_id: str, config: Config, guideline: str = "") -> Trial:
        """Record a new ``running`` trial of ``config`` and return it."""
        now = time.time()
        with self._db.transaction(immediate=True):  # so trial numbers never collide
            number = self.next_number(search_id)
            self._execute(
                "INSERT INTO trials (search_id, number, config, status, guideline, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (search_id, number, config.key, RUNNING, guideline, now),
            )
        return Trial(search_id, number, config, RUNNING, guideline=guideline, started_at=now)

    def restart(self, search_id: str, number: int) -> Trial:
        """Reset the start time of an interrupted ``running`` trial before evaluating it again."""
        self._execute(
            "UPDATE trials SET started_at = ? WHERE search_id = ? AND number = ? AND status = ?",
            (time.time(), search_id, number, RUNNING),
        )
        return self.trial(search_id, number)

    def finish(self, search_id: str, number: int, result: TrialResult) -> Trial:
        """Record ``result`` for trial ``number`` (status ``finished``)."""
        self._execute(
            "UPDATE trials SET status = ?, score = ?, cost = ?, stage_scores = ?, info = ?, finished_at = ?"
            " WHERE search_id = ? AND number = ?",
            (
                FINISHED,
                float(result.score),
                float(result.cost),
                json.dumps(list(result.stage_scores)),
                json.dumps(_jsonable(result.info)),
                time.time(),
                search_id,
                number,
            ),
        )
        return self.trial(search_id, number)

    def fail(self, search_id: str, number: int, error: str) -> Trial:
        """Record that trial ``number`` failed with ``error`` (status ``failed``)."""
        self._execute(
            "UPDATE trials SET status = ?, info = ?, finished_at = ? WHERE search_id = ? AND number = ?",
            (FAILED, json.dumps({"error": error}), time.time(), search_id, number),
        )
        return self.trial(search_id, number)

    def set_test_score(self, search_id: str, number: int, score: float) -> Trial:
        """Attach a test-split score to trial ``number``."""
        self._execute("UPDATE trials SET test_score = ? WHERE search_id = ? AND number = ?", (float(score), search_id, number))
        return self.trial(search_id, number)

    def trial(self, search_id: str, number: int) -> Trial:
        """Trial ``number`` of ``search_id`` (KeyError if absent)."""
        rows = self._execute("SELECT * FROM trials WHERE search_id = ? AND number = ?", (search_id, number))
        if not rows:
            raise KeyError(f"no trial {number} in search {search_id!r}")
        return _trial(rows[0])

    def trials(self, search_id: str, status: str | None = None) -> list[Trial]:
        """Trials of ``search_id`` in number order, optionally only those with ``status``."""
        if status is None:
            rows = self._execute("SELECT * FROM trials WHERE search_id = ? ORDER BY number", (search_id,))
        else:
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}")
            rows = self._execute("SELECT * FROM trials WHERE search_id = ? AND status = ? ORDER BY number", (search_id, status))
        return [_trial(r) for r in rows]

    def finished(self, search_id: str) -> list[Trial]:
        """Finished trials, in number order."""
        return self.trials(search_id, FINISHED)

    def pending(self, search_id: str) -> list[Trial]:
        """Trials left ``running`` (an interrupted search), in number order."""
        return self.trials(search_id, RUNNING)

    def best(self, search_id: str) -> Trial | None:
        """The finished trial with the highest score (ties: lower cost, then earlier)."""
        return best_trial(self.finished(search_id))


def best_trial(trials: list[Trial] | tuple[Trial, ...]) -> Trial | None:
    """Highest-scoring finished trial (ties: lower cost, then lower number); None if none.

    Example:
        >>> a = Trial("s", 1, Config.of(("3B", 1)), "finished", score=0.5, cost=3.0)
        >>> b = Trial("s", 2, Config.of(("3B", 2)), "finished", score=0.5, cost=4.0)
        >>> best_trial([b, a]).number
        1
    """
    done = [t for t in trials if t.done]
    if not done:
        return None
    return min(done, key=lambda t: (-(t.score or 0.0), t.cost if t.cost is not None else 0.0, t.number))


def _trial(row: tuple[Any, ...]) -> Trial:
    return Trial(
        search_id=row[0],
        number=int(row[1]),
        config=Config.from_json(row[2]),
        status=row[3],
        score=row[4],
        cost=row[5],
        stage_scores=tuple(json.loads(row[6])),
        test_score=row[7],
        guideline=row[8],
        info=json.loads(row[9]),
        started_at=row[10],
        finished_at=row[11],
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
