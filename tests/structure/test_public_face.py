"""``import callscale as cs`` is the whole public face: every listed name resolves, a backend class
defined here (or plugged in through an entry point) runs a network through ``cs.…`` only."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import callscale as cs


def test_every_public_name_resolves() -> None:
    missing = [name for name in cs.__all__ if getattr(cs, name, None) is None]
    assert missing == []
    assert {"Engine", "Store", "open_backend", "register_backend", "get_task", "load_task", "builtin_network",
            "load_network", "run_network", "collect_pools"} <= set(cs.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = cs.nope  # type: ignore[attr-defined]


def test_importing_callscale_loads_nothing_heavy() -> None:
    code = "import sys, callscale; print(sorted(m for m in sys.modules if m.startswith(('callscale.', 'numpy', 'scipy'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['callscale.lazy']"  # the face's own helper (the standard library only), nothing else


class EchoBackend:
    """A backend defined by a user: every answer is "Answer: 4"."""

    name = "echo"
    max_n = 4
    concurrency = 4

    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, batch: cs.Batch) -> list[cs.Completion]:
        self.calls += 1
        return [cs.Completion("Answer: 4", batch.start + j, cs.Usage(10, 3)) for j in range(batch.n)]

    def card(self, model: str) -> cs.ModelCard:
        return cs.ModelCard(model, params=1_000)

    async def aclose(self) -> None:
        return None


async def _vote_on(kind: str, store: Path) -> tuple[float, int, int]:
    task = cs.load_task("arithmetic", limit=6)
    async with cs.open_backend(kind) as backend:
        engine = cs.Engine(backend, store=cs.Store(store))
        result = await cs.run_network(cs.builtin_network("vote", "m", k=3), task, engine)
        engine.store.close()
        gold4 = sum(item.answer == "4" for item in task.items)
        return result.accuracy, engine.ledger.total().system.primitive_cost, gold4


def test_a_registered_backend_runs_a_network(tmp_path: Path) -> None:
    cs.register_backend("echo", EchoBackend)
    try:
        assert "echo" in cs.backend_names()
        accuracy, cost, gold4 = asyncio.run(_vote_on("echo", tmp_path / "s.sqlite"))
        assert accuracy == gold4 / 6 and cost == 6 * 3 * 1_000 * 13
        with pytest.raises(ValueError, match="registered already"):
            cs.register_backend("echo", EchoBackend)
    finally:
        from callscale.backends.registry import unregister_backend

        unregister_backend("echo")
    with pytest.raises(cs.ConfigurationError, match="unknown backend 'echo'"):
        asyncio.run(_vote_on("echo", tmp_path / "t.sqlite"))


def test_a_backend_plugged_in_through_an_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway distribution on sys.path declares ``callscale.backends: plugged = plugmod:Plugged``."""
    (tmp_path / "plugmod.py").write_text(textwrap.dedent('''
        from callscale.records import Completion, ModelCard, Usage

        class Plugged:
            name = "plugged"
            max_n = 1
            concurrency = 2

            async def generate(self, batch):
                return [Completion("Answer: 4", batch.start, Usage(5, 1))]

            def card(self, model):
                return ModelCard(model, params=7)

            async def aclose(self):
                return None
    '''))
    info = tmp_path / "plugdist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugdist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[callscale.backends]\nplugged = plugmod:Plugged\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "plugged" in cs.backend_names()
    accuracy, cost, gold4 = asyncio.run(_vote_on("plugged", tmp_path / "s.sqlite"))
    assert accuracy == gold4 / 6 and cost == 6 * 3 * 7 * 6
    from typer.testing import CliRunner

    from callscale.cli import app

    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--limit", "3", "--k", "2", "--backend", "plugged",
                                      "--model", "m", "--store", str(tmp_path / "cli.sqlite"), "--json"])
    assert result.exit_code == 0, result.output
