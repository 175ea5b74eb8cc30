"""Tests of callscale.scaling.adaptive_pools: replay, the shuffled estimate (= the average of the replay
over every order of the pool), the plug-in theory and the frontier against fixed-K vote."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from callscale.scaling.adaptive import adaptive_vote, parse_rule
from callscale.scaling.adaptive_pools import (
    Replay,
    adaptive_frontier,
    default_rules,
    estimate_rules,
    replay_rule,
)
from callscale.scaling.estimate import PoolItem, pool_vote_curve, read_pool_jsonl

POOLS = Path(__file__).resolve().parents[2] / "studies" / "vote_scaling" / "pools"


def _pool(seed: int = 0, items: int = 12, samples: int = 7) -> list[PoolItem]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(items):
        probs = rng.dirichlet(np.ones(4) * 0.7)
        draws = rng.choice(["a", "b", "c", None], size=samples, p=probs)  # type: ignore[arg-type]
        out.append(PoolItem(f"q{i}", "a", tuple(None if d is None else str(d) for d in draws)))
    return out


def test_replay_ends_by_rule_cap_or_pool() -> None:
    item = PoolItem("q", "4", ("4", None, "5", "4", "4", "5"))
    assert replay_rule("ahead:2", item) == Replay(1.0, 5, "rule")
    assert replay_rule("ahead:2,max:3", item) == Replay(0.5, 3, "cap")  # 4 and 5 tied at the cap
    assert replay_rule("ahead:3", item) == Replay(1.0, 6, "pool")  # 3 votes to 2: plurality of all
    assert replay_rule("ahead:1,max:1", PoolItem("q", "4", (None, "4"))) == Replay(0.0, 1, "cap")
    assert replay_rule("posterior:0.8", PoolItem("q", "x", ("y", "y", "y"))) == Replay(0.0, 2, "rule")
    assert replay_rule("ahead:5,max:99", PoolItem("q", "x", ("y", "x"))) == Replay(0.5, 2, "pool")


@pytest.mark.parametrize("rule", ["ahead:2", "ahead:2,max:4", "ahead:3,max:9", "posterior:0.8", "posterior:0.7,max:3"])
def test_shuffled_is_the_replay_averaged_over_every_order(rule: str) -> None:
    pool = _pool(items=6, samples=6)
    est = estimate_rules(pool, [rule])[0]
    acc = calls = 0.0
    for item in pool:
        orders = set(itertools.permutations(item.answers))
        runs = [replay_rule(rule, PoolItem(item.id, item.gold, order)) for order in orders]
        acc += np.mean([r.credit for r in runs]) / len(pool)
        calls += np.mean([r.calls for r in runs]) / len(pool)
    assert est.shuffled_accuracy == pytest.approx(acc, abs=1e-12)
    assert est.shuffled_calls == pytest.approx(calls, abs=1e-12)


def test_replay_estimate_and_counts() -> None:
    pool = _pool(seed=2)
    est = estimate_rules(pool, ["ahead:3", "ahead:3,max:4"])
    for e, rule in zip(est, ["ahead:3", "ahead:3,max:4"], strict=True):
        runs = [replay_rule(rule, it) for it in pool]
        assert e.replay_accuracy == pytest.approx(np.mean([r.credit for r in runs]))
        assert e.replay_calls == pytest.approx(np.mean([r.calls for r in runs]))
        assert e.replay_exhausted == sum(r.ended == "pool" for r in runs)
        assert e.replay_capped == sum(r.ended == "cap" for r in runs)
    assert est[0].replay_exhausted > 0 and est[0].replay_capped == 0 and est[1].replay_exhausted == 0
    assert est[0].shuffled_exhausted > 0 and est[1].shuffled_capped > 0


def test_theory_is_the_exact_programme_on_the_empirical_distribution() -> None:
    pool = _pool(seed=3, items=5)
    est = estimate_rules(pool, ["ahead:2,max:6", "posterior:0.8,max:5"], theory=True)
    for e in est:
        values = []
        for item in pool:
            labels = ["a", "b", "c"]
            n = len(item.answers)
            probs = [sum(x == lab for x in item.answers) / n for lab in labels]
            values.append(adaptive_vote(e.rule, probs))
        assert e.theory_items == len(pool)
        assert e.theory_accuracy == pytest.approx(np.mean([v.accuracy for v in values]), abs=1e-12)
        assert e.theory_calls == pytest.approx(np.mean([v.expected_calls for v in values]), abs=1e-12)
    with pytest.raises(ValueError, match="cap"):
        estimate_rules(pool, ["ahead:2"], theory=True)


def test_theory_leaves_out_items_that_need_too_many_states() -> None:
    wide = PoolItem("w", "a", tuple("abcdefghij" * 3))
    est = estimate_rules([wide, PoolItem("n", "a", ("a", "a", "b"))], ["ahead:3,max:20"], theory=True,
                         theory_max_states=50)[0]
    assert est.theory_items == 1 and est.items == 2


def test_rules_at_the_ends_agree_with_fixed_k_vote() -> None:
    """Capped at 1 call a rule is K = 1; a rule that cannot settle before M calls is K = M."""
    pool = _pool(seed=4, samples=8)
    curve = pool_vote_curve(pool, [1, 8])
    first, last = estimate_rules(pool, ["ahead:1,max:1", "ahead:9,max:8"])
    assert first.shuffled_accuracy == pytest.approx(curve[0], abs=1e-12) and first.shuffled_calls == 1
    assert last.shuffled_accuracy == pytest.approx(curve[1], abs=1e-12) and last.shuffled_calls == 8


def test_frontier_on_a_small_pool() -> None:
    pool = _pool(seed=5, items=20, samples=8)
    f = adaptive_frontier(pool, name="toy")
    assert f.samples == 8 and f.items == 20 and len(f.fixed_accuracy) == 8
    assert np.allclose(f.fixed_accuracy, pool_vote_curve(pool, range(1, 9)), atol=1e-12)
    assert f.best_accuracy == max(f.fixed_accuracy) and f.fixed_accuracy[f.best_k - 1] == f.best_accuracy
    assert any(parse_rule(r.rule).max_calls == f.best_k for r in f.rules)  # the best K is among the caps
    if f.cheapest is not None:
        assert f.cheapest.shuffled_accuracy >= f.best_accuracy - 1e-12
        assert all(r.shuffled_calls >= f.cheapest.shuffled_calls for r in f.rules
                   if r.shuffled_accuracy >= f.best_accuracy - 1e-12)
        assert f.calls_saved == pytest.approx(f.best_k - f.cheapest.shuffled_calls)
    front = f.pareto()
    assert [r.shuffled_calls for r in front] == sorted(r.shuffled_calls for r in front)
    assert all(b.shuffled_accuracy > a.shuffled_accuracy for a, b in itertools.pairwise(front))
    for m in f.matches:
        assert m.rule is None or (m.rule_accuracy is not None and m.rule_accuracy >= m.fixed_accuracy - 1e-12)
    d = json.loads(json.dumps(f.to_dict()))
    assert d["name"] == "toy" and d["best_k"] == f.best_k and len(d["rules"]) == len(f.rules)
    assert d["pareto"] == [r.rule for r in front]


def test_default_rules() -> None:
    rules = default_rules(16)
    specs = [r.spec for r in rules]
    assert "ahead:3,max:16" in specs and "posterior:0.9,max:4" in specs and "ahead:4,max:2" not in specs
    assert all(r.max_calls is not None and r.max_calls <= 16 for r in rules)
    assert len(set(specs)) == len(specs)
    assert parse_rule(specs[0]) == rules[0]


def test_bad_pools() -> None:
    with pytest.raises(ValueError, match="empty"):
        estimate_rules([], ["ahead:2"])
    with pytest.raises(ValueError, match="no recorded answers"):
        estimate_rules([PoolItem("q", "a", ())], ["ahead:2"])


def test_on_a_committed_pool() -> None:
    pool = read_pool_jsonl(POOLS / "arc_easy_permuted.jsonl")[:60]
    est = estimate_rules(pool, ["ahead:2,max:16", "posterior:0.9,max:16"])
    for e in est:
        assert 0 <= e.shuffled_accuracy <= 1 and 1 <= e.shuffled_calls <= 16
        assert e.replay_exhausted == 0 and abs(e.replay_accuracy - e.shuffled_accuracy) < 0.1
