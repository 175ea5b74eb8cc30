"""A failed run is never reported as a measurement: refused credentials stop the run at once,
malformed replies are retried a bounded number of times, failures are counted with their first
reason, and past a share of failed calls the command exits 3 with no result on stdout. Stored error
text never holds a key; timeouts are the user's to set."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from status_server import chat_reply, serving
from typer.testing import CliRunner

from callscale.cli import app
from callscale.engine import RetryPolicy
from callscale.store import Store

KEY = "sk-test-0123456789abcdefXYZ"


def _run(server_url: str, store: Path, *extra: str, limit: int = 10, k: int = 3) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--k", str(k), "--limit", str(limit),
                                      "--backend", "openai", "--base-url", server_url, "--model", "m",
                                      "--api-key-env", "CALLSCALE_TEST_KEY", "--store", str(store), *extra])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("callscale.engine.RetryPolicy.__init__.__defaults__", (6, 3, 0.001, 0.01, 0.01))
    assert RetryPolicy().base_s == 0.001
    monkeypatch.setenv("CALLSCALE_TEST_KEY", KEY)


def test_refused_credentials_stop_the_run_with_one_line_and_no_key_anywhere(tmp_path: Path) -> None:
    echo = json.dumps({"error": {"message": f"invalid header 'Authorization: Bearer {KEY}' (key {KEY})"}}).encode()
    store = tmp_path / "s.sqlite"
    with serving(lambda n, body: (401, echo)) as server:
        code, out, err = _run(server.base_url, store, limit=40, k=5)
        requests = server.requests
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: HTTP 401 from openai:127.0.0.1/v1") and "run stopped" in err
    assert requests <= 8  # stopped at the first refusal: at most the calls already in flight (concurrency 8)
    assert KEY not in err
    with Store(store) as db:
        failures = db.failures()
        assert failures and all("HTTP 401" in f[2] and KEY not in f[2] and "[redacted]" in f[2] for f in failures)
        assert db.runs()[-1]["status"] == "failed"
    assert KEY.encode() not in store.read_bytes()


@pytest.mark.parametrize(("name", "body"), [("invalid JSON", b"{not json"), ("no choices", b'{"id": "x"}'),
                                            ("choices not a list of objects", b'{"choices": [3]}')])
def test_a_run_whose_every_call_failed_exits_3_without_a_measurement(tmp_path: Path, name: str, body: bytes) -> None:
    store = tmp_path / "s.sqlite"
    with serving(lambda n, b: (200, body)) as server:
        code, out, err = _run(server.base_url, store, "--json")
        requests = server.requests
    assert code == 3 and out == ""
    assert err.splitlines() == [err.strip()] and err.startswith("error: 30 of 30 calls failed; first: malformed")
    assert "no measurement reported" in err
    assert requests == 30 * RetryPolicy().malformed_attempts  # bounded retries for malformed 200 replies
    with Store(store) as db:
        assert len(db.failures()) == 30 and db.count() == 0
        assert db.runs()[-1]["status"] == "failed"


def test_some_failures_are_reported_and_the_share_decides_the_exit(tmp_path: Path) -> None:
    def reply(n: int, body: dict[str, object]) -> tuple[int, bytes]:
        if int(str(body.get("seed", 0))) % 4 == 0:  # about a quarter of the samples, the same ones on every run
            return 400, b'{"error": {"message": "context too long"}}'
        return 200, chat_reply("answer: 3")

    with serving(reply) as server:
        code, out, err = _run(server.base_url, tmp_path / "a.sqlite", "--json", limit=20)
        assert code == 0 and json.loads(out)["failures"] > 0
        failed = json.loads(out)["failures"]
        assert err.strip() == f"warning: {failed} of 60 calls failed; first: HTTP 400 from openai:127.0.0.1/v1: context too long"
        code, out, err = _run(server.base_url, tmp_path / "b.sqlite", "--fail-share", "0.05", limit=20)
        assert code == 3 and out == "" and err.startswith(f"error: {failed} of 60 calls failed")


def test_timeouts_are_settable_and_a_hung_server_frees_its_slot(tmp_path: Path) -> None:
    def hang(n: int, body: dict[str, object]) -> tuple[int, bytes]:
        time.sleep(2.0)
        return 200, chat_reply("late")

    with serving(hang) as server:
        started = time.perf_counter()
        code, _, err = _run(server.base_url, tmp_path / "s.sqlite", "--timeout", "0.2", limit=1, k=1)
        elapsed = time.perf_counter() - started
    assert code == 3 and "timed out after 0.2 s" in err
    assert elapsed < 6 * 0.2 + 5  # six attempts of 0.2 s (and tiny backoffs), not six of 120 s
    with Store(tmp_path / "s.sqlite") as db:
        assert [f[3] for f in db.failures()] == [6]


@pytest.mark.parametrize(("option", "value"), [("--timeout", "0"), ("--timeout", "-1"), ("--connect-timeout", "0")])
def test_bad_timeouts_are_usage_errors(tmp_path: Path, option: str, value: str) -> None:
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--backend", "simulated", option, value,
                                      "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and not (tmp_path / "s.sqlite").exists()
