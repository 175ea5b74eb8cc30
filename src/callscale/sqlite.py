"""The one SQLite connection class under the completion store and the search archive.

:class:`Database` opens a file (or ``":memory:"``) in WAL mode with ``synchronous=NORMAL`` and a
busy timeout, creates a schema, runs migrations, serialises statements with one re-entrant lock,
and closes; ``transaction()`` is ``BEGIN`` … ``COMMIT`` (``ROLLBACK`` on error) under that lock.
A file that cannot be used — a directory, a parent that is a file, read-only, not a database — is
refused in one line by :class:`DatabaseFileError` naming the path, before anything is created.

Example:
    >>> db = Database(":memory:", schema="CREATE TABLE t (x INTEGER);")
    >>> with db.transaction() as conn:
    ...     _ = conn.execute("INSERT INTO t VALUES (1)")
    >>> db.execute("SELECT x FROM t")
    [(1,)]
    >>> db.close()
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class DatabaseFileError(ValueError):
    """The database file cannot be used (one line naming the path and what is wrong)."""


def reason(exc: BaseException) -> str:
    """A short, plain reason for an SQLite error."""
    text = str(exc) or type(exc).__name__
    return {"file is not a database": "not an SQLite database", "attempt to write a readonly database": "read-only",
            "database disk image is malformed": "corrupt pages", "unable to open database file": "cannot open it"}.get(text, text)


def check_path(path: Path, *, readonly: bool = False, create: bool = True, kind: str = "store") -> None:
    """Refuse, in one line naming ``path``, a database location that cannot work: a directory, a
    parent that is a file, a file that cannot be read or written, a file that is not SQLite. With
    ``create``, missing parent folders are made; without, nothing is created (a check only).

    Example:
        >>> check_path(Path("/proc/version/store.sqlite"))
        Traceback (most recent call last):
        ...
        callscale.sqlite.DatabaseFileError: /proc/version/store.sqlite: cannot create the store: /proc/version is not a directory
    """
    if path.is_dir():
        raise DatabaseFileError(f"{path}: is a directory, not a {kind} file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise DatabaseFileError(f"{path}: cannot create the {kind}: {parent} is not a directory")
            break
    if path.exists():
        wanted = os.R_OK if readonly else os.R_OK | os.W_OK
        # root may write any file: a file without write bits is still taken as the user's "read-only"
        if not os.access(path, wanted) or (not readonly and os.geteuid() == 0 and not path.stat().st_mode & 0o222):
            raise DatabaseFileError(f"{path}: the {kind} file is {'unreadable' if readonly else 'read-only'}")
        if path.stat().st_size and not _looks_like_sqlite(path):
            raise DatabaseFileError(f"{path}: not a usable callscale {kind} (not an SQLite database)")
    elif readonly:
        raise DatabaseFileError(f"{path}: no such {kind}")
    elif not create:
        parent = next((p for p in path.parents if p.exists()), Path("."))
        if not os.access(parent, os.W_OK | os.X_OK):
            raise DatabaseFileError(f"{path}: cannot create the {kind}: {parent} is not writable")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseFileError(f"{path}: cannot create the {kind} ({exc.strerror or exc})") from None


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


class Database:
    """One SQLite connection with its lifecycle (see module docstring); thread-safe through one lock.

    ``readonly`` opens an existing file for reading only (no schema, no migrations);
    ``wal_autocheckpoint`` sets SQLite's WAL checkpoint interval in pages; ``migrate`` brings an
    older file's tables up to ``schema`` (run after the schema script); ``kind`` names the file in errors.
    """

    def __init__(self, path: str | Path, *, schema: str = "", readonly: bool = False, busy_timeout_s: float = 30.0,
                 wal_autocheckpoint: int | None = None, migrate: Callable[[sqlite3.Connection], None] | None = None,
                 kind: str = "store") -> None:
        self.path = str(path)
        self.readonly = readonly
        self.kind = kind
        self.lock = threading.RLock()
        memory = self.path == ":memory:"
        if not memory:
            check_path(Path(self.path), readonly=readonly, kind=kind)
        try:
            if readonly:
                self.conn = sqlite3.connect(f"file:{Path(self.path).resolve()}?mode=ro", uri=True, isolation_level=None,
                                            check_same_thread=False, timeout=busy_timeout_s)
                self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            else:
                self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                            timeout=busy_timeout_s)
                self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
                if not memory:
                    self.conn.execute("PRAGMA journal_mode=WAL")
                    self.conn.execute("PRAGMA synchronous=NORMAL")
                if wal_autocheckpoint is not None:
                    self.conn.execute(f"PRAGMA wal_autocheckpoint={wal_autocheckpoint}")
                if schema:
                    self.conn.executescript(schema)
                if migrate is not None:
                    migrate(self.conn)
        except sqlite3.DatabaseError as exc:
            raise DatabaseFileError(f"{self.path}: not a usable callscale {kind} ({reason(exc)})") from None

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        """Run one statement and fetch its rows while holding the lock."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        """``BEGIN`` (``IMMEDIATE``: take the write lock now) … ``COMMIT``, or ``ROLLBACK`` on any error."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self.lock:
            self.conn.close()
