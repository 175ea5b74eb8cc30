"""Adaptive voting: sample an item until its vote is settled, then stop — exact theory.

Two stopping rules, each with an optional cap on the number of calls (``parse_rule`` reads them):

* ``ahead:k`` — *first-to-ahead-by-k* (Meyerson et al. 2025): stop as soon as one answer has k more
  votes than every other answer (an answer never seen has 0 votes, so k equal votes in a row stop);
* ``posterior:q`` — *adaptive consistency* (Aggarwal et al. 2023): stop as soon as the posterior
  probability that the current leader is the most likely answer is at least q. The posterior is stated
  exactly in :func:`leader_posterior`: with m distinct answers seen, counts n₁ ≥ … ≥ n_m, the answer
  probabilities of those m answers and of one bucket "any answer not seen yet" get a symmetric
  Dirichlet(1, …, 1) prior over m + 1 categories, hence the posterior Dirichlet(n₁+1, …, n_m+1, 1), and
  the rule stops when P(θ₁ > θ_j for every other category j) ≥ q. q must lie in (½, 1), so a tie for the
  lead never stops (each tied leader has posterior ≤ ½);
* ``,max:N`` — at most N calls: if the rule has not stopped by call N, the result is the plurality of
  the votes drawn, ties counting 1/t exactly as plurality vote does (:mod:`callscale.scaling.theory`),
  and no vote at all is wrong.

Abstentions (unparseable answers) cast no vote but cost a call. A stopped rule always has a unique
leader, which is its answer.

The exact theory (:func:`adaptive_vote`) is a dynamic programme over vote-count vectors, one vote at a
time, vectorised over the states alive at that vote; wrong answers of equal probability are
exchangeable, so their counts are kept sorted and merged. Because both rules look only at the votes,
the number of calls is mixed in afterwards exactly: the v-th vote arrives at call v + NegBin(v, 1 − a)
(a = abstention share), and at a cap of N calls the votes drawn are Binomial(N, 1 − a). States whose
total probability stays below ``tol`` (1e-12) may be dropped; the dropped mass, the mass still
unsettled when the programme ends and the tail of the calls distribution beyond its last entry are
reported together as ``truncated_mass``. :func:`adaptive_vote_urn` runs the same rule on a uniformly
random order of a finite pool of recorded answers (draws without replacement), the exact analogue of
the subset average of :mod:`callscale.scaling.estimate` for fixed K.

Cost grows with the number of count vectors alive at once: a few answers, or a clear leader, take
milliseconds at caps of 100; five near-tied answers followed for 100 votes keep ~10⁵–10⁶ vectors alive
and take seconds; ten or more answers of similar weight at caps of 30 take millions, so the programme
stops with :class:`StateLimitError` past ``max_states`` rather than run for minutes.

Example:
    >>> r = adaptive_vote("ahead:2", [0.8, 0.2])
    >>> round(r.accuracy, 6), round(r.expected_calls, 6)
    (0.941176, 2.941176)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import signal, special, stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

TOL = 1e-12
"""Largest probability mass the exact programmes may drop (reported as ``truncated_mass``)."""

MAX_VOTES = 20_000
"""Most votes an uncapped rule is followed for before the theory gives up (and says so)."""

MAX_STATES = 2_000_000
"""Most count vectors alive at one vote before the theory gives up (and says so)."""

_SUM_TOL = 1e-9
_PRUNE_FROM = 256  # states alive at one vote before small ones are considered for dropping
_HORIZON = 4096  # votes over which an uncapped rule spreads its pruning budget

__all__ = [
    "MAX_STATES",
    "MAX_VOTES",
    "TOL",
    "AdaptiveResult",
    "AheadRule",
    "PosteriorRule",
    "Rule",
    "StateLimitError",
    "adaptive_vote",
    "adaptive_vote_urn",
    "ahead_closed_form",
    "leader_posterior",
    "parse_rule",
    "split_distribution",
    "stop_point",
    "votes_to_stop",
]


# --------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------


def _check_cap(max_calls: int | None) -> None:
    if max_calls is not None and (isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 1):
        raise ValueError(f"max must be a whole number ≥ 1, got {max_calls!r}")


def _top_two(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Largest and second-largest entry of each row (second is 0 for a single column)."""
    if counts.shape[1] == 1:
        return counts[:, 0], np.zeros(counts.shape[0], dtype=counts.dtype)
    part = np.partition(counts, counts.shape[1] - 2, axis=1)
    return part[:, -1], part[:, -2]


@dataclass(frozen=True)
class AheadRule:
    """First-to-ahead-by-k: stop when one answer leads every other by ``k`` votes; optional cap.

    >>> AheadRule(3, 32).spec
    'ahead:3,max:32'
    >>> AheadRule(2).stop_mask(np.array([[3, 1, 0], [2, 1, 1], [2, 0, 0]])).tolist()
    [True, False, True]
    """

    k: int
    max_calls: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"ahead:k needs a whole number k ≥ 1, got {self.k!r}")
        _check_cap(self.max_calls)

    @property
    def spec(self) -> str:
        """The rule as ``parse_rule`` reads it."""
        return f"ahead:{self.k}" + ("" if self.max_calls is None else f",max:{self.max_calls}")

    def __str__(self) -> str:
        return self.spec

    def stop_mask(self, counts: ArrayLike) -> BoolArray:
        """Whether the rule stops at each row of vote counts (one column per answer)."""
        c = np.atleast_2d(np.asarray(counts, dtype=np.int64))
        top, second = _top_two(c)
        return np.asarray(top - second >= self.k, dtype=bool)


@dataclass(frozen=True)
class PosteriorRule:
    """Stop when P(the leader is the most likely answer) ≥ ``q`` (see :func:`leader_posterior`); optional cap.

    >>> PosteriorRule(0.9).stop_mask(np.array([[3, 0], [2, 1], [1, 1]])).tolist()
    [True, False, False]
    """

    q: float
    max_calls: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.q, bool) or not isinstance(self.q, int | float) or not 0.5 < self.q < 1:
            raise ValueError(f"posterior:q needs 0.5 < q < 1, got {self.q!r}")
        _check_cap(self.max_calls)

    @property
    def spec(self) -> str:
        """The rule as ``parse_rule`` reads it."""
        return f"posterior:{self.q:g}" + ("" if self.max_calls is None else f",max:{self.max_calls}")

    def __str__(self) -> str:
        return self.spec

    def stop_mask(self, counts: ArrayLike) -> BoolArray:
        """Whether the rule stops at each row of vote counts (one column per answer).

        Most rows are decided by bounds from the pairwise posteriors P(θ₁ > θ_j) = I_½(a_j, a₁) (the
        leader must beat each one, and misses by at most their sum); the rest are integrated.
        """
        c = np.atleast_2d(np.asarray(counts, dtype=np.int64))
        out = np.zeros(c.shape[0], dtype=bool)
        if c.size == 0:
            return out
        ordered = -np.sort(-c, axis=1)
        second = ordered[:, 1] if c.shape[1] > 1 else np.zeros(c.shape[0], dtype=np.int64)
        cand = np.flatnonzero(ordered[:, 0] > second)
        if cand.size == 0:
            return out
        rows = ordered[cand]
        lead = rows[:, :1] + 1.0
        comp = np.concatenate([rows[:, 1:] + 1.0, np.ones((rows.shape[0], 1))], axis=1)
        present = np.concatenate([rows[:, 1:] > 0, np.ones((rows.shape[0], 1), dtype=bool)], axis=1)
        lose = np.where(present, special.betainc(lead, comp, 0.5), 0.0)  # P(θ_j > θ₁) pairwise
        upper, lower = 1.0 - lose.max(axis=1), 1.0 - lose.sum(axis=1)
        verdict = lower >= self.q
        unsure = np.flatnonzero((lower < self.q) & (upper >= self.q))
        if unsure.size:
            verdict[unsure] = _posteriors(rows[unsure]) >= self.q
        out[cand] = verdict
        return out


Rule = AheadRule | PosteriorRule


def _whole(text: str, what: str, spec: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"rule {spec!r}: {what} must be a whole number ≥ 1, got {text.strip()!r}") from None
    if value < 1:
        raise ValueError(f"rule {spec!r}: {what} must be a whole number ≥ 1, got {value}")
    return value


def parse_rule(text: str | Rule) -> Rule:
    """Read ``ahead:k`` or ``posterior:q``, optionally followed by ``,max:N`` (a rule passes through).

    >>> parse_rule("ahead:3,max:32")
    AheadRule(k=3, max_calls=32)
    >>> parse_rule(" posterior:0.95 ")
    PosteriorRule(q=0.95, max_calls=None)
    >>> parse_rule("ahead:0")
    Traceback (most recent call last):
    ...
    ValueError: rule 'ahead:0': k must be a whole number ≥ 1, got 0
    """
    if isinstance(text, AheadRule | PosteriorRule):
        return text
    spec = text.strip()
    head, *options = (part.strip() for part in spec.split(","))
    name, _, value = (x.strip() for x in head.partition(":"))
    cap: int | None = None
    for option in options:
        key, sep, val = (x.strip() for x in option.partition(":"))
        if key.lower() != "max" or not sep:
            raise ValueError(f"rule {spec!r}: unknown option {option!r}; the only option is max:N")
        if cap is not None:
            raise ValueError(f"rule {spec!r}: max given twice")
        cap = _whole(val, "max", spec)
    if name.lower() == "ahead":
        return AheadRule(_whole(value, "k", spec), cap)
    if name.lower() == "posterior":
        try:
            q = float(value)
        except ValueError:
            raise ValueError(f"rule {spec!r}: q must be a number with 0.5 < q < 1, got {value!r}") from None
        if not 0.5 < q < 1:
            raise ValueError(f"rule {spec!r}: q must lie strictly between 0.5 and 1, got {value}")
        return PosteriorRule(q, cap)
    raise ValueError(f"unknown rule {spec!r}; use ahead:k (k ≥ 1) or posterior:q (0.5 < q < 1), optionally with ,max:N")


@lru_cache(maxsize=1 << 16)
def _stops(rule: Rule, counts: tuple[int, ...]) -> bool:
    """Whether ``rule`` stops at these vote counts (sorted in decreasing order, no zeros)."""
    return bool(rule.stop_mask(np.array([counts or (0,)], dtype=np.int64))[0])


def _sorted_counts(counts: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted((int(x) for x in counts if x > 0), reverse=True))


def stop_point(rule: Rule | str, answers: Sequence[object | None]) -> int | None:
    """How many of ``answers`` (in order; ``None`` abstains) the rule reads before it stops, ignoring its
    cap; None if it has not stopped by the last one. The live counterpart of replaying a recorded pool.

    >>> stop_point("ahead:2", ["4", None, "5", "4", "4", "6"]), stop_point("ahead:3", ["4", "4"])
    (5, None)
    """
    r = replace(parse_rule(rule), max_calls=None)
    counts: dict[object, int] = {}
    for t, a in enumerate(answers):
        if a is not None:
            counts[a] = counts.get(a, 0) + 1
            if _stops(r, _sorted_counts(counts.values())):
                return t + 1
    return None


def votes_to_stop(rule: Rule | str, counts: Iterable[int]) -> int:
    """The fewest further votes after which the rule could stop (all of them for the current leader, or
    for one answer when there is none); 0 if it stops already. Ignores the cap.

    >>> votes_to_stop("ahead:3", [2, 1]), votes_to_stop("ahead:3", []), votes_to_stop("posterior:0.9", [])
    (2, 3, 3)
    """
    r = replace(parse_rule(rule), max_calls=None)
    c = list(_sorted_counts(counts)) or [0]
    if isinstance(r, AheadRule):
        return max(0, r.k - (c[0] - (c[1] if len(c) > 1 else 0)))
    extra = 0
    while not _stops(r, _sorted_counts([c[0] + extra, *c[1:]])):  # the leader's posterior grows to 1: this ends
        extra += 1
    return extra


def leader_posterior(counts: Sequence[int]) -> float:
    """P(θ_leader > θ_j for all other j) under the posterior Dirichlet(n₁+1, …, n_m+1, 1).

    ``counts`` are the vote counts of the m distinct answers seen (any order; zeros are ignored); the
    last category, with no votes, is "any answer not seen yet". The prior is the symmetric
    Dirichlet(1, …, 1) over these m + 1 categories. The probability is
    ∫ f_{n₁+1}(x) Π_j P(a_j, x) dx over independent Gamma variables (f the gamma density, P the
    regularised lower incomplete gamma function), integrated by composite Gauss-Legendre quadrature
    (accurate to about 1e-13). One vote for a single answer gives P(Beta(2, 1) > ½) = 3/4.

    >>> round(leader_posterior((1,)), 12), round(leader_posterior((3,)), 12)
    (0.75, 0.9375)
    >>> round(leader_posterior((5, 1)), 4)
    0.926
    """
    c = np.array([sorted((int(x) for x in counts if x > 0), reverse=True)], dtype=np.int64)
    return float(_posteriors(c)[0]) if c.size else 0.0


_POSTERIOR_CACHE: dict[tuple[int, ...], float] = {}
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
_PANELS = 8


def _posteriors(rows: IntArray) -> FloatArray:
    """:func:`leader_posterior` of each row of counts sorted in decreasing order (zeros: answers not seen)."""
    keys = [tuple(int(x) for x in row if x > 0) for row in rows]
    todo = sorted({k for k in keys if k not in _POSTERIOR_CACHE})
    if len(_POSTERIOR_CACHE) + len(todo) > 1 << 20:
        _POSTERIOR_CACHE.clear()
    for start in range(0, len(todo), 512):
        chunk = todo[start : start + 512]
        width = max(len(k) for k in chunk)
        block = np.zeros((len(chunk), width), dtype=np.int64)
        for i, k in enumerate(chunk):
            block[i, : len(k)] = k
        for k, value in zip(chunk, _integrate(block), strict=True):
            _POSTERIOR_CACHE[k] = float(value)
    return np.array([_POSTERIOR_CACHE[k] for k in keys], dtype=float)


def _integrate(rows: IntArray) -> FloatArray:
    """∫ f_{a₁}(x) Π_j P(a_j, x) (1 − e^{−x}) dx for each row (a = counts + 1), by composite Gauss-Legendre
    over the bulk of the Gamma(a₁) density (each tail left out holds 1e-17)."""
    lead = rows[:, 0] + 1.0
    lo, hi = special.gammaincinv(lead, 1e-17), special.gammainccinv(lead, 1e-17)
    frac = np.linspace(0.0, 1.0, _PANELS + 1)
    edges = lo[:, None] + (hi - lo)[:, None] * frac[None, :]  # (B, P+1)
    half = np.diff(edges, axis=1) / 2.0
    mid = (edges[:, :-1] + edges[:, 1:]) / 2.0
    x = (mid[:, :, None] + half[:, :, None] * _GL_X[None, None, :]).reshape(rows.shape[0], -1)
    w = (half[:, :, None] * _GL_W[None, None, :]).reshape(rows.shape[0], -1)
    log_terms = special.xlogy(lead[:, None] - 1, x) - x - special.gammaln(lead)[:, None]
    log_terms += np.log(-np.expm1(-np.maximum(x, 1e-300)))  # the "not seen yet" bucket, Gamma(1)
    rest = rows[:, 1:]
    for count in np.unique(rest[rest > 0]):  # answers with equal counts share their factor
        times = (rest == count).sum(axis=1)
        seen = times > 0
        cdf = special.gammainc(float(count) + 1.0, x[seen])
        log_terms[seen] += times[seen, None] * np.log(np.maximum(cdf, 1e-300))
    return np.asarray(np.clip(np.sum(w * np.exp(log_terms), axis=1), 0.0, 1.0), dtype=float)


# --------------------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------------------


def split_distribution(probs: Sequence[float], abstain: float | None = None) -> tuple[tuple[float, ...], float]:
    """Answer probabilities per call (correct first) and the abstention share, checked.

    ``probs`` lists the probability of the correct answer, then of each distinct wrong answer. Without
    ``abstain`` they are shares of all calls: they must sum to at most 1 (within 1e-9) and the rest
    abstains. With ``abstain = a`` they may either sum to 1 — the distribution of the answer *given* that
    the call answers, scaled by 1 − a — or already to 1 − a (within 1e-9). Negative values are errors.

    >>> split_distribution([0.5, 0.25])
    ((0.5, 0.25), 0.25)
    >>> split_distribution([0.5, 0.5], abstain=0.5)
    ((0.25, 0.25), 0.5)
    """
    p = [float(x) for x in probs]
    if not p:
        raise ValueError("the distribution needs at least the probability of the correct answer")
    if any(not math.isfinite(x) or x < 0 for x in p):
        raise ValueError(f"probabilities must be finite and non-negative, got {p}")
    total = math.fsum(p)
    if abstain is None:
        if total > 1 + _SUM_TOL:
            raise ValueError(f"probabilities sum to {total:.12g} > 1")
        return tuple(p), max(0.0, 1.0 - total)
    a = float(abstain)
    if not math.isfinite(a) or not 0 <= a <= 1:
        raise ValueError(f"the abstention share must lie in [0, 1], got {abstain}")
    if abs(total - 1.0) <= _SUM_TOL:
        return tuple(x * (1.0 - a) for x in p), a
    if abs(total + a - 1.0) <= _SUM_TOL:
        return tuple(p), a
    if total > 1 + _SUM_TOL:
        raise ValueError(f"probabilities sum to {total:.12g} > 1")
    raise ValueError(f"with abstention {a:g} the probabilities must sum to 1 or to {1 - a:.12g}, got {total:.12g}")


def ahead_closed_form(p: float, k: int, abstain: float = 0.0) -> tuple[float, float]:
    """Accuracy and expected calls of uncapped ``ahead:k`` with two answers (gambler's ruin).

    With p the probability of the correct answer among votes and r = (1 − p)/p: accuracy 1/(1 + r^k),
    expected votes k/(2p − 1)·(1 − r^k)/(1 + r^k) (k² at p = ½); each vote costs 1/(1 − a) calls.

    >>> ahead_closed_form(0.5, 3)
    (0.5, 9.0)
    >>> tuple(round(x, 6) for x in ahead_closed_form(0.8, 2, abstain=0.5))
    (0.941176, 5.882353)
    """
    if not 0 <= p <= 1 or not 0 <= abstain < 1 or k < 1:
        raise ValueError("need 0 ≤ p ≤ 1, 0 ≤ abstain < 1 and k ≥ 1")
    if p in (0.0, 1.0):
        return p, k / (1.0 - abstain)
    if abs(p - 0.5) < 1e-15:
        return 0.5, k * k / (1.0 - abstain)
    log_rk = k * (math.log1p(-p) - math.log(p))
    acc = special.expit(-log_rk)  # 1 / (1 + r^k) without overflow
    votes = k / (2 * p - 1) * math.tanh(-log_rk / 2)  # (1 − r^k)/(1 + r^k)
    return float(acc), votes / (1.0 - abstain)


# --------------------------------------------------------------------------------------------------
# The vote programme
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Process:
    """Mass by number of votes v = 0..v_last: stopping at v (and correctly), alive after v, pruned at v."""

    stop: FloatArray
    stop_ok: FloatArray
    live: FloatArray
    live_ok: FloatArray
    pruned: FloatArray

    @property
    def last(self) -> int:
        """The last number of votes followed."""
        return int(self.stop.size - 1)

    def upto(self, votes: int) -> _Process:
        """The process followed to at most ``votes`` votes."""
        n = votes + 1
        return _Process(self.stop[:n], self.stop_ok[:n], self.live[:n], self.live_ok[:n], self.pruned[:n])


def _columns(weights: Sequence[float] | FloatArray) -> tuple[FloatArray, list[tuple[int, int]]]:
    """Correct first, then the drawable wrong answers by decreasing weight; runs of equal weight grouped."""
    w = np.asarray(weights, dtype=float)
    wrong = np.sort(w[1:][w[1:] > 0])[::-1]
    cols = np.concatenate([w[:1], wrong])
    groups = [(0, 1)]
    start = 1
    for j in range(2, cols.size + 1):
        if j == cols.size or cols[j] != cols[start]:
            groups.append((start, j))
            start = j
    return cols, [g for g in groups if g[1] > g[0]]


def _merge_keys(keys: IntArray, w: FloatArray, flag: BoolArray) -> tuple[IntArray, IntArray, FloatArray, BoolArray]:
    """Merge successor states identified by keys (a few sorted runs): for each distinct key, the index
    of its first successor, the key, the summed weight and the OR of the flags — sorted by key."""
    order = np.argsort(keys, kind="stable")  # timsort merges the sorted runs in linear time
    ordered = keys[order]
    starts = np.concatenate([[0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1])
    return (order[starts], ordered[starts], np.add.reduceat(w[order], starts),
            np.logical_or.reduceat(flag[order], starts))


def _merge_rows(rows: IntArray, w: FloatArray, flag: BoolArray) -> tuple[IntArray, FloatArray, BoolArray]:
    """Merge identical rows: the distinct rows, their summed weights and the OR of their flags."""
    _, first, inv = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    inv = np.ravel(inv)
    merged = np.asarray(np.bincount(inv, weights=w, minlength=first.size), dtype=float)
    return rows[first], merged, np.bincount(inv, weights=flag, minlength=first.size) > 0


def _prune(prob: FloatArray, allowance: float) -> BoolArray | None:
    """Mask of the states to keep after dropping the least likely ones, at most ``allowance`` in all."""
    cand = np.flatnonzero(prob <= allowance)
    if cand.size == 0:
        return None
    order = cand[np.argsort(prob[cand])]
    gone = order[np.cumsum(prob[order]) <= allowance]
    if gone.size == 0:
        return None
    keep = np.ones(prob.size, dtype=bool)
    keep[gone] = False
    return keep


def _plurality_share(rows: IntArray) -> FloatArray:
    """Credit of the correct answer (column 0) in a plurality vote: 1/t if among t tied leaders."""
    top = rows.max(axis=1)
    ties = (rows == top[:, None]).sum(axis=1)
    return np.where((rows[:, 0] == top) & (top > 0), 1.0 / ties, 0.0)


class StateLimitError(ValueError):
    """The exact programme would follow more count vectors than allowed."""


def _vote_process(
    rule: Rule, weights: Sequence[float] | FloatArray, *, urn: bool, v_max: int, tol: float, max_states: int | None = MAX_STATES
) -> _Process:
    """Follow the rule vote by vote up to ``v_max`` votes (or until the unsettled mass is below tol/4).

    ``weights`` are vote probabilities (correct first; summing to 1) or, with ``urn``, the numbers of
    recorded votes for each answer, drawn without replacement. States are count vectors (wrong answers of
    equal weight kept in decreasing order), identified by a mixed-radix key when it fits in 62 bits.
    """
    cols, groups = _columns(weights)
    wide = [(start, end) for start, end in groups if end - start > 1]
    total = float(cols.sum())
    bound = np.minimum(cols, v_max) if urn else np.full(cols.size, v_max, dtype=float)
    use_keys = float(np.sum(np.log2(bound + 1.0))) < 62
    radix = np.concatenate([[1], np.cumprod((bound[:-1] + 1).astype(np.int64))]).astype(np.int64)
    dtype = np.int16 if v_max < 2**15 - 1 else np.int64
    rows = np.zeros((1, cols.size), dtype=dtype)
    keys: IntArray | None = np.zeros(1, dtype=np.int64) if use_keys else None
    prob = np.ones(1)
    stop, stop_ok, live, live_ok, pruned = ([0.0] for _ in range(5))
    live[0] = 1.0
    budget = tol / 2.0  # most mass all pruning may drop together, spread over the votes to come
    for v in range(1, v_max + 1):
        # Every state draws each answer; of the wrong answers in one group of equal weight, only the first
        # with a given count is drawn, standing for all of them (the group stays in decreasing order).
        col = rows.astype(np.float64)
        w = (cols[None, :] - col) / (total - (v - 1)) if urn else np.broadcast_to(cols[None, :], col.shape)
        w = w * prob[:, None]
        first = np.ones(rows.shape, dtype=bool)
        for start, end in wide:
            block = rows[:, start:end]
            first[:, start + 1 : end] = block[:, 1:] != block[:, :-1]
            w[:, start:end] *= (block[:, :, None] == block[:, None, :]).sum(axis=2)
        draw = (first & (w > 0)).T  # answer-major, so each answer's successor keys stay sorted
        j_idx, s_idx = np.nonzero(draw)
        if s_idx.size == 0:
            break
        if max_states is not None and s_idx.size > max_states * 8:
            raise StateLimitError(f"{rule.spec}: more than {max_states} vote-count states after {v - 1} votes; "
                                  "give it a lower cap (max:N) or fewer answers")
        # A vote for an answer that was not leading cannot settle a rule that was not settled (the
        # leader's lead over the rest, and its posterior, can only shrink): only the others are checked.
        led = rows.T[draw] < rows.max(axis=1)[s_idx]
        if keys is not None:
            rep, keys, prob, known_live = _merge_keys(keys[s_idx] + radix[j_idx], w.T[draw], led)
            s_idx, j_idx = s_idx[rep], j_idx[rep]
            rows = rows[s_idx]
            rows[np.arange(s_idx.size), j_idx] += 1
        else:
            grown = rows[s_idx]
            grown[np.arange(s_idx.size), j_idx] += 1
            rows, prob, known_live = _merge_rows(grown, w.T[draw], led)
        settled = np.zeros(rows.shape[0], dtype=bool)
        check = np.flatnonzero(~known_live)
        if check.size:
            settled[check] = rule.stop_mask(rows[check])
        credit = _plurality_share(rows)
        stop.append(float(prob[settled].sum()))
        stop_ok.append(float((prob * credit)[settled].sum()))
        alive = ~settled
        dropped = 0.0
        if prob.size > _PRUNE_FROM:
            steps_left = v_max - v + 1 if v_max <= _HORIZON else max(_HORIZON - v + 1, 64)
            allowance = (budget - math.fsum(pruned)) / steps_left  # unused allowance carries over
            keep_mask = _prune(np.where(alive, prob, np.inf), allowance)
            if keep_mask is not None:
                dropped = float(prob[alive & ~keep_mask].sum())
                alive &= keep_mask
        rows, prob, credit = rows[alive], prob[alive], credit[alive]
        keys = keys[alive] if keys is not None else None
        if max_states is not None and rows.shape[0] > max_states:
            raise StateLimitError(f"{rule.spec}: more than {max_states} vote-count states after {v} votes; "
                                  "give it a lower cap (max:N) or fewer answers")
        pruned.append(dropped)
        live.append(float(prob.sum()))
        live_ok.append(float((prob * credit).sum()))
        if live[-1] == 0.0 or (live[-1] < tol / 4 and v < v_max):
            break
    return _Process(*(np.asarray(x, dtype=float) for x in (stop, stop_ok, live, live_ok, pruned)))


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdaptiveResult:
    """Exact behaviour of one adaptive rule on one answer distribution.

    ``calls_pmf[t]`` is P(the rule makes t calls); ``unsettled`` is P(the cap — or, for a pool, the end
    of the pool — came before the rule stopped); ``truncated_mass`` bounds the probability left out.

    >>> r = adaptive_vote("ahead:1,max:3", [0.5, 0.0], abstain=0.5)
    >>> [round(x, 12) for x in r.calls_pmf], round(r.unsettled, 12), r.quantile(0.5), r.quantile(0.9)
    ([0.0, 0.5, 0.25, 0.25], 0.125, 1, 3)
    """

    rule: str
    probs: tuple[float, ...]
    abstain: float
    accuracy: float
    expected_calls: float
    calls_pmf: tuple[float, ...]
    unsettled: float
    truncated_mass: float

    def quantile(self, level: float) -> int:
        """Smallest number of calls t with P(calls ≤ t) ≥ ``level``."""
        if not 0 < level <= 1:
            raise ValueError("level must lie in (0, 1]")
        cdf = np.cumsum(self.calls_pmf)
        hit = np.flatnonzero(cdf >= level - 1e-12)
        return int(hit[0]) if hit.size else len(self.calls_pmf) - 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, with the median, 90 % and 99 % quantiles of the calls."""
        return {
            "rule": self.rule,
            "probs": list(self.probs),
            "abstain": self.abstain,
            "accuracy": self.accuracy,
            "expected_calls": self.expected_calls,
            "calls_quantiles": {"median": self.quantile(0.5), "p90": self.quantile(0.9), "p99": self.quantile(0.99)},
            "unsettled": self.unsettled,
            "truncated_mass": self.truncated_mass,
            "calls_pmf": list(self.calls_pmf),
        }


def _nbinom_matrix(v_last: int, t_last: int, a: float) -> FloatArray:
    """P(the v-th vote comes at call t), v = 0..v_last, t = 0..t_last (abstention share a)."""
    v = np.arange(v_last + 1)[:, None]
    t = np.arange(t_last + 1)[None, :]
    out = np.where(t >= v, stats.nbinom.pmf(np.maximum(t - v, 0), np.maximum(v, 1), 1.0 - a), 0.0)
    out[0] = 0.0
    out[0, 0] = 1.0
    return np.asarray(out, dtype=float)


def _mix_replacement(proc: _Process, a: float, cap: int | None, tol: float) -> tuple[FloatArray, float, float, float]:
    """Calls pmf, accuracy, unsettled mass and truncated mass for i.i.d. calls with abstention share a."""
    v_last = proc.last
    truncated = float(proc.pruned.sum())
    if cap is None:
        truncated += float(proc.live[-1])
        if a == 0.0:
            pmf = proc.stop.copy()
        else:
            t_last = v_last + int(stats.nbinom.isf(tol / 4, max(v_last, 1), 1.0 - a)) + 1
            acc = np.zeros(t_last + 1)
            for v in range(v_last, 0, -1):
                acc[0] += proc.stop[v]
                acc = signal.lfilter([0.0, 1.0 - a], [1.0, -a], acc)
            pmf = acc
            votes = np.arange(1, v_last + 1)
            truncated += float(np.sum(proc.stop[1:] * stats.nbinom.sf(t_last - votes, votes, 1.0 - a)))
        return pmf, float(proc.stop_ok.sum()), 0.0, truncated
    if v_last < cap:  # the programme ended early: what was still alive is negligible
        truncated += float(proc.live[-1])
    live = np.zeros(cap + 1)
    live_ok = np.zeros(cap + 1)
    live[: v_last + 1], live_ok[: v_last + 1] = proc.live, proc.live_ok
    if a == 0.0:
        pmf = np.zeros(cap + 1)
        pmf[: v_last + 1] = proc.stop
        pmf[cap] += live[cap]
        return pmf, float(proc.stop_ok.sum() + live_ok[cap]), float(live[cap]), truncated
    timing = _nbinom_matrix(v_last, cap, a)
    pmf = proc.stop @ timing
    votes_at_cap = stats.binom.pmf(np.arange(cap + 1), cap, 1.0 - a)
    unsettled = float(live @ votes_at_cap)
    pmf[cap] += unsettled
    reached = stats.binom.sf(np.arange(v_last + 1) - 1, cap, 1.0 - a)  # P(v-th vote by call cap)
    accuracy = float(proc.stop_ok @ reached + live_ok @ votes_at_cap)
    return pmf, accuracy, unsettled, truncated


def adaptive_vote(
    rule: Rule | str,
    probs: Sequence[float],
    abstain: float | None = None,
    *,
    tol: float = TOL,
    max_votes: int = MAX_VOTES,
    max_states: int | None = MAX_STATES,
) -> AdaptiveResult:
    """Exact accuracy, expected calls and distribution of calls of an adaptive rule.

    ``probs`` and ``abstain`` are read by :func:`split_distribution` (correct answer first). Without a
    cap the rule is followed until less than ``tol`` of the probability is unsettled; if that takes more
    than ``max_votes`` votes (or every call abstains) a ValueError says so, and a :class:`StateLimitError`
    when more than ``max_states`` count vectors would be alive at once (many answers of similar weight
    followed for many votes).

    >>> r = adaptive_vote("ahead:3,max:20", [0.5, 0.3, 0.2])
    >>> round(r.accuracy, 4), round(r.expected_calls, 3), r.quantile(0.5), round(r.unsettled, 4)
    (0.7824, 10.119, 9, 0.1172)
    """
    rule = parse_rule(rule)
    p, a = split_distribution(probs, abstain)
    cap = rule.max_calls
    if a >= 1.0 - 1e-15 or sum(p) <= 0:
        if cap is None:
            raise ValueError("every call abstains, so an uncapped rule never stops; give it a cap (max:N)")
        return _all_abstain(rule, p, a, cap)
    proc = _vote_process(rule, np.asarray(p) / sum(p), urn=False, v_max=max_votes if cap is None else cap, tol=tol,
                         max_states=max_states)
    result = _replacement_result(rule, proc, p, a, tol)
    if result.truncated_mass > tol * 1.0001:
        raise ValueError(f"{rule.spec} is still unsettled with probability {result.truncated_mass:.3g} after "
                         f"{proc.last} votes; give it a cap (max:N)")
    return result


def _all_abstain(rule: Rule, p: tuple[float, ...], a: float, cap: int) -> AdaptiveResult:
    pmf = np.zeros(cap + 1)
    pmf[cap] = 1.0
    return AdaptiveResult(rule.spec, p, a, 0.0, float(cap), tuple(pmf.tolist()), 1.0, 0.0)


def _replacement_result(rule: Rule, proc: _Process, p: tuple[float, ...], a: float, tol: float) -> AdaptiveResult:
    """The record of ``rule`` (its cap applied here) from the vote process of its uncapped version."""
    cap = rule.max_calls
    if cap is not None:
        proc = proc.upto(cap)
    pmf, accuracy, unsettled, truncated = _mix_replacement(proc, a, cap, tol)
    # Uncapped: Wald's identity, E[calls] = E[votes]/(1 − a); capped: from the distribution.
    votes = float(np.arange(proc.last + 1) @ proc.stop)
    expected = votes / (1.0 - a) if cap is None else float(np.arange(pmf.size) @ pmf)
    pmf = np.clip(pmf, 0.0, 1.0)
    return AdaptiveResult(rule.spec, p, a, min(1.0, accuracy), expected, tuple(pmf.tolist()), unsettled, truncated)


def adaptive_vote_urn(
    rule: Rule | str, counts: Sequence[int], abstain: int = 0, *, tol: float = TOL, max_states: int | None = MAX_STATES
) -> AdaptiveResult:
    """The rule run on a uniformly random order of a finite pool of answers (no replacement).

    ``counts`` holds how often the pool has the correct answer, then each distinct wrong answer;
    ``abstain`` how many samples abstain. This is the average, over every order of the pool, of what
    replaying the rule along that order gives: it stops when the rule stops, at the cap, or when the
    pool of M samples runs out (then the plurality of all M decides, and it made M calls). Such runs
    count as ``unsettled``.

    >>> r = adaptive_vote_urn("ahead:2", [2, 1])
    >>> round(r.accuracy, 4), round(r.expected_calls, 4), [round(x, 4) for x in r.calls_pmf]
    (1.0, 2.6667, [0.0, 0.0, 0.3333, 0.6667])
    """
    rule = parse_rule(rule)
    m = [int(c) for c in counts]
    if not m or any(c < 0 for c in m) or abstain < 0:
        raise ValueError("counts must be non-negative, correct answer first")
    size = sum(m) + int(abstain)
    if size == 0:
        raise ValueError("empty pool")
    cap = size if rule.max_calls is None else min(rule.max_calls, size)
    proc = _vote_process(rule, [float(c) for c in m], urn=True, v_max=min(sum(m), cap), tol=tol, max_states=max_states)
    return _urn_result(rule, proc, m, int(abstain))


@lru_cache(maxsize=4096)
def _urn_timing(size: int, n_votes: int, cap: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For a random order of ``size`` samples of which ``n_votes`` vote, and v = 0..min(n_votes, cap):
    P(the v-th vote is call t) for t = 0..cap, P(v votes among the first ``cap`` calls), P(≥ v of them)."""
    v = np.arange(min(n_votes, cap) + 1)
    t = np.arange(cap + 1)
    # v − 1 votes among the first t − 1 samples, then a vote.
    with np.errstate(divide="ignore", invalid="ignore"):
        timing = stats.hypergeom.pmf(v[:, None] - 1, size, n_votes, t[None, :] - 1) * np.where(
            t[None, :] >= 1, (n_votes - v[:, None] + 1) / np.maximum(size - t[None, :] + 1, 1), 0.0
        )
    timing = np.nan_to_num(timing)
    timing[0] = 0.0
    out = (timing, stats.hypergeom.pmf(v, size, n_votes, cap), stats.hypergeom.sf(v - 1, size, n_votes, cap))
    for x in out:
        x.flags.writeable = False
    return out


def _urn_result(rule: Rule, proc: _Process, m: Sequence[int], abstain: int) -> AdaptiveResult:
    """The record of ``rule`` on a random order of the pool, from the urn process of its uncapped version."""
    n_votes = sum(m)
    size = n_votes + abstain
    cap = size if rule.max_calls is None else min(rule.max_calls, size)
    proc = proc.upto(min(n_votes, cap))
    v_last = proc.last
    t = np.arange(cap + 1)
    timing, votes_at_cap, reached = (x[: v_last + 1] for x in _urn_timing(size, n_votes, cap))
    pmf = proc.stop @ timing
    unsettled = float(proc.live @ votes_at_cap)
    pmf[cap] += unsettled
    accuracy = float(proc.stop_ok @ reached + proc.live_ok @ votes_at_cap)
    truncated = float(proc.pruned.sum()) + (float(proc.live[-1]) if v_last < min(n_votes, cap) else 0.0)
    pmf = np.clip(pmf, 0.0, 1.0)
    return AdaptiveResult(rule.spec, tuple(c / size for c in m), abstain / size, min(1.0, accuracy), float(t @ pmf),
                          tuple(pmf.tolist()), unsettled, truncated)
