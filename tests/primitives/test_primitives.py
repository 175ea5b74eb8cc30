"""Every primitive on the simulated world, against exactly computed probabilities."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from sim_helpers import exact_vote, gold_mix, number_task, tolerance, world_engine

from callscale.networks import Network, builtin_network, run_network
from callscale.primitives import (
    Filter,
    FilterVote,
    Generate,
    Knockout,
    MapReduce,
    Route,
    Sample,
    Select,
    Specialist,
    Verify,
    Vote,
    decide,
)
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import parse_number

N = 1500


def test_decide_tie_rule() -> None:
    d = decide(["A", "B", None, "B", "A", "C"], "s")
    assert d.tied == ("A", "B") and d.answer in ("A", "B")
    assert d.score_with(lambda a: 1.0 if a == "A" else 0.0) == 0.5
    assert decide([None, None], "s").answer is None
    assert decide(["A", "B"], "s").answer == decide(["A", "B"], "s").answer  # reproducible


@pytest.mark.parametrize("k", [1, 3, 4])
async def test_vote_matches_exact_probability(k: int) -> None:
    task = number_task(N)
    engine, _ = world_engine(task, gold_mix(0.45, {"1": 0.35}, abstain=0.2))
    result = await run_network(builtin_network("vote", "sim", k=k), task, engine)
    exact = exact_vote({"G": 0.45, "W": 0.35, "abstain": 0.2}, k)
    assert abs(result.accuracy - exact) < tolerance(exact, N)
    assert result.declared_calls == engine.ledger.total().system.calls == N * k


async def test_filter_vote_with_known_judge_rates() -> None:
    k, tpr, fpr = 3, 0.9, 0.3
    task = number_task(N)
    engine, _ = world_engine(task, gold_mix(0.4, {"1": 0.6}), tpr=tpr, fpr=fpr)
    result = await run_network(Network("fv", (FilterVote("fv", "sim", "sim", k=k),)), task, engine)
    # Exact: each draw is (correct, kept) with probs; vote over kept, over all if none kept.
    p_ck, p_cd = 0.4 * tpr, 0.4 * (1 - tpr)
    p_wk, p_wd = 0.6 * fpr, 0.6 * (1 - fpr)
    kept_only = exact_vote({"G": p_ck, "W": p_wk, "abstain": p_cd + p_wd}, k)
    dropped = p_cd + p_wd
    none_kept = dropped**k * exact_vote({"G": p_cd / dropped, "W": p_wd / dropped}, k)
    exact = kept_only + none_kept
    assert abs(result.accuracy - exact) < tolerance(exact, N)
    total = engine.ledger.total().system.calls
    assert result.declared_calls == total == N * 2 * k
    assert engine.ledger.nodes()["fv.filter"].system.calls == N * k


async def test_select_whole_list() -> None:
    k, skill, p = 4, 0.6, 0.3
    task = number_task(N)
    engine, _ = world_engine(task, gold_mix(p, {"1": 0.4, "2": 0.3}), select_skill=skill)
    net = Network("sel", (Sample("gen", "sim", k), Select("sel", "sim", inputs=("gen",))))
    result = await run_network(net, task, engine)
    exact = sum(math.comb(k, c) * p**c * (1 - p) ** (k - c) * (skill + (1 - skill) * c / k) for c in range(1, k + 1))
    assert abs(result.accuracy - exact) < tolerance(exact, N)
    assert result.declared_calls == engine.ledger.total().system.calls == N * (k + 1)


async def test_knockout_with_a_perfect_judge() -> None:
    k, p = 5, 0.25
    task = number_task(N)
    engine, _ = world_engine(task, gold_mix(p, {"1": 0.75}), select_skill=1.0)
    net = Network("ko", (Sample("gen", "sim", k), Knockout("ko", "sim", inputs=("gen",))))
    result = await run_network(net, task, engine)
    exact = 1 - (1 - p) ** k
    assert abs(result.accuracy - exact) < tolerance(exact, N)
    assert result.declared_calls == engine.ledger.total().system.calls == N * (k + k - 1)
    assert engine.ledger.depth == 1 + 3 == net.cost(defaultdict(int)).depth


async def test_fuse_follows_the_plurality() -> None:
    k = 3
    task = number_task(N)
    engine, _ = world_engine(task, gold_mix(0.5, {"1": 0.3, "2": 0.2}))
    net = builtin_network("fuse", "sim", k=k)
    result = await run_network(net, task, engine)
    exact = exact_vote({"G": 0.5, "W": 0.3, "X": 0.2}, k)
    assert abs(result.accuracy - exact) < tolerance(exact, N)
    assert result.declared_calls == engine.ledger.total().system.calls == N * (k + 1)


async def test_verify_selective_answering() -> None:
    p, tpr, fpr = 0.6, 0.85, 0.25
    task = number_task(N)
    engine, _ = world_engine(task, gold_mix(p, {"1": 1 - p}), tpr=tpr, fpr=fpr)
    net = Network("v", (Generate("gen", "sim"), Verify("check", "sim", inputs=("gen",), abstain_if_rejected=True)))
    result = await run_network(net, task, engine)
    assert abs(result.accuracy - p * tpr) < tolerance(p * tpr, N)
    answered = p * tpr + (1 - p) * fpr
    assert abs((1 - result.abstain_rate) - answered) < tolerance(answered, N)
    assert engine.ledger.depth == 2 == net.cost(defaultdict(int)).depth


async def test_route_to_specialists() -> None:
    skill = 0.8
    task = number_task(N, domain="math")
    specialists = {"math": Specialist("sim-math"), "history": Specialist("sim-history")}
    engine, _world = world_engine(task, lambda it: {it.answer: 1.0}, route_skill=skill)
    net = Network("route", (Route("route", "sim-tiny", specialists, description_words=4, delegator_temperature=1.0),))
    result = await run_network(net, task, engine)
    routed = sum(o.detail.get("specialist") == "math" for o in result.outcomes) / N
    assert abs(routed - skill) < tolerance(skill, N)
    assert result.declared_calls == engine.ledger.total().system.calls == 2 * N
    assert set(engine.ledger.nodes()) == {"route.delegate", "route.math", "route.history"}


@pytest.mark.parametrize(("words", "chunk", "fan_in"), [(100, 10, 3), (90, 10, 3), (7, 10, 2), (1000, 7, 4)])
async def test_map_reduce_calls_and_depth(words: int, chunk: int, fan_in: int) -> None:
    item = Item(id="doc", question="How many?", answer="3", metadata={"document": " ".join(["w"] * words)})
    task = Task("docs", (item,), "{question}", parser=parse_number)
    engine, _ = world_engine(task, lambda it: {"3": 1.0})
    engine.backend.responder = lambda request: {"3": 1.0}  # type: ignore[attr-defined]
    net = Network("mr", (MapReduce("mr", "sim", chunk_words=chunk, fan_in=fan_in),))
    result = await run_network(net, task, engine)
    declared = net.cost({"document": words, "head": 0})
    assert result.declared_calls == declared.calls == engine.ledger.total().system.calls
    assert engine.ledger.depth == declared.depth
    assert result.accuracy == 1.0


async def test_filter_alone_and_pipeline_notes() -> None:
    task = number_task(50)
    engine, _ = world_engine(task, gold_mix(0.5, {"1": 0.5}), tpr=1.0, fpr=0.0)
    net = Network("pipe", (Sample("draft", "sim", 4), Filter("keep", "sim", inputs=("draft",), fallback_all=False),
                           Vote("vote", inputs=("keep",))))
    result = await run_network(net, task, engine)
    # A perfect filter keeps only correct answers: correct whenever any of the 4 drafts is.
    assert result.accuracy == sum(o.score for o in result.outcomes) / 50
    for outcome in result.outcomes:
        assert outcome.answer in (None, outcome.gold)


async def test_permuted_samples_are_independent_draws_even_when_orders_repeat() -> None:
    from callscale.backends.simulated import SimulatedBackend
    from callscale.engine import Engine
    from callscale.primitives import Candidates
    from callscale.primitives.base import ItemContext

    item = Item(id="q", question="Pick one.", choices=("x", "y"), answer="A")
    task = Task("two", (item,), "{question}\n{options}", scorer=None)
    engine = Engine(SimulatedBackend.constant({"A": 0.5, "B": 0.5}))
    drawn = await Sample("gen", "sim", 12, permute=True).run(ItemContext(engine, task, item), [])
    assert isinstance(drawn, Candidates) and len(drawn.items) == 12
    # Only two orders exist for two options, so seeds repeat orders; every sample is still its own call.
    assert engine.ledger.total().spent.calls == 12 == engine.stats.samples
