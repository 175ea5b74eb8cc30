"""Tests of callscale.scaling.adaptive: rules, the exact programme against the gambler's-ruin closed form,
exhaustive enumeration and vectorised Monte Carlo (10⁶ runs), the posterior against direct integration."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Sequence

import numpy as np
import pytest
from scipy import integrate, special, stats

from callscale.scaling.adaptive import (
    AheadRule,
    PosteriorRule,
    Rule,
    StateLimitError,
    adaptive_vote,
    adaptive_vote_urn,
    ahead_closed_form,
    leader_posterior,
    parse_rule,
    split_distribution,
)
from callscale.scaling.theory import vote_accuracy

# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("ahead:3", AheadRule(3)),
        ("ahead:3,max:32", AheadRule(3, 32)),
        (" AHEAD : 2 , max : 5 ", AheadRule(2, 5)),
        ("posterior:0.95", PosteriorRule(0.95)),
        ("posterior:0.9,max:16", PosteriorRule(0.9, 16)),
    ],
)
def test_parse_rule(text: str, rule: Rule) -> None:
    assert parse_rule(text) == rule
    assert parse_rule(rule.spec) == rule
    assert parse_rule(rule) is rule


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ahead:0", "k must be a whole number ≥ 1"),
        ("ahead:x", "k must be a whole number ≥ 1"),
        ("ahead:-2", "k must be a whole number ≥ 1"),
        ("ahead:1.5", "k must be a whole number ≥ 1"),
        ("posterior:1.5", "q must lie strictly between 0.5 and 1"),
        ("posterior:0.5", "q must lie strictly between 0.5 and 1"),
        ("posterior:1", "q must lie strictly between 0.5 and 1"),
        ("posterior:abc", "q must be a number"),
        ("ahead:3,max:0", "max must be a whole number ≥ 1"),
        ("ahead:3,max:y", "max must be a whole number ≥ 1"),
        ("ahead:3,min:4", "unknown option"),
        ("ahead:3,max:4,max:5", "max given twice"),
        ("first:3", "unknown rule"),
        ("", "unknown rule"),
    ],
)
def test_parse_rule_errors_are_one_clear_line(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as info:
        parse_rule(text)
    assert "\n" not in str(info.value)


def test_rules_validate_themselves() -> None:
    for bad in (lambda: AheadRule(0), lambda: AheadRule(True), lambda: PosteriorRule(0.4), lambda: AheadRule(2, 0)):
        with pytest.raises(ValueError):
            bad()


def test_ahead_stop_mask() -> None:
    rule = AheadRule(2)
    counts = np.array([[2, 0, 0], [3, 2, 0], [1, 4, 2], [0, 0, 0], [2, 2, 0]])
    assert rule.stop_mask(counts).tolist() == [True, False, True, False, False]
    assert AheadRule(3).stop_mask(np.array([[3], [2]])).tolist() == [True, False]


# ------------------------------------------------------------------ the posterior


def _posterior_by_quad(counts: Sequence[int]) -> float:
    shapes = sorted((c + 1 for c in counts if c > 0), reverse=True)
    lead, others = shapes[0], [*shapes[1:], 1]

    def f(x: float) -> float:
        return float(stats.gamma.pdf(x, lead) * np.prod([special.gammainc(a, x) for a in others]))

    spread = 30 * math.sqrt(lead)
    return float(integrate.quad(f, max(0.0, lead - spread), lead + spread + 50, points=[lead], limit=500,
                                epsabs=1e-15, epsrel=1e-13)[0])


def test_leader_posterior_closed_forms() -> None:
    # One answer seen n times: Dirichlet(n+1, 1), P(Beta(n+1, 1) > ½) = 1 − 2^−(n+1).
    for n in range(1, 40):
        assert leader_posterior((n,)) == pytest.approx(1 - 0.5 ** (n + 1), abs=1e-13)
    # Two answers tied: by symmetry each is the mode with the same probability, less than ½.
    for n in (1, 5, 30):
        assert leader_posterior((n, n)) < 0.5
    assert leader_posterior(()) == 0.0
    assert leader_posterior((0, 3, 0)) == leader_posterior((3,))


def test_leader_posterior_matches_direct_integration() -> None:
    rng = np.random.default_rng(3)
    worst = 0.0
    for _ in range(25):
        answers = int(rng.integers(1, 7))
        counts = rng.multinomial(int(rng.integers(1, 800)), rng.dirichlet(np.ones(answers)))
        if counts.max() == 0:
            continue
        worst = max(worst, abs(leader_posterior(tuple(counts)) - _posterior_by_quad(counts)))
    assert worst < 1e-11


def test_posterior_stop_mask_equals_the_posterior_row_by_row() -> None:
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 30, size=(4000, 4))
    rule = PosteriorRule(0.9)
    ref = [np.sort(r)[-1] > np.sort(r)[-2] and leader_posterior(tuple(r)) >= 0.9 for r in rows]
    assert rule.stop_mask(rows).tolist() == ref


def test_posterior_monotone_in_every_count() -> None:
    """The programme relies on it: a vote for a non-leader never settles an unsettled posterior rule."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        c = sorted(rng.integers(0, 25, size=4).tolist(), reverse=True)
        if c[0] == 0:
            continue
        base = leader_posterior(tuple(c))
        assert leader_posterior((c[0] + 1, *c[1:])) >= base - 1e-13
        for j in range(1, 4):
            grown = list(c)
            grown[j] += 1
            if grown[j] < c[0]:
                assert leader_posterior(tuple(grown)) <= base + 1e-13
        assert leader_posterior((*c, 1)) <= base + 1e-13  # a new answer appears


# ------------------------------------------------------------------ distributions


def test_split_distribution() -> None:
    assert split_distribution([0.5, 0.25]) == ((0.5, 0.25), 0.25)
    assert split_distribution([0.5, 0.5], abstain=0.5) == ((0.25, 0.25), 0.5)
    assert split_distribution([0.5, 0.3], abstain=0.2) == ((0.5, 0.3), 0.2)
    for probs, abstain in [([0.7, 0.5], None), ([0.7, -0.1], None), ([0.6, 0.3], 0.2), ([0.5], 1.5), ([], None)]:
        with pytest.raises(ValueError):
            split_distribution(probs, abstain)


# ------------------------------------------------------------------ exact programme vs closed form


@pytest.mark.parametrize("abstain", [0.0, 0.3])
def test_binary_ahead_matches_gamblers_ruin(abstain: float) -> None:
    worst_acc = worst_calls = 0.0
    for p in (0.02, 0.1, 0.3, 0.45, 0.5, 0.55, 0.7, 0.9, 0.99):
        for k in (1, 2, 3, 5, 8):
            r = adaptive_vote(f"ahead:{k}", [p * (1 - abstain), (1 - p) * (1 - abstain)], abstain)
            acc, calls = ahead_closed_form(p, k, abstain)
            worst_acc = max(worst_acc, abs(r.accuracy - acc))
            worst_calls = max(worst_calls, abs(r.expected_calls - calls) / calls)
            assert r.truncated_mass <= 1e-12
            assert sum(r.calls_pmf) == pytest.approx(1.0, abs=1e-11)
    assert worst_acc < 1e-9 and worst_calls < 1e-9


def test_gamblers_ruin_values() -> None:
    assert ahead_closed_form(0.5, 4) == (0.5, 16.0)
    acc, calls = ahead_closed_form(0.6, 3)
    r = 2 / 3
    assert acc == pytest.approx(1 / (1 + r**3)) and calls == pytest.approx(3 / 0.2 * (1 - r**3) / (1 + r**3))


def test_pmf_of_the_first_vote_with_abstention_is_geometric() -> None:
    r = adaptive_vote("ahead:1", [0.3, 0.1], 0.6)
    t = np.arange(1, 40)
    assert np.allclose(np.asarray(r.calls_pmf)[1:40], stats.geom.pmf(t, 0.4), atol=1e-14)
    assert r.accuracy == pytest.approx(0.75) and r.expected_calls == pytest.approx(2.5)


def test_capped_rule_that_never_settles_is_plurality_vote() -> None:
    """With k larger than the cap the rule always runs to the cap: fixed-K plurality vote."""
    for probs, abstain, cap in [([0.5, 0.3, 0.2], 0.0, 7), ([0.4, 0.3, 0.2], 0.1, 9), ([0.3, 0.3, 0.2, 0.15], 0.05, 12)]:
        r = adaptive_vote(f"ahead:{cap + 1},max:{cap}", probs, abstain)
        assert r.accuracy == pytest.approx(vote_accuracy(probs[0], probs[1:], cap, p_abstain=abstain), abs=1e-12)
        assert r.expected_calls == pytest.approx(cap) and r.unsettled == pytest.approx(1.0)


# ------------------------------------------------------------------ exhaustive enumeration


def _enumerate(rule: Rule, probs: Sequence[float], abstain: float, cap: int) -> tuple[float, list[float]]:
    """Accuracy and calls pmf over every sequence of ``cap`` calls."""
    outcomes = [*probs, abstain]
    acc, pmf = 0.0, [0.0] * (cap + 1)
    for seq in itertools.product(range(len(outcomes)), repeat=cap):
        weight = math.prod(outcomes[s] for s in seq)
        if weight == 0:
            continue
        counts = np.zeros(len(probs), dtype=int)
        stopped = cap
        for t, s in enumerate(seq, 1):
            if s < len(probs):
                counts[s] += 1
                if rule.stop_mask(counts[None])[0]:
                    stopped = t
                    break
        top = counts.max()
        acc += weight * (1 / (counts == top).sum() if top > 0 and counts[0] == top else 0.0)
        pmf[stopped] += weight
    return acc, pmf


@pytest.mark.parametrize(
    ("rule", "probs", "abstain", "cap"),
    [
        ("ahead:2,max:7", [0.4, 0.3, 0.2], 0.1, 7),
        ("ahead:3,max:6", [0.3, 0.3, 0.4], 0.0, 6),
        ("ahead:2,max:6", [0.2, 0.25, 0.25, 0.1], 0.2, 6),  # a group of two equal wrong answers
        ("posterior:0.8,max:6", [0.5, 0.2, 0.2], 0.1, 6),
        ("posterior:0.7,max:7", [0.0, 0.6, 0.4], 0.0, 7),  # the correct answer never drawn
    ],
)
def test_programme_equals_enumeration(rule: str, probs: list[float], abstain: float, cap: int) -> None:
    r = adaptive_vote(rule, probs, abstain)
    acc, pmf = _enumerate(parse_rule(rule), probs, abstain, cap)
    assert r.accuracy == pytest.approx(acc, abs=1e-12)
    assert np.allclose(r.calls_pmf, pmf, atol=1e-12)
    assert r.expected_calls == pytest.approx(float(np.arange(cap + 1) @ pmf), abs=1e-11)


def _orders(counts: Sequence[int], abstain: int) -> list[tuple[int, ...]]:
    balls = [j for j, m in enumerate(counts) for _ in range(m)] + [-1] * abstain
    return sorted(set(itertools.permutations(balls)))


@pytest.mark.parametrize(
    ("rule", "counts", "abstain"),
    [("ahead:2", [3, 2, 1], 1), ("ahead:2,max:4", [2, 2, 1, 1], 1), ("posterior:0.8", [3, 1, 1], 2),
     ("ahead:3,max:9", [2, 3], 0), ("ahead:1", [0, 1], 3)],
)
def test_urn_equals_the_average_over_every_order(rule: str, counts: list[int], abstain: int) -> None:
    parsed = parse_rule(rule)
    size = sum(counts) + abstain
    cap = min(parsed.max_calls or size, size)
    acc = calls = 0.0
    orders = _orders(counts, abstain)
    for order in orders:
        c = np.zeros(len(counts), dtype=int)
        stopped = cap
        for t, s in enumerate(order[:cap], 1):
            if s >= 0:
                c[s] += 1
                if parsed.stop_mask(c[None])[0]:
                    stopped = t
                    break
        top = c.max()
        acc += 1 / (c == top).sum() if top > 0 and c[0] == top else 0.0
        calls += stopped
    r = adaptive_vote_urn(rule, counts, abstain)
    assert r.accuracy == pytest.approx(acc / len(orders), abs=1e-12)
    assert r.expected_calls == pytest.approx(calls / len(orders), abs=1e-12)


# ------------------------------------------------------------------ Monte Carlo, 10⁶ runs each


def _simulate(rule: Rule, probs: Sequence[float], abstain: float, runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Credit of the correct answer and calls of each run, vectorised over runs, one call at a time.
    The stopping decisions are made here, independently of ``stop_mask`` (the posterior by
    :func:`leader_posterior` on each distinct sorted count vector, remembered in a table)."""
    rng = np.random.default_rng(seed)
    outcomes = np.array([*probs, abstain], dtype=float)
    n_answers = len(probs)
    cap = rule.max_calls or 10_000
    radix = (cap + 1) ** np.arange(n_answers)
    if isinstance(rule, PosteriorRule):  # per sorted count vector: unknown, go on, stop
        verdicts = np.full((cap + 1) ** n_answers, -1, dtype=np.int8)
    counts = np.zeros((runs, n_answers), dtype=np.int64)
    calls = np.full(runs, cap)
    active = np.arange(runs)
    for t in range(1, cap + 1):
        draws = rng.choice(n_answers + 1, size=active.size, p=outcomes)
        vote = draws < n_answers
        counts[active[vote], draws[vote]] += 1
        srt = -np.sort(-counts[active], axis=1)
        second = srt[:, 1] if n_answers > 1 else np.zeros(active.size, dtype=np.int64)
        if isinstance(rule, AheadRule):
            stop = srt[:, 0] - second >= rule.k
        else:
            keys = srt @ radix
            _, first = np.unique(keys[verdicts[keys] < 0], return_index=True)
            for row in srt[verdicts[keys] < 0][first]:
                verdicts[row @ radix] = row[0] > row[1] and leader_posterior(tuple(row)) >= rule.q
            stop = verdicts[keys] == 1
        calls[active[stop]] = t
        active = active[~stop]
        if active.size == 0:
            break
    assert rule.max_calls is not None or active.size == 0
    top = counts.max(axis=1)
    credit = np.where((counts[:, 0] == top) & (top > 0), 1.0 / (counts == top[:, None]).sum(axis=1), 0.0)
    return credit, calls


@pytest.mark.parametrize(
    ("rule", "probs", "abstain"),
    [
        ("ahead:3", [0.5, 0.3, 0.2], 0.0),
        ("ahead:2,max:10", [0.3, 0.27, 0.18, 0.15], 0.1),
        ("ahead:4,max:20", [0.24, 0.24, 0.2, 0.12], 0.2),
        ("posterior:0.9,max:16", [0.34, 0.255, 0.17, 0.085], 0.15),
        ("posterior:0.95,max:20", [0.4, 0.3, 0.2], 0.1),
    ],
)
def test_programme_matches_monte_carlo(rule: str, probs: list[float], abstain: float) -> None:
    runs = 1_000_000
    exact = adaptive_vote(rule, probs, abstain)
    assert split_distribution(probs, abstain) == (tuple(probs), abstain)  # shares of all calls
    credit, calls = _simulate(parse_rule(rule), probs, abstain, runs, seed=7)
    z_acc = (exact.accuracy - credit.mean()) / (credit.std() / math.sqrt(runs))
    z_calls = (exact.expected_calls - calls.mean()) / (calls.std() / math.sqrt(runs))
    assert abs(z_acc) < 4.5 and abs(z_calls) < 4.5
    freq = np.bincount(calls, minlength=len(exact.calls_pmf))[: len(exact.calls_pmf)] / runs
    pmf = np.asarray(exact.calls_pmf)
    assert np.all(np.abs(freq - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / runs) + 3 / runs)
    for level in (0.5, 0.9):
        assert abs(exact.quantile(level) - np.quantile(calls, level)) <= 1


# ------------------------------------------------------------------ records, limits, speed


def test_result_record() -> None:
    r = adaptive_vote("ahead:2,max:8", [0.6, 0.3], 0.1)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["rule"] == "ahead:2,max:8" and d["calls_quantiles"]["median"] == r.quantile(0.5)
    assert 1 <= r.quantile(0.5) <= r.quantile(0.9) <= r.quantile(0.99) <= 8
    assert len(d["calls_pmf"]) == 9 and d["truncated_mass"] <= 1e-12


def test_limits_are_reported() -> None:
    with pytest.raises(ValueError, match="never stops"):
        adaptive_vote("ahead:2", [0.0, 0.0])
    capped = adaptive_vote("ahead:2,max:5", [0.0], 1.0)
    assert capped.accuracy == 0.0 and capped.expected_calls == 5.0 and capped.unsettled == 1.0
    with pytest.raises(ValueError, match="unsettled"):
        adaptive_vote("ahead:40", [0.5, 0.5], max_votes=200)
    with pytest.raises(StateLimitError, match="states"):
        adaptive_vote("ahead:30,max:60", [0.2] * 5, max_states=1000)


def test_uncapped_posterior_settles() -> None:
    r = adaptive_vote("posterior:0.9", [0.6, 0.4])
    assert r.truncated_mass <= 1e-12 and 0.6 < r.accuracy < 1 and sum(r.calls_pmf) == pytest.approx(1, abs=1e-11)


@pytest.mark.parametrize(
    ("rule", "probs"),
    [("ahead:3,max:100", [0.4, 0.3, 0.2, 0.1]), ("ahead:5,max:100", [0.5, 0.3, 0.2]),
     ("posterior:0.9,max:100", [0.4, 0.3, 0.3]), ("posterior:0.95,max:100", [0.5, 0.25, 0.15, 0.1]),
     ("ahead:10", [0.55, 0.45])],
)
def test_programme_is_fast(rule: str, probs: list[float]) -> None:
    start = time.process_time()
    adaptive_vote(rule, probs)
    assert time.process_time() - start < 1.0
