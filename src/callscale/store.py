"""SQLite store: every completion keyed by (pool key, sample index), failures, and runs.

WAL journal with ``synchronous=NORMAL``; writes are grouped (the engine flushes once per event-loop
turn), so a burst of cheap simulated calls costs one commit while a slow real call is committed the
moment it returns — a run killed with SIGKILL loses nothing it paid for.

Every reply is stored losslessly: text that is not valid UTF-8 (a lone surrogate decoded from a
JSON escape) is kept as its ``surrogatepass`` bytes and read back as the same string. One row that
still cannot be written never takes the others with it: the batch is written again row by row and
the bad row is recorded as a failure with its reason (:attr:`Store.rejected`). A file that is not a
usable store (not a database, read-only, corrupt, a directory) is refused in one line by
:class:`StoreError` when the store is opened, before anything is called or written.

Example:
    >>> store = Store(":memory:")
    >>> store.pool("k" * 64, 3)
    []
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from callscale.records import Completion, Request, TokenLogprob, Usage
from callscale.redaction import redact
from callscale.sqlite import Database, DatabaseFileError, check_path, reason

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
    summary TEXT,
    status TEXT
);
CREATE TABLE IF NOT EXISTS outcomes (
    run INTEGER NOT NULL,
    item TEXT NOT NULL,
    answer TEXT,
    score REAL NOT NULL,
    gold TEXT NOT NULL,
    PRIMARY KEY (run, item)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
    key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    owner TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (key, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_pools (
    run INTEGER NOT NULL,
    key TEXT NOT NULL,
    k INTEGER NOT NULL,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
"""
RUN_STATUSES = ("running", "finished", "interrupted", "failed")
EXPORT_TABLES = ("completions", "runs", "outcomes")
QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024  # a full page check on open costs ~1 s per 200 MB; bigger files skip it

WAL_CHECKPOINT_PAGES = 10_000  # ~40 MB of WAL at 4 KiB pages before SQLite copies it into the database
# What one row's values can raise (a value SQLite cannot bind or encode); anything else is the database's.
_ROW_ERRORS = (sqlite3.DataError, sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError, ValueError,
               OverflowError, TypeError)
KNOWN_REQUESTS_MAX = 100_000  # request keys remembered as written (INSERT OR IGNORE makes forgetting safe)
_ROWS_PER_INSERT = 100  # 9 columns × 100 rows stays under SQLite's oldest limit of 999 variables


@dataclass(frozen=True)
class StoredSample:
    """A completion as stored, with the identity of its pool (for export and replay)."""

    backend: str
    request: Request
    completion: Completion


class StoreError(DatabaseFileError):
    """The store file cannot be used (one line naming the path and what is wrong)."""


class SharedStoreWarning(UserWarning):
    """Another process (or another Store in this one) writes to the same file."""


def storable_text(text: str) -> str | bytes:
    """``text`` as SQLite can keep it: itself, or its ``surrogatepass`` UTF-8 bytes when it holds a
    lone surrogate (read back by :func:`loaded_text` as the same string).

    Example:
        >>> loaded_text(storable_text("a \\udc80 b")) == "a \\udc80 b", storable_text("plain")
        (True, 'plain')
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
    return text


def loaded_text(value: str | bytes) -> str:
    """The string stored by :func:`storable_text`."""
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else value


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
        text=loaded_text(text),
        index=idx,
        usage=Usage(pt, ct),
        finish_reason=finish,
        latency_s=latency,
        logprobs=_logprobs_from(logprobs),
        cached=cached,
    )


class Store:
    """The completion store. Thread-compatible (one lock); one writing process per file is expected,
    and a second writer is detected (:attr:`shared`, a :class:`SharedStoreWarning`).

    ``readonly=True`` opens an existing store for reading only (replay), without the writer's lock.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = str(path)
        self.readonly = readonly
        self.shared = False
        self.rejected: list[tuple[str, int, str]] = []  # (key, index, reason) of paid rows that could not be written
        self._lock_fd: int | None = None
        self._db = self._open()
        self._lock = self._database.lock
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._pending_requests: dict[str, tuple[str, str, str, str]] = {}
        self._pending_failures: list[tuple[Any, ...]] = []
        self._known_requests: set[str] = set()
        # This store's name on the claims it takes: host and process, so a claim whose process died on
        # this host is taken over at once instead of waiting for its lease to expire.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._claimed: set[tuple[str, int]] = set()  # (key, index) claimed here and not yet written

    def _open(self) -> sqlite3.Connection:
        """Connect, create the schema (or migrate an older one); :class:`StoreError` for an unusable file."""
        try:
            self._database = Database(self.path, schema="" if self.readonly else SCHEMA, readonly=self.readonly,
                                      wal_autocheckpoint=None if self.readonly else WAL_CHECKPOINT_PAGES,
                                      migrate=None if self.readonly else _migrate)
        except DatabaseFileError as exc:
            raise StoreError(str(exc)) from None
        if self.path != ":memory:" and not self.readonly:
            self._take_writer_lock()
        return self._database.conn

    def _take_writer_lock(self) -> None:
        """Hold an advisory lock on the file while open; a second writer finds it taken and warns."""
        import warnings

        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.shared = True
            warnings.warn(f"{self.path}: another writer (a process, or a second Store in this one) has this store "
                          "open; engines share its samples through claims, so none is paid twice",
                          SharedStoreWarning, stacklevel=3)
        self._lock_fd = fd

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

    def claim(self, key: str, indices: Sequence[int], lease_s: float) -> tuple[list[int], list[int]]:
        """Claim samples of pool ``key`` before calling for them, so no other process (or Ray worker)
        pays for them too: returns (claimed now by this store, held by another live owner). Samples
        already stored are neither; an expired lease is taken over. A claim ends when its sample (or
        its failure) is written, or when this store closes.

        Example:
            >>> store = Store(":memory:")
            >>> store.claim("k" * 64, [0, 1], lease_s=60)
            ([0, 1], [])
        """
        if not indices:
            return [], []
        now = time.time()
        marks = ",".join("?" * len(indices))
        with self._database.transaction(immediate=True) as conn:
            stored = {r[0] for r in conn.execute(f"SELECT idx FROM completions WHERE key = ? AND idx IN ({marks})",
                                                  (key, *indices))}
            held = {r[0]: (r[1], r[2]) for r in conn.execute(
                f"SELECT idx, owner, expires FROM claims WHERE key = ? AND idx IN ({marks})", (key, *indices))}
            mine: list[int] = []
            others: list[int] = []
            for i in indices:
                if i in stored:
                    continue
                owner, expires = held.get(i, (self.owner, 0.0))
                live = owner != self.owner and expires > now and _owner_alive(owner)
                (others if live else mine).append(i)
            conn.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)",
                             [(key, i, self.owner, now + lease_s) for i in mine])
        self._claimed.update((key, i) for i in mine)
        return mine, others

    def renew_claims(self, lease_s: float) -> int:
        """Extend every claim this store holds by ``lease_s`` from now; returns how many it holds."""
        if not self._claimed:
            return 0
        with self._database.transaction() as conn:
            conn.execute("UPDATE claims SET expires = ? WHERE owner = ?", (time.time() + lease_s, self.owner))
        return len(self._claimed)

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
            rows.append((key, c.index, storable_text(c.text), c.finish_reason, usage.prompt_tokens, usage.completion_tokens,
                         c.latency_s, None if c.logprobs is None else _logprobs_json(c.logprobs), now))

    def add_failure(self, key: str, index: int, error: str, attempts: int) -> None:
        """Queue a record of a call that failed for good."""
        self._pending_failures.append((key, index, _safe(redact(error)), attempts, time.time()))

    @property
    def dirty(self) -> bool:
        return bool(self._pending or self._pending_requests or self._pending_failures)

    def flush(self) -> None:
        """Commit everything queued, in one transaction.

        A row SQLite refuses is recorded as a failure (:attr:`rejected`) while the others are kept; a
        database that refuses the whole write (read-only, disk full) keeps the queue for the next flush
        and raises :class:`StoreError`.
        """
        if not self.dirty:
            return
        with self._lock:
            requests, self._pending_requests = self._pending_requests, {}
            pending, self._pending = self._pending, {}
            failures, self._pending_failures = self._pending_failures, []
            # In key order: B-tree inserts in order touch fewer pages than random hex keys do.
            rows = [row for key in sorted(pending) for row in pending[key]]
            try:
                try:
                    self._write(requests, rows, failures)
                except _ROW_ERRORS:
                    self._write_each(requests, rows, failures)
            except sqlite3.DatabaseError as exc:
                self._requeue(requests, pending, failures)
                raise StoreError(f"{self.path}: cannot write to the store ({reason(exc)})") from None
            except BaseException:
                self._requeue(requests, pending, failures)
                raise
            if len(self._known_requests) + len(requests) > KNOWN_REQUESTS_MAX:
                self._known_requests.clear()  # memory stays bounded; a request row written again is ignored
            self._known_requests.update(requests)

    def _write(self, requests: dict[str, tuple[str, str, str, str]], rows: list[tuple[Any, ...]],
               failures: list[tuple[Any, ...]]) -> None:
        self._db.execute("BEGIN")
        try:
            self._insert("requests", [requests[k] for k in sorted(requests)])
            self._insert("completions", rows)
            self._db.executemany("INSERT INTO failures VALUES (?, ?, ?, ?, ?)", failures)
            self._release(rows, failures)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _write_each(self, requests: dict[str, tuple[str, str, str, str]], rows: list[tuple[Any, ...]],
                    failures: list[tuple[Any, ...]]) -> None:
        """The slow path: one statement per row, so a row that cannot be written is the only one lost."""
        refused: list[tuple[Any, ...]] = []
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT OR IGNORE INTO requests VALUES (?, ?, ?, ?)", [requests[k] for k in sorted(requests)])
            for row in rows:
                try:
                    self._db.execute("INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                except _ROW_ERRORS as exc:
                    reason = f"could not store the reply ({type(exc).__name__}: {exc})"
                    self.rejected.append((row[0], row[1], reason))
                    refused.append((row[0], row[1], reason[:500], 1, time.time()))
            for row in [*failures, *refused]:
                self._db.execute("INSERT INTO failures VALUES (?, ?, ?, ?, ?)", (*row[:2], _safe(row[2]), *row[3:]))
            self._release(rows, failures)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _release(self, rows: list[tuple[Any, ...]], failures: list[tuple[Any, ...]]) -> None:
        """End the claims on samples written now (in the transaction that writes them)."""
        if not self._claimed:
            return
        done = [(r[0], r[1]) for r in (*rows, *failures) if (r[0], r[1]) in self._claimed]
        if done:
            self._db.executemany("DELETE FROM claims WHERE key = ? AND idx = ? AND owner = ?",
                                 [(k, i, self.owner) for k, i in done])
            self._claimed.difference_update(done)

    def _requeue(self, requests: dict[str, tuple[str, str, str, str]], pending: dict[str, list[tuple[Any, ...]]],
                 failures: list[tuple[Any, ...]]) -> None:
        """Put a batch that could not be committed back in front of the queue."""
        self._pending_requests = {**requests, **self._pending_requests}
        for key, rows in self._pending.items():
            pending.setdefault(key, []).extend(rows)
        self._pending = pending
        self._pending_failures = [*failures, *self._pending_failures]

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
        """Record the start of a run (status ``running``); returns its id."""
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO runs (command, config, started, status) VALUES (?, ?, ?, 'running')",
                (command, json.dumps(config, sort_keys=True, default=str), time.time()),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, summary: Mapping[str, Any], status: str = "finished") -> None:
        """Record a run's end, its summary and how it ended (one of :data:`RUN_STATUSES`)."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}; choose one of {', '.join(RUN_STATUSES)}")
        with self._lock:
            self._db.execute(
                "UPDATE runs SET finished = ?, summary = ?, status = ? WHERE id = ?",
                (time.time(), json.dumps(summary, sort_keys=True, default=str), status, run_id),
            )

    @contextlib.contextmanager
    def recording(self, command: str, config: Mapping[str, Any]) -> Iterator[RunRecord]:
        """A run row for the block: ``finished`` with :attr:`RunRecord.summary` when it ends normally,
        ``interrupted`` on Ctrl-C / SIGTERM / cancellation, ``failed`` on any other exception.

        Example:
            >>> store = Store(":memory:")
            >>> with store.recording("demo", {}) as run:
            ...     run.summary["calls"] = 3
            >>> store.runs()[-1]["status"], store.runs()[-1]["summary"]
            ('finished', {'calls': 3})
        """
        record = RunRecord(self.start_run(command, config))
        try:
            yield record
        except (KeyboardInterrupt, SystemExit, GeneratorExit, _cancelled()):
            self._end_quietly(record, "interrupted")
            raise
        except BaseException as exc:
            self._end_quietly(record, record.status if record.status != "finished" else "failed", exc)
            raise
        self.finish_run(record.id, record.summary, record.status)

    def _end_quietly(self, record: RunRecord, status: str, exc: BaseException | None = None) -> None:
        summary = dict(record.summary)
        if exc is not None and str(exc):
            summary.setdefault("error", _safe(" ".join(str(exc).split()))[:500])
        with contextlib.suppress(sqlite3.Error, StoreError):
            self.flush()
        with contextlib.suppress(sqlite3.Error):
            self.finish_run(record.id, summary, status)

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT id, command, config, started, finished, summary, status FROM runs ORDER BY id")
            return [
                {"id": r[0], "command": r[1], "config": json.loads(r[2]), "started": r[3], "finished": r[4],
                 "summary": json.loads(r[5]) if r[5] else None,
                 "status": r[6] or ("finished" if r[4] is not None else "running")}
                for r in rows.fetchall()
            ]

    def add_outcomes(self, run_id: int, outcomes: Iterable[tuple[str, str | None, float, str]]) -> None:
        """Record a run's per-item outcomes: (item id, decided answer or None, score, gold)."""
        rows = [(run_id, item, None if answer is None else _safe(answer), float(score), _safe(gold))
                for item, answer, score, gold in outcomes]
        with self._database.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?)", rows)

    def link_pools(self, run_id: int, keys: Mapping[str, int]) -> None:
        """Record which pools a run read or filled and how many samples of each (its completions)."""
        with self._database.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO run_pools VALUES (?, ?, ?)", [(run_id, key, k) for key, k in keys.items()])

    def table_rows(self, table: str, run: int | None = None) -> Iterator[dict[str, Any]]:
        """Flat rows of ``completions`` (with their pool's backend, model and sampling), ``runs`` or
        ``outcomes``, optionally of one run only — for export and data frames.

        Example:
            >>> store = Store(":memory:")
            >>> with store.recording("demo", {"task": "t"}) as run:
            ...     run.summary["accuracy"] = 0.5
            >>> [(r["command"], r["status"], r["accuracy"]) for r in store.table_rows("runs")]
            [('demo', 'finished', 0.5)]
        """
        if table not in EXPORT_TABLES:
            raise ValueError(f"unknown table {table!r}; choose one of {', '.join(EXPORT_TABLES)}")
        self.flush()
        yield from getattr(self, f"_{table}_rows")(run)

    def _runs_rows(self, run: int | None) -> Iterator[dict[str, Any]]:
        for r in self.runs():
            if run is None or r["id"] == run:
                summary = {k: v for k, v in (r["summary"] or {}).items() if not isinstance(v, dict | list)}
                yield {"run": r["id"], "command": r["command"], "status": r["status"], "started": r["started"],
                       "finished": r["finished"], "config": json.dumps(r["config"], sort_keys=True), **summary}

    def _outcomes_rows(self, run: int | None) -> Iterator[dict[str, Any]]:
        sql = "SELECT run, item, answer, score, gold FROM outcomes"
        rows = self._database.execute(sql + (" WHERE run = ? ORDER BY item" if run is not None else " ORDER BY run, item"),
                                      (run,) if run is not None else ())
        for r in rows:
            yield {"run": r[0], "item": r[1], "answer": r[2], "score": r[3], "gold": r[4]}

    def _completions_rows(self, run: int | None) -> Iterator[dict[str, Any]]:
        sql = ("SELECT r.key, r.backend, r.model, r.identity, c.idx, c.text, c.finish_reason, c.prompt_tokens, "
               "c.completion_tokens, c.latency_s FROM completions c JOIN requests r ON r.key = c.key")
        if run is not None:
            sql += " JOIN run_pools p ON p.key = c.key AND p.run = ? AND c.idx < p.k"
        rows = self._database.execute(sql + " ORDER BY c.key, c.idx", (run,) if run is not None else ())
        for key, backend, model, identity, idx, text, finish, pt, ct, latency in rows:
            ident = json.loads(identity)
            yield {"pool": key, "backend": backend, "model": model, "index": idx, "text": loaded_text(text),
                   "finish_reason": finish, "prompt_tokens": pt, "completion_tokens": ct, "latency_s": latency,
                   "prompt": _prompt_text(ident), "temperature": ident.get("sampling", {}).get("temperature")}

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
        try:
            self.flush()
            if self._claimed and not self.readonly:  # claims whose samples never came: free them now
                with self._database.transaction() as conn:
                    conn.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
                self._claimed.clear()
        finally:
            self._database.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the writer's lock
                self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class RunRecord:
    """The run row of :meth:`Store.recording`: fill ``summary``; set ``status`` to ``failed`` for a run
    that ends normally but must not count as a measurement."""

    id: int
    summary: dict[str, Any] = field(default_factory=dict)
    status: str = "finished"


def _owner_alive(owner: str) -> bool:
    """Whether the process named in a claim's owner may still be running (always, for another host).

    Example:
        >>> _owner_alive(f"{socket.gethostname()}:{os.getpid()}:x"), _owner_alive("elsewhere:1:x")
        (True, True)
    """
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _prompt_text(identity: Mapping[str, Any]) -> str:
    """The prompt of a stored request: its last chat message, or its plain prompt."""
    messages = identity.get("messages")
    if messages:
        return str(messages[-1][1])
    return str(identity.get("prompt") or "")


def _cancelled() -> type[BaseException]:
    import asyncio

    return asyncio.CancelledError


def _safe(text: str) -> str:
    """``text`` with anything that is not valid UTF-8 escaped (for error messages, not replies)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _migrate(db: sqlite3.Connection) -> None:
    """Bring an older store's tables up to :data:`SCHEMA` (columns added since)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "status" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN status TEXT")


def check_store(path: str | Path) -> None:
    """Everything :class:`Store` would refuse about ``path``, checked without creating or changing
    anything — so a command can stop in one line before a backend starts. An existing file is opened
    read-only and its pages checked (``PRAGMA quick_check``, for files up to
    :data:`QUICK_CHECK_MAX_BYTES`).

    Example:
        >>> check_store("/proc/version/store.sqlite")
        Traceback (most recent call last):
        ...
        callscale.store.StoreError: /proc/version/store.sqlite: cannot create the store: /proc/version is not a directory
    """
    path = Path(path)
    try:
        check_path(path, create=False)
    except DatabaseFileError as exc:
        raise StoreError(str(exc)) from None
    if not path.is_file() or not path.stat().st_size:
        return
    store = Store(path, readonly=True)
    try:
        if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            verdict = store._db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if verdict != "ok":
                raise StoreError(f"{path}: not a usable callscale store (corrupt pages: {verdict})")
        tables = {row[0] for row in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "completions" not in tables:
            raise StoreError(f"{path}: an SQLite database, but not a callscale store (no completions table)")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a usable callscale store ({reason(exc)})") from None
    finally:
        store.close()


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
