"""Adaptive voting on recorded sample pools — no new calls — and its frontier against fixed-K vote.

For each item of a pool (its M recorded answers in sample order, ``None`` = abstain) and each rule of
:mod:`callscale.scaling.adaptive`, three estimates of accuracy and mean calls per item:

* ``theory`` — the rule's exact behaviour under the item's *estimated* answer distribution (the
  empirical frequencies of its M samples), drawing with replacement, so it may run past M calls;
* ``shuffled`` — the exact average over every order of the item's M samples of replaying the rule
  along that order (draws without replacement; :func:`~callscale.scaling.adaptive.adaptive_vote_urn`).
  It is the counterpart of the subset-averaged fixed-K accuracy of :mod:`callscale.scaling.estimate`
  and is what the frontier compares;
* ``replay`` — the rule replayed once along the recorded order.

When the pool of an item runs out before the rule stops (possible only for a rule without a cap, or
with a cap above M) the item is scored by the plurality of all M samples with M calls; such items are
counted (``replay_exhausted``; ``shuffled_exhausted`` is the expected share). A cap at or below M that
is reached is counted as ``capped``.

Every item average gives each item equal weight. Accuracy credits a t-way tie for the lead, correct
answer included, with 1/t, exactly as :mod:`callscale.scaling.theory` does.

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> pool = [PoolItem("a", "x", ("x", "x", "y", "x")), PoolItem("b", "x", ("y", "x", "y", "y"))]
    >>> est = estimate_rules(pool, ["ahead:2"])[0]
    >>> est.replay_accuracy, est.replay_calls, round(est.shuffled_accuracy, 4)
    (0.5, 3.0, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from callscale.scaling.adaptive import (
    TOL,
    AdaptiveResult,
    Rule,
    StateLimitError,
    _all_abstain,
    _replacement_result,
    _urn_result,
    _vote_process,
    parse_rule,
)
from callscale.scaling.estimate import ItemCounts, PoolItem, item_counts, subset_vote_curves

FloatArray = NDArray[np.float64]

AHEAD_GRID = (1, 2, 3, 4, 5, 6, 8)
"""Default k of ``ahead:k`` on the frontier."""

POSTERIOR_GRID = (0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
"""Default q of ``posterior:q`` on the frontier."""

THEORY_MAX_STATES = 20_000
"""Most count vectors the plug-in theory follows for one item (beyond it the item is left out)."""

__all__ = [
    "AHEAD_GRID",
    "POSTERIOR_GRID",
    "THEORY_MAX_STATES",
    "AdaptiveFrontier",
    "FrontierMatch",
    "Replay",
    "RuleEstimate",
    "adaptive_frontier",
    "default_rules",
    "estimate_rules",
    "replay_rule",
    "sampled_estimates",
]


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


# --------------------------------------------------------------------------------------------------
# Replay along the recorded order
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """One item replayed: credit of the correct answer (1, 0, or 1/t for a tie), calls, why it ended.

    ``ended`` is ``"rule"`` (the rule stopped), ``"cap"`` (its cap was reached) or ``"pool"`` (the
    recorded samples ran out first: the plurality of all of them decides).
    """

    credit: float
    calls: int
    ended: str


def _trajectory(item: PoolItem) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Vote counts after each call (column 0 the gold answer) and whether that call voted."""
    labels: dict[str, int] = {item.gold: 0}
    for a in item.answers:
        if a is not None and a not in labels:
            labels[a] = len(labels)
    counts = np.zeros((len(item.answers), len(labels)), dtype=np.int64)
    voted = np.array([a is not None for a in item.answers], dtype=bool)
    for t, a in enumerate(item.answers):
        if a is not None:
            counts[t, labels[a]] = 1
    return np.cumsum(counts, axis=0), voted


def _credit(row: NDArray[np.int64]) -> float:
    top = int(row.max())
    if top == 0 or row[0] != top:
        return 0.0
    return 1.0 / int((row == top).sum())


def _first_stop(rule: Rule, counts: NDArray[np.int64], voted: NDArray[np.bool_]) -> int | None:
    """0-based index of the call at which the (uncapped) rule stops, or None."""
    idx = np.flatnonzero(voted)
    if idx.size == 0:
        return None
    hit = np.flatnonzero(rule.stop_mask(counts[idx]))
    return int(idx[hit[0]]) if hit.size else None


def _replay_caps(rule: Rule, item: PoolItem, caps: Sequence[int | None]) -> list[Replay]:
    counts, voted = _trajectory(item)
    size = len(item.answers)
    if size == 0:
        raise ValueError(f"item {item.id!r} has no recorded answers")
    first = _first_stop(replace(rule, max_calls=None), counts, voted)
    out = []
    for cap in caps:
        if first is not None and (cap is None or first + 1 <= cap):
            out.append(Replay(_credit(counts[first]), first + 1, "rule"))
        elif cap is not None and cap <= size:
            out.append(Replay(_credit(counts[cap - 1]), cap, "cap"))
        else:
            out.append(Replay(_credit(counts[-1]), size, "pool"))
    return out


def replay_rule(rule: Rule | str, item: PoolItem) -> Replay:
    """Replay ``rule`` along the item's recorded answers, in order.

    >>> replay_rule("ahead:2", PoolItem("q", "4", ("4", None, "5", "4", "4")))
    Replay(credit=1.0, calls=5, ended='rule')
    >>> replay_rule("ahead:3", PoolItem("q", "4", ("4", "5")))
    Replay(credit=0.5, calls=2, ended='pool')
    """
    r = parse_rule(rule)
    return _replay_caps(r, item, [r.max_calls])[0]


# --------------------------------------------------------------------------------------------------
# Estimates per rule
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleEstimate:
    """One rule on one pool: item means of accuracy and calls by the three estimates (module docstring)."""

    rule: str
    items: int
    shuffled_accuracy: float
    shuffled_calls: float
    shuffled_capped: float
    shuffled_exhausted: float
    replay_accuracy: float
    replay_calls: float
    replay_capped: int
    replay_exhausted: int
    theory_accuracy: float | None = None
    theory_calls: float | None = None
    theory_items: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _counts_key(c: ItemCounts) -> tuple[int, tuple[int, ...], int]:
    return c.correct, c.wrong, c.abstain


def _group(rules: Sequence[Rule]) -> dict[Rule, list[int]]:
    """Rules by their uncapped version (one vote process serves every cap)."""
    out: dict[Rule, list[int]] = {}
    for i, r in enumerate(rules):
        out.setdefault(replace(r, max_calls=None), []).append(i)
    return out


def _theory_item(
    base: Rule, caps: list[int | None], c: ItemCounts, tol: float, max_states: int
) -> list[AdaptiveResult] | None:
    """The plug-in theory of every cap for one item, or None when it needs too many states."""
    n = c.n
    p = tuple(x / n for x in (c.correct, *c.wrong))
    a = c.abstain / n
    if c.abstain == n:
        return [_all_abstain(replace(base, max_calls=cap), p, a, cap or n) for cap in caps]
    if any(cap is None for cap in caps):
        raise ValueError(f"{base.spec}: the theory estimate needs a cap on every rule (max:N)")
    top = max(cap for cap in caps if cap is not None)
    try:
        proc = _vote_process(base, np.asarray(p) / sum(p), urn=False, v_max=top, tol=tol, max_states=max_states)
    except StateLimitError:
        return None
    return [_replacement_result(replace(base, max_calls=cap), proc, p, a, tol) for cap in caps]


def _urn_item(base: Rule, caps: list[int | None], c: ItemCounts, tol: float) -> list[AdaptiveResult]:
    m = [c.correct, *c.wrong]
    size = c.n
    top = max(size if cap is None else min(cap, size) for cap in caps)
    proc = _vote_process(base, [float(x) for x in m], urn=True, v_max=min(sum(m), top), tol=tol)
    return [_urn_result(replace(base, max_calls=cap), proc, m, c.abstain) for cap in caps]


def estimate_rules(
    pool: Sequence[PoolItem],
    rules: Iterable[Rule | str],
    *,
    theory: bool = False,
    tol: float = TOL,
    theory_max_states: int = THEORY_MAX_STATES,
) -> list[RuleEstimate]:
    """Shuffled and replay estimates (and with ``theory`` the plug-in theory) of each rule on a pool.

    The theory estimate needs every rule capped (with replacement an uncapped rule may run for ever on
    an item whose samples tie). Drawing with replacement from an item with many distinct answers can
    need millions of count vectors; items needing more than ``theory_max_states`` are left out of the
    theory means, and ``theory_items`` says over how many items they are taken.

    >>> pool = [PoolItem("a", "x", ("x", "y", "x", None))]
    >>> e = estimate_rules(pool, ["ahead:1,max:4"], theory=True)[0]
    >>> e.replay_calls, round(e.shuffled_calls, 4), round(e.theory_calls, 4), round(e.theory_accuracy, 4)
    (1.0, 1.25, 1.3281, 0.6641)
    """
    parsed = [parse_rule(r) for r in rules]
    if not pool:
        raise ValueError("empty pool")
    for it in pool:
        if not it.answers:
            raise ValueError(f"item {it.id!r} has no recorded answers")
    counts = [item_counts(it.answers, it.gold) for it in pool]
    unique: dict[tuple[int, tuple[int, ...], int], ItemCounts] = {}
    for c in counts:
        unique.setdefault(_counts_key(c), c)
    n_items, n_rules = len(pool), len(parsed)
    sh_acc, sh_calls, sh_cap, sh_pool = (np.zeros((n_items, n_rules)) for _ in range(4))
    th_acc, th_calls = np.zeros((n_items, n_rules)), np.zeros((n_items, n_rules))
    rp_acc, rp_calls = np.zeros((n_items, n_rules)), np.zeros((n_items, n_rules))
    rp_cap, rp_pool = np.zeros(n_rules, dtype=int), np.zeros(n_rules, dtype=int)
    for base, idx in _group(parsed).items():
        caps = [parsed[i].max_calls for i in idx]
        urn_cache = {key: _urn_item(base, caps, c, tol) for key, c in unique.items()}
        theory_cache = (
            {key: _theory_item(base, caps, c, tol, theory_max_states) for key, c in unique.items()} if theory else {}
        )
        for row, (item, c) in enumerate(zip(pool, counts, strict=True)):
            key = _counts_key(c)
            for col, res in zip(idx, urn_cache[key], strict=True):
                cap = parsed[col].max_calls
                sh_acc[row, col], sh_calls[row, col] = res.accuracy, res.expected_calls
                if cap is not None and cap <= c.n:
                    sh_cap[row, col] = res.unsettled
                else:
                    sh_pool[row, col] = res.unsettled
            found = theory_cache.get(key)
            if found is None:
                th_acc[row, idx], th_calls[row, idx] = np.nan, np.nan
            else:
                for col, res in zip(idx, found, strict=True):
                    th_acc[row, col], th_calls[row, col] = res.accuracy, res.expected_calls
            for col, rp in zip(idx, _replay_caps(base, item, caps), strict=True):
                rp_acc[row, col], rp_calls[row, col] = rp.credit, rp.calls
                rp_cap[col] += rp.ended == "cap"
                rp_pool[col] += rp.ended == "pool"
    out = []
    for col, r in enumerate(parsed):
        done = np.isfinite(th_acc[:, col])
        th = (float(th_acc[done, col].mean()), float(th_calls[done, col].mean()), int(done.sum())) if theory and done.any() \
            else (None, None, 0 if theory else None)
        out.append(
            RuleEstimate(
                r.spec, n_items,
                float(sh_acc[:, col].mean()), float(sh_calls[:, col].mean()),
                float(sh_cap[:, col].mean()), float(sh_pool[:, col].mean()),
                float(rp_acc[:, col].mean()), float(rp_calls[:, col].mean()), int(rp_cap[col]), int(rp_pool[col]),
                *th,
            )
        )
    return out


def _order_labels(pool: Sequence[PoolItem]) -> tuple[NDArray[np.signedinteger[Any]], NDArray[np.int64]]:
    """Each item's answers as labels (0 gold, 1.. the other answers, −1 abstain), padded with −2 past
    its last sample, and each item's number of samples."""
    sizes = np.array([len(it.answers) for it in pool], dtype=np.int64)
    out = np.full((len(pool), int(sizes.max())), -2, dtype=np.int16 if sizes.max() < 2**15 - 1 else np.int32)
    for row, it in enumerate(pool):
        labels: dict[str, int] = {it.gold: 0}
        out[row, : len(it.answers)] = [-1 if a is None else labels.setdefault(a, len(labels)) for a in it.answers]
    return out, sizes


def _distinct_rows(rows: NDArray[np.signedinteger[Any]]) -> tuple[NDArray[np.signedinteger[Any]], NDArray[np.int64]]:
    """The distinct rows and, for each row, the index of its distinct row (``np.unique(axis=0)`` is slow
    on wide rows: rows are matched by a 64-bit hash, checked, with that as the fallback)."""
    mult = np.random.default_rng(12345).integers(1, 2**62, size=rows.shape[1], dtype=np.int64) | 1
    with np.errstate(over="ignore"):
        keys = rows.astype(np.int64) @ mult
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = np.ravel(inverse)
    if np.array_equal(rows[first][inverse], rows):
        return rows[first], inverse
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    return unique, np.ravel(inverse)


def _first_stops(rule: Rule, unique: NDArray[np.signedinteger[Any]], row_of: NDArray[np.int64],
                 voted: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Index of the call at which ``rule`` stops along each trajectory (−1: never), asking the rule only
    about the count vectors a trajectory still running reaches (a posterior rule integrates each once)."""
    known = np.full(unique.shape[0], -1, dtype=np.int8)
    first = np.full(voted.shape[:2], -1, dtype=np.int64)
    for t in range(voted.shape[2]):
        running = (first < 0) & voted[:, :, t]
        if not running.any():
            continue
        rows = row_of[:, :, t][running]
        ask = np.unique(rows[known[rows] < 0])
        if ask.size:
            known[ask] = rule.stop_mask(unique[ask])
        stopped = np.zeros(first.shape, dtype=bool)
        stopped[running] = known[rows] == 1
        first[stopped] = t
    return first


def _sampled_block(
    labels: NDArray[np.signedinteger[Any]], sizes: NDArray[np.int64], rules: Sequence[Rule], orders: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, ...]:
    """Per item and rule: mean credit, calls, capped and exhausted share over ``orders`` random orders,
    then the same four along the recorded order (the replay); last, per item and K, the plurality vote's
    credit over the first K samples of the same random orders."""
    n_items, width = labels.shape
    keys = rng.random((n_items, orders + 1, width))
    keys[:, 0, :] = np.arange(width)  # order 0: the recorded order
    keys[labels[:, None, :].repeat(orders + 1, axis=1) == -2] = 2.0 * width  # past the pool: last, in place
    drawn = np.take_along_axis(np.broadcast_to(labels[:, None, :], keys.shape), np.argsort(keys, axis=2), axis=2)
    counts = np.cumsum(drawn[..., None] == np.arange(max(int(labels.max()) + 1, 1), dtype=labels.dtype), axis=2,
                       dtype=labels.dtype)
    voted = drawn >= 0
    top = counts.max(axis=3)
    ties = (counts == top[..., None]).sum(axis=3)
    share = np.where((counts[..., 0] == top) & (top > 0), 1.0 / np.maximum(ties, 1), 0.0)
    unique, inverse = _distinct_rows(-np.sort(-counts.reshape(-1, counts.shape[3]), axis=1))
    out = tuple(np.zeros((n_items, len(rules))) for _ in range(8))
    last = np.broadcast_to((sizes - 1)[:, None], voted.shape[:2])
    first_by_base: dict[Rule, NDArray[np.int64]] = {}
    for col, rule in enumerate(rules):
        base = replace(rule, max_calls=None)
        first = first_by_base.get(base)
        if first is None:
            first = first_by_base[base] = _first_stops(base, unique, inverse.reshape(voted.shape), voted)
        cap = rule.max_calls
        stopped = (first >= 0) & (first < (width if cap is None else cap))
        capped = ~stopped & (cap is not None and cap <= width) & (sizes[:, None] >= (cap or 0))
        where = np.where(stopped, first, np.where(capped, (cap or 1) - 1, last))
        credit = np.take_along_axis(share, where[..., None], axis=2)[..., 0]
        for j, value in enumerate((credit, where + 1.0, capped, ~stopped & ~capped)):
            out[j][:, col] = value[:, 1:].mean(axis=1)
            out[4 + j][:, col] = value[:, 0]
    return (*out, share[:, 1:, :].mean(axis=1))


def sampled_estimates(
    pool: Sequence[PoolItem], rules: Iterable[Rule | str], *, orders: int = 64, seed: int = 0
) -> list[RuleEstimate]:
    """:func:`estimate_rules` with the shuffled estimate averaged over ``orders`` random orders of each
    item's samples (Monte Carlo, the same random orders for every rule) instead of exactly over every order.

    The exact average follows every count vector a rule can reach, which on items with many distinct
    answers takes seconds per rule; this takes a fraction of a second for a whole grid and agrees within
    its Monte-Carlo error (about 0.5/√(items·orders) on an accuracy). No theory estimate.

    >>> pool = [PoolItem("a", "x", ("x", "y", "x", None))] * 3
    >>> e = sampled_estimates(pool, ["ahead:1,max:4"], orders=400)[0]
    >>> e.replay_calls, abs(e.shuffled_calls - 1.25) < 0.05
    (1.0, True)
    """
    return _sampled(pool, rules, orders, seed)[0]


def _sampled(
    pool: Sequence[PoolItem], rules: Iterable[Rule | str], orders: int, seed: int
) -> tuple[list[RuleEstimate], FloatArray]:
    """:func:`sampled_estimates`, and the fixed-K vote's accuracy (K = 1..M, M the fewest samples of any
    item) over the same random orders: the paired reference its rules are compared with."""
    parsed = [parse_rule(r) for r in rules]
    if not pool:
        raise ValueError("empty pool")
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 1:
        raise ValueError(f"orders must be a whole number ≥ 1, got {orders!r}")
    for it in pool:
        if not it.answers:
            raise ValueError(f"item {it.id!r} has no recorded answers")
    labels, sizes = _order_labels(pool)
    rng = np.random.default_rng(seed)
    per_item = int(labels.shape[1]) * (int(labels.max()) + 2) * (orders + 1)
    step = max(1, 4_000_000 // per_item)  # items per block: a few million counts at a time
    blocks = [_sampled_block(labels[i : i + step], sizes[i : i + step], parsed, orders, rng)
              for i in range(0, len(pool), step)]
    acc, calls, capped, exhausted, rp_acc, rp_calls, rp_cap, rp_pool = (
        np.concatenate([b[j] for b in blocks]) for j in range(8))
    fixed = np.concatenate([b[8][:, : int(sizes.min())] for b in blocks]).mean(axis=0)
    return [RuleEstimate(r.spec, len(pool), float(acc[:, c].mean()), float(calls[:, c].mean()),
                         float(capped[:, c].mean()), float(exhausted[:, c].mean()), float(rp_acc[:, c].mean()),
                         float(rp_calls[:, c].mean()), int(rp_cap[:, c].sum()), int(rp_pool[:, c].sum()))
            for c, r in enumerate(parsed)], fixed


# --------------------------------------------------------------------------------------------------
# The frontier
# --------------------------------------------------------------------------------------------------


def default_rules(samples: int, extra_caps: Iterable[int] = ()) -> list[Rule]:
    """The frontier's grid: ``ahead:k`` and ``posterior:q`` over the default grids, each capped at every
    power of two and 1.5 × power of two below M, at M, and at ``extra_caps`` (at most M).

    >>> [r.spec for r in default_rules(4)][:3]
    ['ahead:1,max:2', 'ahead:1,max:3', 'ahead:1,max:4']
    """
    caps = sorted({*(c for i in range(1, 12) for c in (2**i, 3 * 2 ** (i - 1)) if c < samples), samples,
                   *(c for c in extra_caps if 1 <= c <= samples)})
    rules: list[Rule] = []
    for k in AHEAD_GRID:
        rules += [parse_rule(f"ahead:{k},max:{cap}") for cap in caps if k <= cap]
    for q in POSTERIOR_GRID:
        rules += [parse_rule(f"posterior:{q},max:{cap}") for cap in caps]
    return rules


@dataclass(frozen=True)
class FrontierMatch:
    """For one fixed K: its accuracy, and the cheapest rule (by mean calls) at least as accurate."""

    k: int
    fixed_accuracy: float
    rule: str | None
    rule_accuracy: float | None
    rule_calls: float | None

    @property
    def calls_saved(self) -> float | None:
        """K minus the rule's mean calls per item (None if no rule is as accurate)."""
        return None if self.rule_calls is None else self.k - self.rule_calls

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        out["calls_saved"] = self.calls_saved
        return out


@dataclass(frozen=True)
class AdaptiveFrontier:
    """Accuracy against mean calls per item: fixed-K vote (exact subset average, K = 1..M) and each rule
    (shuffled estimate); the best fixed K and the cheapest rule reaching its accuracy.

    ``calls_saved`` is best K minus that rule's mean calls (None when no rule reaches it). ``orders`` is
    None when the rules' figures average exactly over every order of each item's samples, else the
    number of random orders per item they average over (:func:`sampled_estimates`); a rule then reaches
    a fixed K when it is at least as accurate as that K's vote over the same orders (``paired_accuracy``),
    which cancels most of the orders' noise from the comparison — but not all: a rule and a fixed K
    whose accuracies differ by less than the Monte-Carlo error (a few 1e-4 on 300 items × 64 orders)
    may be compared either way.
    """

    name: str
    items: int
    samples: int
    fixed_accuracy: tuple[float, ...]
    rules: tuple[RuleEstimate, ...]
    best_k: int
    best_accuracy: float
    cheapest: RuleEstimate | None
    matches: tuple[FrontierMatch, ...]
    orders: int | None = None
    paired_accuracy: tuple[float, ...] | None = None

    @property
    def calls_saved(self) -> float | None:
        """Mean calls per item saved at the accuracy of the best fixed K."""
        return None if self.cheapest is None else self.best_k - self.cheapest.shuffled_calls

    def pareto(self) -> list[RuleEstimate]:
        """Rules no other rule beats on both accuracy and calls, by increasing calls."""
        ordered = sorted(self.rules, key=lambda r: (r.shuffled_calls, -r.shuffled_accuracy))
        out: list[RuleEstimate] = []
        for r in ordered:
            if not out or r.shuffled_accuracy > out[-1].shuffled_accuracy + 1e-12:
                out.append(r)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (with ``calls_saved`` and the Pareto rules by name)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        out["calls_saved"] = self.calls_saved
        out["pareto"] = [r.rule for r in self.pareto()]
        return out


def _cheapest(rules: Sequence[RuleEstimate], target: float) -> RuleEstimate | None:
    ok = [r for r in rules if r.shuffled_accuracy >= target - 1e-12]
    return min(ok, key=lambda r: (r.shuffled_calls, -r.shuffled_accuracy)) if ok else None


def adaptive_frontier(
    pool: Sequence[PoolItem],
    rules: Iterable[Rule | str] | None = None,
    *,
    name: str = "",
    theory: bool = False,
    tol: float = TOL,
    theory_max_states: int = THEORY_MAX_STATES,
    orders: int | None = None,
    seed: int = 0,
) -> AdaptiveFrontier:
    """The frontier of a pool: fixed-K vote for K = 1..M (M the fewest samples of any item) against
    each rule (default :func:`default_rules`, with the best fixed K among the caps), and the calls saved
    at the best fixed K's accuracy. With ``orders`` the rules are estimated over that many random orders
    per item (:func:`sampled_estimates`, with ``seed``; no theory), fast on items with many answers, and
    compared with the fixed-K vote over the same orders.

    >>> pool = [PoolItem("a", "x", ("x", "x", "x", "x")), PoolItem("b", "x", ("x", "y", "x", "x"))]
    >>> f = adaptive_frontier(pool, ["ahead:2,max:4"])
    >>> f.best_k, f.best_accuracy, f.cheapest.rule, round(f.calls_saved, 4)
    (3, 1.0, 'ahead:2,max:4', 0.5)
    """
    if not pool:
        raise ValueError("empty pool")
    samples = min(len(it.answers) for it in pool)
    if samples == 0:
        raise ValueError("an item has no recorded answers")
    counts = [item_counts(it.answers, it.gold) for it in pool]
    ks = np.arange(1, samples + 1)
    fixed = subset_vote_curves(counts, ks).mean(axis=0)
    best = int(np.flatnonzero(fixed >= fixed.max() - 1e-12)[0])
    chosen = default_rules(samples, [best + 1]) if rules is None else [parse_rule(r) for r in rules]
    if orders is not None and theory:
        raise ValueError("the theory estimate is exact only: leave orders unset with theory=True")
    paired: tuple[float, ...] | None = None
    if orders is None:
        estimates = tuple(estimate_rules(pool, chosen, theory=theory, tol=tol, theory_max_states=theory_max_states))
        reference = fixed
    else:
        found, reference = _sampled(pool, chosen, orders, seed)
        estimates, paired = tuple(found), tuple(float(x) for x in reference)

    def cheapest(k: int) -> RuleEstimate | None:
        return _cheapest(estimates, float(reference[k - 1]))

    matches = []
    for k, acc in zip(ks, fixed, strict=True):
        m = cheapest(int(k))
        matches.append(FrontierMatch(int(k), float(acc), m.rule if m else None, m.shuffled_accuracy if m else None,
                                     m.shuffled_calls if m else None))
    return AdaptiveFrontier(name, len(pool), samples, tuple(float(x) for x in fixed), estimates, best + 1,
                            float(fixed[best]), cheapest(best + 1), tuple(matches), orders, paired)
