"""SQLite store: every completion keyed by (pool key, sample index), failures, and runs.

WAL journal with ``synchronous=NORMAL``; writes are grouped (the engine flushes once per event-loop
turn), so a burst of cheap simulated calls costs one commit while a slow real call is committed the
moment it returns — a run killed with SIGKILL loses nothing it paid for.

Example:
    >>> store = Store(":memory:")
    >>> store.pool("k" * 64, 3)
    []
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from callscale.records import Completion, Request, TokenLogprob, Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    identity TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS completions (
    key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL,
    logprobs TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (key, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS failures (
    key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    config TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    summary TEXT
);
"""

WAL_CHECKPOINT_PAGES = 10_000  # ~40 MB of WAL at 4 KiB pages before SQLite copies it into the database
_ROWS_PER_INSERT = 100  # 9 columns × 100 rows stays under SQLite's oldest limit of 999 variables


@dataclass(frozen=True)
class StoredSample:
    """A completion as stored, with the identity of its pool (for export and replay)."""

    backend: str
    request: Request
    completion: Completion


def _logprobs_json(logprobs: tuple[TokenLogprob, ...] | None) -> str | None:
    if logprobs is None:
        return None
    return json.dumps([[t.token, t.logprob, [list(a) for a in t.top]] for t in logprobs], separators=(",", ":"))


def _logprobs_from(raw: str | None) -> tuple[TokenLogprob, ...] | None:
    if raw is None:
        return None
    return tuple(TokenLogprob(tok, lp, tuple((a, b) for a, b in top)) for tok, lp, top in json.loads(raw))


def _completion(row: tuple[Any, ...], cached: bool = True) -> Completion:
    idx, text, finish, pt, ct, latency, logprobs = row
    return Completion(
        text=text,
        index=idx,
        usage=Usage(pt, ct),
        finish_reason=finish,
        latency_s=latency,
        logprobs=_logprobs_from(logprobs),
        cached=cached,
    )


class Store:
    """The completion store. Thread-compatible (one lock), meant for one process at a time per file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # A commit of many new pools dirties a page per pool (keys are hashes); with SQLite's default
            # of a checkpoint every 1,000 WAL pages, a growing store checkpoints on nearly every commit.
            self._db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path}: not a usable callscale store ({exc})") from None
        self._lock = threading.Lock()
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._pending_requests: dict[str, tuple[str, str, str, str]] = {}
        self._pending_failures: list[tuple[Any, ...]] = []
        self._known_requests: set[str] = set()

    # -- reading -----------------------------------------------------------------------------
    def pool(self, key: str, k: int) -> list[Completion]:
        """Stored samples ``0 … k−1`` of pool ``key`` that exist, in index order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT idx, text, finish_reason, prompt_tokens, completion_tokens, latency_s, logprobs "
                "FROM completions WHERE key = ? AND idx < ? ORDER BY idx",
                (key, k),
            ).fetchall()
            pending = [row[1:8] for row in self._pending.get(key, ()) if row[1] < k]
        if pending:
            seen = {r[0] for r in rows}
            rows = sorted(rows + [r for r in pending if r[0] not in seen])
        return [_completion(r) for r in rows]

    def count(self, key: str | None = None) -> int:
        """Number of stored completions (in one pool, or in all)."""
        with self._lock:
            if key is None:
                return int(self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])
            return int(self._db.execute("SELECT COUNT(*) FROM completions WHERE key = ?", (key,)).fetchone()[0])

    def failures(self) -> list[tuple[str, int, str, int]]:
        """(key, index, error, attempts) of every recorded failed call."""
        with self._lock:
            rows = self._db.execute("SELECT key, idx, error, attempts FROM failures ORDER BY rowid").fetchall()
        return [tuple(r) for r in rows]

    def samples(self, backend: str | None = None) -> Iterator[StoredSample]:
        """Every stored completion with its request, ordered by pool and index."""
        sql = (
            "SELECT r.backend, r.identity, c.idx, c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens, "
            "c.latency_s, c.logprobs FROM completions c JOIN requests r ON r.key = c.key"
        )
        args: tuple[Any, ...] = ()
        if backend is not None:
            sql += " WHERE r.backend = ?"
            args = (backend,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY c.key, c.idx", args).fetchall()
        for row in rows:
            yield StoredSample(row[0], Request.from_identity(json.loads(row[1])), _completion(row[2:]))

    # -- writing -----------------------------------------------------------------------------
    def pools(self, keys: Iterable[str], k: int) -> dict[str, list[Completion]]:
        """Stored samples ``0 … k−1`` of many pools at once (absent pools are left out)."""
        out: dict[str, list[Completion]] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                rows = self._db.execute(
                    "SELECT key, idx, text, finish_reason, prompt_tokens, completion_tokens, latency_s, logprobs "
                    f"FROM completions WHERE idx < ? AND key IN ({','.join('?' * len(chunk))}) ORDER BY key, idx",
                    (k, *chunk),
                ).fetchall()
                for row in rows:
                    out.setdefault(row[0], []).append(_completion(row[1:]))
        for key in unique if self._pending else ():
            for row in self._pending.get(key, ()):
                if row[1] < k:
                    have = out.setdefault(key, [])
                    if all(c.index != row[1] for c in have):
                        have.append(_completion(row[1:8]))
                        have.sort(key=lambda c: c.index)
        return out

    def add(self, backend: str, request: Request, completions: Iterable[Completion], key: str | None = None) -> None:
        """Queue completions for the next :meth:`flush` (failed ones are skipped: see :meth:`add_failure`).

        ``key`` is ``request.key(backend)``, for a caller that has it already."""
        if key is None:
            key = request.key(backend)
        if key not in self._known_requests and key not in self._pending_requests:
            self._pending_requests[key] = (key, backend, request.model, request.identity_json)
        now = time.time()
        rows = self._pending.get(key)
        for c in completions:
            if c.error is not None:
                continue
            if rows is None:
                rows = self._pending[key] = []
            usage = c.usage
            rows.append((key, c.index, c.text, c.finish_reason, usage.prompt_tokens, usage.completion_tokens,
                         c.latency_s, None if c.logprobs is None else _logprobs_json(c.logprobs), now))

    def add_failure(self, key: str, index: int, error: str, attempts: int) -> None:
        """Queue a record of a call that failed for good."""
        self._pending_failures.append((key, index, error, attempts, time.time()))

    @property
    def dirty(self) -> bool:
        return bool(self._pending or self._pending_requests or self._pending_failures)

    def flush(self) -> None:
        """Commit everything queued, in one transaction."""
        if not self.dirty:
            return
        with self._lock:
            requests, self._pending_requests = self._pending_requests, {}
            pending, self._pending = self._pending, {}
            # In key order: B-tree inserts in order touch fewer pages than random hex keys do.
            rows = [row for key in sorted(pending) for row in pending[key]]
            failures, self._pending_failures = self._pending_failures, []
            self._db.execute("BEGIN")
            try:
                self._insert("requests", [requests[k] for k in sorted(requests)])
                self._insert("completions", rows)
                self._db.executemany("INSERT INTO failures VALUES (?, ?, ?, ?, ?)", failures)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._known_requests.update(requests)

    def _insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        """INSERT OR IGNORE ``rows``, _ROWS_PER_INSERT to a statement: binding one multi-row statement
        costs ~40 % less per row than stepping a one-row statement per row (executemany)."""
        if not rows:
            return
        values = "(" + ",".join("?" * len(rows[0])) + ")"
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]  # full chunks share one text, so one prepared statement
            self._db.execute(f"INSERT OR IGNORE INTO {table} VALUES " + ",".join([values] * len(chunk)),
                             list(chain.from_iterable(chunk)))

    # -- runs --------------------------------------------------------------------------------
    def start_run(self, command: str, config: Mapping[str, Any]) -> int:
        """Record the start of a run; returns its id."""
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO runs (command, config, started) VALUES (?, ?, ?)",
                (command, json.dumps(config, sort_keys=True, default=str), time.time()),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, summary: Mapping[str, Any]) -> None:
        """Record a run's end and its summary."""
        with self._lock:
            self._db.execute(
                "UPDATE runs SET finished = ?, summary = ? WHERE id = ?",
                (time.time(), json.dumps(summary, sort_keys=True, default=str), run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT id, command, config, started, finished, summary FROM runs ORDER BY id")
            return [
                {"id": r[0], "command": r[1], "config": json.loads(r[2]), "started": r[3], "finished": r[4],
                 "summary": json.loads(r[5]) if r[5] else None}
                for r in rows.fetchall()
            ]

    # -- export ------------------------------------------------------------------------------
    def export_jsonl(self, path: str | Path, backend: str | None = None) -> int:
        """Write every stored completion as JSON lines (gzip if ``path`` ends in .gz); returns the count."""
        opener = gzip.open if str(path).endswith(".gz") else open
        n = 0
        with opener(path, "wt", encoding="utf-8") as out:
            for s in self.samples(backend):
                out.write(json.dumps(sample_record(s), sort_keys=True, separators=(",", ":")) + "\n")
                n += 1
        return n

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sample_record(sample: StoredSample) -> dict[str, Any]:
    """The JSONL record of one stored sample (the replay format)."""
    c = sample.completion
    record: dict[str, Any] = {
        "backend": sample.backend,
        "request": sample.request.identity(),
        "index": c.index,
        "text": c.text,
        "finish_reason": c.finish_reason,
        "prompt_tokens": c.usage.prompt_tokens,
        "completion_tokens": c.usage.completion_tokens,
        "latency_s": round(c.latency_s, 4),
    }
    if c.logprobs is not None:
        record["logprobs"] = json.loads(_logprobs_json(c.logprobs) or "null")
    return record


def read_jsonl(path: str | Path) -> Iterator[StoredSample]:
    """Read samples written by :meth:`Store.export_jsonl`; a bad line names file and line."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                yield StoredSample(
                    r["backend"],
                    Request.from_identity(r["request"]),
                    Completion(
                        text=r["text"],
                        index=int(r["index"]),
                        usage=Usage(int(r.get("prompt_tokens", 0)), int(r.get("completion_tokens", 0))),
                        finish_reason=r.get("finish_reason", "stop"),
                        latency_s=float(r.get("latency_s", 0.0)),
                        logprobs=_logprobs_from(json.dumps(r["logprobs"])) if r.get("logprobs") else None,
                    ),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a replay record ({type(exc).__name__}: {exc})") from None
