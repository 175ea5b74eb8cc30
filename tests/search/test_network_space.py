"""A user's network file as a search space: choices, checks, and budget prices against brute force."""

from __future__ import annotations

import asyncio
import itertools
from fractions import Fraction
from pathlib import Path

import pytest

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.networks import NetworkError
from callscale.primitives.world import simulated_world
from callscale.records import ModelCard
from callscale.search.environments.network import NetworkTrials
from callscale.search.network_space import SearchableNetwork, price
from callscale.search.space import Config
from callscale.tasks import load_task

CARDS = {"a": ModelCard("a", 100, 0.1, 0.4), "b": ModelCard("b", 800, 1.0, 4.0), "j": ModelCard("j", 50)}


def two_stage() -> dict:
    return {"name": "two", "search": {"prompt_tokens": 30, "answer_tokens": 5}, "nodes": [
        {"id": "draft", "op": "sample", "model": {"choose": ["a", "b"]}, "k": {"choose": [1, 2, 4]}},
        {"id": "fuse", "op": "fuse", "model": {"choose": ["a", "b"]}, "inputs": ["draft"]},
    ]}


def test_stages_models_and_networks() -> None:
    net = SearchableNetwork.from_dict(two_stage())
    assert [(s.node, s.models, s.samples, s.has_k) for s in net.stages] == [
        ("draft", ("a", "b"), (1, 2, 4), True), ("fuse", ("a", "b"), (1,), False)]
    built = net.network(Config.of(("b", 4), ("a", 1)))
    assert [getattr(n, "model", None) for n in built.nodes] == ["b", "a"] and built.nodes[0].k == 4
    assert built.name == "two[draft=b×4, fuse=a]"
    assert net.space(CARDS).size == 6 * 2


@pytest.mark.parametrize("unit", ["primitive", "flops", "dollars"])
def test_cost_is_exact_without_cross_terms_and_an_upper_bound_with_them(unit: str) -> None:
    """Sample → fuse: the fuse reads the draft's k (a cross term when both are searched)."""
    net = SearchableNetwork.from_dict(two_stage())
    space = net.space(CARDS, unit)
    sizes = net.sizes()
    exact_seen = 0
    for config in space.enumerate(10**30):
        brute = price(net.network(config).cost(sizes), CARDS, unit)
        assert space.cost_model.exact(config) == brute  # type: ignore[attr-defined]
        assert space.cost(config) >= brute
        exact_seen += space.cost(config) == brute
    assert exact_seen >= 1


def test_cost_is_exact_when_stages_do_not_interact() -> None:
    raw = {"name": "v", "nodes": [
        {"id": "s", "op": "sample", "model": {"choose": ["a", "b"]}, "k": {"range": [1, 3]}},
        {"id": "v", "op": "vote", "inputs": ["s"]},
        {"id": "check", "op": "verify", "model": {"choose": ["a", "j"]}, "inputs": ["v"]}]}
    net = SearchableNetwork.from_dict(raw)
    space = net.space(CARDS, "primitive")
    for config in space.enumerate(10**30):
        assert space.cost(config) == price(net.network(config).cost(net.sizes()), CARDS, "primitive")
    # by hand: sample k calls of (60 + 16) tokens, verify one call of (60 + 40) prompt + its 4-token verdict
    assert space.cost(Config.of(("b", 3), ("j", 1))) == Fraction(800 * 3 * 76 + 50 * (100 + 4))


@pytest.mark.parametrize(("patch", "message"), [
    ({"k": {"choose": []}}, "field 'k': 'choose' must be a non-empty list"),
    ({"k": {"range": [4, 2]}}, "'range' must be [low, high]"),
    ({"k": {"choose": [1, 1]}}, "candidates repeat"),
    ({"k": {"choose": [1, 0]}}, "k must be at least 1"),
    ({"model": {"pick": ["a"]}}, "a choice is written 'choose: [...]'"),
    ({"model": {"choose": ["a", 3]}}, "candidates must be model names"),
])
def test_bad_choices_name_file_node_and_field(patch: dict, message: str) -> None:
    raw = two_stage()
    raw["nodes"][0].update(patch)
    with pytest.raises(NetworkError) as err:
        SearchableNetwork.from_dict(raw, source="net.yaml")
    assert message in str(err.value) and "net.yaml" in str(err.value) and "draft" in str(err.value)


def test_a_file_without_choices_and_unknown_search_fields(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text("nodes:\n  - {id: s, op: sample, model: a, k: 3}\n  - {id: v, op: vote, inputs: [s]}\n")
    with pytest.raises(NetworkError, match="no node declares a choice"):
        SearchableNetwork.load(plain)
    raw = two_stage()
    raw["search"] = {"prompt": 3}
    with pytest.raises(NetworkError, match="field 'search' may set only"):
        SearchableNetwork.from_dict(raw)


def test_unpriced_model_is_refused_for_a_dollar_budget() -> None:
    raw = two_stage()
    raw["nodes"][1]["model"] = {"choose": ["a", "j"]}
    with pytest.raises(ValueError, match="model 'j' has no price"):
        SearchableNetwork.from_dict(raw).space(CARDS, "dollars")


def test_trials_report_declared_and_measured_cost_and_reuse_pools() -> None:
    task = load_task("arithmetic", 8)
    raw = {"name": "v", "nodes": [{"id": "s", "op": "sample", "model": {"choose": ["a", "b"]}, "k": {"choose": [2, 4]}},
                                  {"id": "v", "op": "vote", "inputs": ["s"]}]}
    net = SearchableNetwork.from_dict(raw)
    cards = {"a": CARDS["a"], "b": CARDS["b"]}
    engine = Engine(SimulatedBackend(simulated_world(task)), cards=dict(cards))
    env = NetworkTrials(engine, task, task, net, net.space(cards, "primitive"))
    big = asyncio.run(env.evaluate(Config.of(("a", 4))))
    small = asyncio.run(env.evaluate(Config.of(("a", 2))))
    assert big.info["new_calls"] == 4 * 8 and small.info["new_calls"] == 0 and small.info["calls"] == 2 * 8
    assert small.spent_cost == 0.0 and big.info["measured_cost_per_item"] > 0
    assert big.cost == big.info["declared_cost_per_item"] == 4 * 76 * 100
    scores = {asyncio.run(env.evaluate(Config.of(c))).score for c in itertools.product("ab", (2, 4))}
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_route_specialists_choose_their_models_and_are_priced_exactly() -> None:
    raw = {"name": "r", "nodes": [{"id": "route", "op": "route", "delegator": "j", "fallback": "math", "specialists": {
        "math": {"model": {"choose": ["a", "b"]}, "system": "You are good at math."},
        "law": {"model": {"choose": ["a", "b"]}},
        "art": "j"}}]}
    net = SearchableNetwork.from_dict(raw, source="r.yaml")
    assert [(s.name, s.models) for s in net.stages] == [("route.math", ("a", "b")), ("route.law", ("a", "b"))]
    built = net.network(Config.of(("b", 1), ("a", 1)))
    route = built.nodes[0]
    assert {k: v.model for k, v in route.specialists.items()} == {"math": "b", "law": "a", "art": "j"}  # type: ignore[attr-defined]
    assert route.specialists["math"].system == "You are good at math."  # type: ignore[attr-defined]
    for unit in ("primitive", "dollars"):
        cards = {**CARDS, "j": ModelCard("j", 50, 0.05, 0.2)}
        space = net.space(cards, unit)
        costs = {c.key: space.cost(c) for c in space.enumerate(10**30)}
        assert len(costs) == 4 and all(
            space.cost(c) == price(net.network(c).cost(net.sizes()), cards, unit) for c in space.enumerate(10**30))
        assert len(set(costs.values())) == 3  # (a, b) and (b, a) cost the same; each specialist answers a third
    with pytest.raises(NetworkError, match=r"r.yaml: nodes\[0\] \(route\): field 'specialists.law.model': 'choose' must"):
        SearchableNetwork.from_dict({**raw, "nodes": [{**raw["nodes"][0], "specialists": {
            "math": "a", "law": {"model": {"choose": []}}}}]}, source="r.yaml")
