from __future__ import annotations

from pathlib import Path

import pytest

from callscale.backends.base import ConfigurationError
from callscale.backends.replay import ReplayBackend
from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.records import Request
from callscale.store import Store


async def test_replay_reproduces_a_recorded_run_offline(tmp_path: Path) -> None:
    store = Store(tmp_path / "rec.sqlite")
    recorder = Engine(SimulatedBackend.constant({"A": 0.5, "B": 0.5}, name="local"), store=store)
    requests = [Request.chat("m", f"q{i}") for i in range(5)]
    original = await recorder.complete_many([(r, 4) for r in requests])
    store.flush()
    store.export_jsonl(tmp_path / "rec.jsonl.gz")
    for source in (tmp_path / "rec.sqlite", tmp_path / "rec.jsonl.gz"):
        replay = ReplayBackend.open(source)
        assert replay.name == "local" and len(replay) == 20
        fresh = Engine(replay)
        again = await fresh.complete_many([(r, 4) for r in requests])
        assert [[c.text for c in x] for x in again] == [[c.text for c in x] for x in original]
        missing = await fresh.complete(requests[0], 5)
        assert missing[4].error is not None and "not recorded" in missing[4].error


def test_missing_replay_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nope\.jsonl"):
        ReplayBackend.open(tmp_path / "nope.jsonl")
