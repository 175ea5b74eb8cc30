"""The main commands end to end on the embedded local model (small: a few calls each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app

pytestmark = pytest.mark.real_model
runner = CliRunner()


def test_run_on_the_local_model_then_again_from_the_store(tmp_path: Path) -> None:
    args = ["run", "--task", "arithmetic", "--limit", "3", "--k", "2", "--max-tokens", "8", "--store",
            str(tmp_path / "s.sqlite"), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["backend"] == "local" and out["calls_made"] == 6 == out["declared_calls"]
    assert out["ledger"]["total"]["system"]["primitive_cost"] > 0
    again = json.loads(runner.invoke(app, args).stdout)
    assert again["calls_made"] == 0 and again["accuracy"] == out["accuracy"]


def test_model_serve_answers_and_stops_on_sigterm() -> None:
    import os
    import signal
    import subprocess
    import sys

    import httpx

    server = subprocess.Popen([sys.executable, "-m", "callscale.cli", "model", "serve", "--port", "0", "--slots", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        reply = httpx.post(base_url + "/chat/completions", timeout=60,
                           json={"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4}).json()
        assert reply["choices"][0]["message"]["content"]
        os.kill(server.pid, signal.SIGTERM)
        assert server.wait(30) == 0
        with pytest.raises(httpx.HTTPError):
            httpx.get(base_url.removesuffix("/v1") + "/health", timeout=2)
    finally:
        if server.poll() is None:
            server.kill()
