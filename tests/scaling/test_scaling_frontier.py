"""The adaptive-voting frontier in the vote-scaling record: the fast estimate over random orders agrees
with the exact average over every order, the record and ``scale``'s summary carry it, and the live
rule helpers stop where the replay of a recorded pool stops."""

from __future__ import annotations

import math
import random

import pytest

from callscale.cli.scale import frontier_lines
from callscale.scaling.adaptive import parse_rule, stop_point, votes_to_stop
from callscale.scaling.adaptive_pools import adaptive_frontier, estimate_rules, replay_rule, sampled_estimates
from callscale.scaling.analysis import FRONTIER_ORDERS, summary_of
from callscale.scaling.estimate import PoolItem

RULES = ["ahead:1,max:4", "ahead:2,max:6", "ahead:3,max:10", "ahead:2", "posterior:0.8,max:8", "posterior:0.95,max:10"]


def _pool(items: int, samples: int, seed: int) -> list[PoolItem]:
    rng = random.Random(seed)
    out = []
    for i in range(items):
        p = rng.random()
        answers = tuple("g" if rng.random() < p else rng.choice(["a", "b", "c", None]) for _ in range(samples))
        out.append(PoolItem(f"q{i}", "g", answers))
    return out


def test_sampled_estimates_agree_with_the_exact_average_over_orders() -> None:
    pool = _pool(40, 10, seed=1)
    orders = 400
    exact = estimate_rules(pool, RULES)
    sampled = sampled_estimates(pool, RULES, orders=orders, seed=3)
    for e, s in zip(exact, sampled, strict=True):
        assert s.rule == e.rule and s.items == e.items
        assert abs(s.shuffled_accuracy - e.shuffled_accuracy) < 4 * 0.5 / math.sqrt(40 * orders)
        assert abs(s.shuffled_calls - e.shuffled_calls) < 4 * 5 / math.sqrt(40 * orders)
        assert abs(s.shuffled_capped - e.shuffled_capped) < 0.05 and abs(s.shuffled_exhausted - e.shuffled_exhausted) < 0.05
        # the recorded order is replayed exactly
        assert (s.replay_accuracy, s.replay_calls, s.replay_capped, s.replay_exhausted) == \
            (e.replay_accuracy, e.replay_calls, e.replay_capped, e.replay_exhausted)
    assert sampled_estimates(pool, RULES, orders=20, seed=5) == sampled_estimates(pool, RULES, orders=20, seed=5)
    with pytest.raises(ValueError, match="orders"):
        sampled_estimates(pool, RULES, orders=0)


def test_pools_of_unequal_size_are_replayed_to_their_own_end() -> None:
    pool = [PoolItem("a", "g", ("g", "b", "g")), PoolItem("b", "g", ("b", "g", "b", "b", "g", "g"))]
    exact = estimate_rules(pool, ["ahead:3", "ahead:3,max:4"])
    sampled = sampled_estimates(pool, ["ahead:3", "ahead:3,max:4"], orders=2000)
    for e, s in zip(exact, sampled, strict=True):
        assert abs(s.shuffled_calls - e.shuffled_calls) < 0.1 and abs(s.shuffled_accuracy - e.shuffled_accuracy) < 0.03
        assert (s.replay_calls, s.replay_exhausted) == (e.replay_calls, e.replay_exhausted)


def test_frontier_over_random_orders_compares_rules_with_fixed_k_over_the_same_orders() -> None:
    pool = _pool(30, 8, seed=2)
    frontier = adaptive_frontier(pool, name="mix", orders=FRONTIER_ORDERS).to_dict()
    assert frontier["orders"] == FRONTIER_ORDERS and frontier["name"] == "mix"
    assert {"best_k", "calls_saved", "pareto", "cheapest", "rules"} <= set(summary_of({"frontier": frontier})["frontier"])
    paired = frontier["paired_accuracy"]
    assert len(paired) == 8 and all(abs(a - b) < 0.03 for a, b in zip(paired, frontier["fixed_accuracy"], strict=True))
    for match in frontier["matches"]:  # a rule reaches K when at least as accurate as K's vote over the same orders
        reach = [r for r in frontier["rules"] if r["shuffled_accuracy"] >= paired[match["k"] - 1] - 1e-12]
        assert match["rule"] == (min(reach, key=lambda r: (r["shuffled_calls"], -r["shuffled_accuracy"]))["rule"]
                                 if reach else None)
    with pytest.raises(ValueError, match="theory"):
        adaptive_frontier(pool, orders=8, theory=True)


def test_the_terminal_line_says_what_the_frontier_found() -> None:
    reached = {"best_k": 22, "cheapest": {"rule": "ahead:3,max:22", "shuffled_calls": 16.94}}
    assert frontier_lines({"frontier": reached}) == [
        "  adaptive voting: ahead:3,max:22 reaches the best fixed K's accuracy (K=22) at 16.9 calls per item (23 % fewer)"]
    assert frontier_lines({"frontier": {"best_k": 30, "cheapest": None}}) == [
        "  adaptive voting: no rule tested reaches the best fixed K's accuracy (K=30)"]
    assert frontier_lines({}) == []


def test_live_helpers_stop_where_the_replay_stops() -> None:
    rng = random.Random(7)
    for spec in ("ahead:1", "ahead:2", "ahead:4", "posterior:0.7", "posterior:0.9"):
        rule = parse_rule(spec)
        for _ in range(60):
            answers = tuple(rng.choice(["g", "g", "a", "b", None]) for _ in range(rng.randint(1, 12)))
            replay = replay_rule(rule, PoolItem("q", "g", answers))
            stop = stop_point(rule, answers)
            assert (stop is not None) == (replay.ended == "rule")
            if stop is not None:
                assert stop == replay.calls
                counts: dict[str, int] = {}
                for a in answers[: stop - 1]:
                    if a is not None:
                        counts[a] = counts.get(a, 0) + 1
                assert votes_to_stop(rule, list(counts.values())) >= 1  # not stopped one call earlier
    assert votes_to_stop("ahead:3", [4, 1]) == 0 and votes_to_stop("posterior:0.95", [3]) == 1
