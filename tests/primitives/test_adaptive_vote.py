"""The live adaptive vote on the simulated world: it behaves as the exact theory says, shares its
samples with fixed-K votes on the same pools, and the ledger counts each sample it reads once."""

from __future__ import annotations

import math

import pytest
from sim_helpers import gold_mix, number_task, tolerance, world_engine

from callscale.networks import Network, builtin_network, network_from_dict, run_network
from callscale.primitives import AdaptiveVote
from callscale.scaling.adaptive import adaptive_vote

N = 400


@pytest.mark.parametrize(
    ("rule", "probs", "abstain"),
    [("ahead:2,max:10", (0.5, 0.3), 0.2), ("posterior:0.9,max:12", (0.5, 0.3, 0.1), 0.1)],
)
async def test_live_rule_matches_the_exact_theory(rule: str, probs: tuple[float, ...], abstain: float) -> None:
    task = number_task(N)
    wrong = {str(j + 1): p for j, p in enumerate(probs[1:])}
    engine, _ = world_engine(task, gold_mix(probs[0], wrong, abstain=abstain))
    node = AdaptiveVote("av", "sim", rule=rule)
    result = await run_network(Network("av", (node,)), task, engine)
    exact = adaptive_vote(rule, probs, abstain)
    assert node.theory(probs, abstain) == exact
    assert abs(result.accuracy - exact.accuracy) < tolerance(exact.accuracy, N)
    calls = [o.detail["calls"] for o in result.outcomes]
    sd = math.sqrt(sum(p * (t - exact.expected_calls) ** 2 for t, p in enumerate(exact.calls_pmf)))
    assert abs(sum(calls) / N - exact.expected_calls) < 4 * sd / math.sqrt(N)
    assert max(calls) <= node.cap and {o.detail["ended"] for o in result.outcomes} <= {"rule", "cap"}
    line = engine.ledger.nodes()["av"]
    assert line.system.calls == line.spent.calls == sum(calls) and line.cache_hits == 0  # each sample counted once
    assert line.depth == max(o.detail["rounds"] for o in result.outcomes)


async def test_shares_every_sample_with_a_fixed_vote_on_the_same_pool() -> None:
    task = number_task(60)
    engine, _ = world_engine(task, gold_mix(0.5, {"1": 0.3}, abstain=0.2))
    await run_network(builtin_network("vote", "sim", k=8), task, engine)
    made = engine.stats.samples
    result = await run_network(Network("av", (AdaptiveVote("av", "sim", rule="ahead:3", max=8),)), task, engine)
    assert engine.stats.samples == made  # 0 new calls
    line = engine.ledger.nodes()["av"]
    assert line.spent.calls == 0 and line.system.calls == line.cache_hits == sum(o.detail["calls"] for o in result.outcomes)
    # and the other way round: a fixed vote over K after an adaptive one calls only past what it drew
    engine2, _ = world_engine(task, gold_mix(0.5, {"1": 0.3}, abstain=0.2))
    first = await run_network(Network("av", (AdaptiveVote("av", "sim", rule="ahead:3", max=8),)), task, engine2)
    drawn = engine2.stats.samples
    assert drawn == sum(o.detail["calls"] for o in first.outcomes)
    await run_network(builtin_network("vote", "sim", k=8), task, engine2)
    assert engine2.stats.samples == 60 * 8


async def test_stopping_and_cap_follow_the_recorded_order() -> None:
    task = number_task(40)
    engine, _ = world_engine(task, gold_mix(1.0, {}))  # every call gives the gold answer
    result = await run_network(Network("av", (AdaptiveVote("av", "sim", rule="ahead:3"),)), task, engine)
    assert result.accuracy == 1.0
    assert {(o.detail["calls"], o.detail["rounds"], o.detail["ended"]) for o in result.outcomes} == {(3, 1, "rule")}
    engine, _ = world_engine(task, gold_mix(0.0, {}, abstain=1.0))  # nothing parses: the cap ends it
    result = await run_network(Network("av", (AdaptiveVote("av", "sim", rule="ahead:2", max=5),)), task, engine)
    assert result.accuracy == 0.0 and {o.detail["ended"] for o in result.outcomes} == {"cap"}
    assert engine.ledger.nodes()["av"].system.calls == 40 * 5


def test_fields_are_checked_and_cost_is_declared() -> None:
    node = AdaptiveVote("av", "m", rule="ahead:3,max:16")
    assert node.cap == 16 and node.rule == "ahead:3,max:16"
    assert AdaptiveVote("av", "m").cap == 32
    assert node.cost({}, [])[0].calls == 16  # no answer distribution: the most it can draw
    expected = node.cost({"answer_probs": (0.7, 0.3), "prompt": 10, "answer": 2}, [])[0]
    assert expected.calls == pytest.approx(adaptive_vote("ahead:3,max:16", (0.7, 0.3)).expected_calls)
    assert expected.prompt_tokens == pytest.approx(10 * expected.calls)
    with pytest.raises(ValueError, match="field 'rule': unknown rule 'first:3'"):
        AdaptiveVote("av", "m", rule="first:3")
    with pytest.raises(ValueError, match="field 'max': 8 disagrees"):
        AdaptiveVote("av", "m", rule="ahead:3,max:16", max=8)
    with pytest.raises(ValueError, match="field 'round'"):
        AdaptiveVote("av", "m", round=0)
    net = network_from_dict({"nodes": [{"id": "av", "op": "adaptive_vote", "model": "m", "rule": "posterior:0.9",
                                        "max": 12, "round": 2}]})
    assert isinstance(net.nodes[0], AdaptiveVote) and net.nodes[0].cap == 12


async def test_round_size_draws_at_least_that_many() -> None:
    task = number_task(30)
    engine, _ = world_engine(task, gold_mix(1.0, {}))
    result = await run_network(Network("av", (AdaptiveVote("av", "sim", rule="ahead:2", round=5),)), task, engine)
    assert {o.detail["calls"] for o in result.outcomes} == {5}  # read 2, paid for the round of 5
    assert result.accuracy == 1.0 and engine.ledger.nodes()["av"].system.calls == 30 * 5
