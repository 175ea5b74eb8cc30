"""Ctrl-C and SIGTERM stop a run cleanly: the message is printed, the run row is marked interrupted,
every completed call is stored, and the same command run again pays only for what is missing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callscale.cli import INTERRUPTED
from callscale.store import Store
from callscale.testing.loopback import LoopbackProcess


def _count(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with Store(store, readonly=True) as db:
            return db.count()
    except Exception:  # the writer may be creating the schema right now
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_says_so_marks_the_run_and_resumes_without_paying_twice(tmp_path: Path, signum: int) -> None:
    store = tmp_path / "s.sqlite"
    with LoopbackProcess(latency_s=0.05) as server:
        command = [sys.executable, "-m", "callscale.cli", "run", "--task", "arithmetic", "--k", "4", "--limit", "100",
                   "--backend", "openai", "--base-url", server.base_url, "--model", "m", "--concurrency", "4",
                   "--store", str(store)]
        # A fresh process group with default signal handling (a shell's background job ignores SIGINT).
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 60
        while _count(store) < 40 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
        stored = _count(store)
        assert process.returncode == 130, err
        assert err.strip().splitlines()[-1] == INTERRUPTED and "Traceback" not in err and out == ""
        assert 40 <= stored < 400
        with Store(store, readonly=True) as db:
            assert db.runs()[-1]["status"] == "interrupted"
        first = server.settled_counters()
        # Every sample the server answered before the signal is in the store, except those still in flight.
        assert first["samples_answered"] - 4 <= stored <= first["samples_answered"]

        again = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        final = server.settled_counters()
    with Store(store, readonly=True) as db:
        assert db.count() == 400 and [r["status"] for r in db.runs()] == ["interrupted", "finished"]
    repaid = sum(len(kinds) - 1 for kinds in final["paid"].values())
    assert repaid <= 4  # only calls in flight at the signal can have been paid twice
