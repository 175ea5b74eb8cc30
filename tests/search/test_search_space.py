"""Stages, configurations and repair."""

from __future__ import annotations

import pytest

from callscale.records import ModelCard
from callscale.search.environments.simulated import agentts_space
from callscale.search.space import Choice, Config, Space, Stage


def test_config_json_roundtrip_and_named_form() -> None:
    space = agentts_space()
    config = Config.of(("72B", 1), ("3B", 15))
    assert Config.from_json(config.to_json()) == config
    named = space.named(config)
    assert named == {"retrieval": {"model": "72B", "samples": 1}, "qa": {"model": "3B", "samples": 15}}
    assert space.from_named(named) == config


def test_membership() -> None:
    space = agentts_space()
    assert space.contains(Config.of(("72B", 1), ("3B", 50)))
    assert not space.contains(Config.of(("72B", 51), ("3B", 1)))
    assert not space.contains(Config.of(("GPT", 1), ("3B", 1)))
    assert not space.contains(Config.of(("72B", 1)))


def test_repair_reaches_budget_by_the_nearest_route() -> None:
    space = agentts_space()
    fixed = space.repair(Config.of(("72B", 9), ("72B", 9)), 900)
    assert fixed is not None and space.within(fixed, 900)
    # an in-budget config is returned unchanged, out-of-range samples snap to the nearest candidate
    assert space.repair(Config.of(("72B", 1), ("3B", 15)), 900) == Config.of(("72B", 1), ("3B", 15))
    assert space.repair(Config.of(("3B", 0), ("3B", 99)), 900) == Config.of(("3B", 1), ("3B", 50))
    assert space.repair(Config.of(("GPT", 1), ("3B", 1)), 900) is None
    assert space.repair(Config.of(("3B", 1), ("3B", 1)), 10) is None  # cheapest costs 35


def test_stage_validation() -> None:
    m = ModelCard("a", 1)
    with pytest.raises(ValueError):
        Stage("s", (), (1,), 1, 1)
    with pytest.raises(ValueError):
        Stage("s", (m,), (0, 1), 1, 1)
    with pytest.raises(ValueError):
        Space((Stage("s", (m,), (1,), 1, 1), Stage("s", (m,), (1,), 1, 1)))


def test_fingerprint_depends_on_the_space() -> None:
    assert agentts_space().fingerprint == agentts_space().fingerprint
    assert agentts_space().fingerprint != agentts_space(max_samples=20).fingerprint


def test_replace_choice() -> None:
    c = Config.of(("72B", 1), ("3B", 15)).replace(1, Choice("7B", 4))
    assert c == Config.of(("72B", 1), ("7B", 4))
