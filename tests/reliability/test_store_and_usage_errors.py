"""A store that cannot work, and a mistyped command, are one line and exit 2 — checked before any
backend starts, with nothing written. A second writer on one store is told so."""

from __future__ import annotations

import os
import sqlite3
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app, main
from callscale.records import Completion, Request, Usage
from callscale.store import SharedStoreWarning, Store, StoreError, check_store


def _real_store(path: Path, rows: int = 400) -> None:
    with Store(path) as db:
        for i in range(rows):
            db.add("b", Request.chat("m", f"question {i} " + "padding " * 40), [Completion("x" * 200, 0, Usage(1, 1))])
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    raw.close()


def _corrupt(path: Path) -> None:
    _real_store(path)
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 3 * page):  # scribble over pages past the header
        data[start + 100 : start + 400] = os.urandom(300)
    path.write_bytes(bytes(data))


def _make(kind: str, tmp_path: Path) -> tuple[Path, str]:
    if kind == "random bytes":
        p = tmp_path / "s.sqlite"
        p.write_bytes(os.urandom(8192))
        return p, "not an SQLite database"
    if kind == "read-only file":
        p = tmp_path / "s.sqlite"
        _real_store(p)
        p.chmod(0o444)
        return p, "read-only"
    if kind == "corrupt pages":
        p = tmp_path / "s.sqlite"
        _corrupt(p)
        return p, "corrupt"
    if kind == "a directory":
        p = tmp_path / "dir.sqlite"
        p.mkdir()
        return p, "is a directory"
    if kind == "parent is a file":
        (tmp_path / "afile").write_text("x")
        return tmp_path / "afile" / "s.sqlite", "is not a directory"
    if kind == "another app's database":
        p = tmp_path / "other.db"
        raw = sqlite3.connect(p)
        raw.execute("CREATE TABLE invoices (id INTEGER)")
        raw.commit()
        raw.close()
        return p, "not a callscale store"
    raise AssertionError(kind)


KINDS = ["random bytes", "read-only file", "corrupt pages", "a directory", "parent is a file", "another app's database"]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_store_is_one_line_exit_2_before_the_backend_starts(tmp_path: Path, kind: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path, words = _make(kind, tmp_path)
    before = path.read_bytes() if path.is_file() else None
    wal = Path(f"{path}-wal")
    wal_before = wal.read_bytes() if wal.exists() else None

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the local model must not load when the store is unusable")

    monkeypatch.setattr("callscale.backends.local.LocalServer.start", no_model)
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--limit", "2", "--store", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {path}") and words in result.stderr
    assert (path.read_bytes() if path.is_file() else None) == before  # nothing written
    assert (wal.read_bytes() if wal.exists() else None) == wal_before
    with pytest.raises(StoreError, match=words):
        check_store(path)


def test_scale_checks_the_store_too(tmp_path: Path) -> None:
    path, words = _make("random bytes", tmp_path)
    result = CliRunner().invoke(app, ["scale", "--task", "arithmetic", "--backend", "simulated", "--limit", "3",
                                      "--samples", "4", "--fit-on", "2", "--store", str(path)])
    assert result.exit_code == 2 and words in result.stderr and result.stderr.count("\n") == 1


def test_a_good_store_passes_the_check(tmp_path: Path) -> None:
    _real_store(tmp_path / "s.sqlite", rows=3)
    check_store(tmp_path / "s.sqlite")
    check_store(tmp_path / "new" / "s.sqlite")
    assert not (tmp_path / "new").exists()  # checking creates nothing


@pytest.mark.parametrize(("args", "words"), [
    (["run", "--task", "arithmetic", "--k", "0"], "Invalid value for '--k'"),
    (["run", "--task", "arithmetic", "--k", "1000000000"], "less than or equal to 100000"),
    (["run", "--task", "arithmetic", "--limit", "0"], "Invalid value for '--limit'"),
    (["run", "--task", "arithmetic", "--concurrency", "0"], "Invalid value for '--concurrency'"),
    (["scale", "--task", "arithmetic", "--samples", "1000000000"], "Invalid value for '--samples'"),
    (["run", "--bogus"], "No such option: --bogus"),
    (["frobnicate"], "No such command 'frobnicate'"),
])
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                          words: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--store", str(tmp_path / "s.sqlite")] if args[0] in ("run", "scale") else args)
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err
    assert not (tmp_path / "s.sqlite").exists()


def test_a_second_writer_is_detected_and_warned(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = Store(path)
    assert not first.shared
    with pytest.warns(SharedStoreWarning, match="another writer"):
        second = Store(path)
    assert second.shared
    second.close()
    first.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Store(path).close()  # the lock went with the first store


def test_the_cli_says_when_another_process_writes_to_its_store(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "s.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", f"import time; from callscale.store import Store; s = Store({str(path)!r}); "
                               "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--backend", "simulated", "--limit", "3",
                                          "--store", str(path)])
        assert result.exit_code == 0
        assert result.stderr.startswith(f"warning: {path}: another writer")
    finally:
        holder.kill()
        holder.wait()
