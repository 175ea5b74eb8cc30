"""Brute-force references for the scaling tests: enumeration and Monte Carlo of the vote rule."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np


def vote_credit(answers: Sequence[Hashable | None], gold: Hashable) -> float:
    """Credit of one plurality vote: abstains (None) cast no vote, all-abstain scores 0, a t-way tie
    that includes the gold answer scores 1/t."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return 0.0
    top = max(counts.values())
    if counts.get(gold, 0) != top:
        return 0.0
    return 1.0 / sum(1 for v in counts.values() if v == top)


def enumerate_vote(
    p_correct: float, p_wrong: Sequence[float], p_abstain: float, p_diffuse: float, k: int
) -> float:
    """Exact accuracy by enumerating all (J+3)^K answer sequences; every diffuse draw is a new answer."""
    probs = [p_correct, *p_wrong, p_abstain, p_diffuse]
    n_wrong = len(p_wrong)
    total = 0.0
    for seq in itertools.product(range(len(probs)), repeat=k):
        pr = math.prod(probs[s] for s in seq)
        if pr == 0.0:
            continue
        answers: list[Hashable | None] = []
        for pos, s in enumerate(seq):
            if s == 0:
                answers.append("gold")
            elif s <= n_wrong:
                answers.append(f"w{s}")
            elif s == n_wrong + 1:
                answers.append(None)
            else:
                answers.append(f"diffuse{pos}")
        total += pr * vote_credit(answers, "gold")
    return total


def monte_carlo_vote(
    rng: np.random.Generator, p_correct: float, p_wrong: Sequence[float], k: int, trials: int
) -> tuple[float, float]:
    """Monte Carlo accuracy (mean, standard error) of plurality vote from multinomial counts."""
    probs = np.array([p_correct, *p_wrong, max(0.0, 1.0 - p_correct - sum(p_wrong))])
    counts = rng.multinomial(k, probs / probs.sum(), size=trials)
    votes = counts[:, :-1]
    top = votes.max(axis=1)
    ties = (votes == top[:, None]).sum(axis=1)
    credit = np.where((votes[:, 0] == top) & (top > 0), 1.0 / ties, 0.0)
    return float(credit.mean()), float(credit.std(ddof=1) / math.sqrt(trials))


def subsets_vote(answers: Sequence[Hashable | None], gold: Hashable, k: int) -> float:
    """Exact average vote credit over all size-k subsets of a pool."""
    subsets = list(itertools.combinations(range(len(answers)), k))
    return sum(vote_credit([answers[i] for i in s], gold) for s in subsets) / len(subsets)


def pass_at_k_brute(n: int, c: int, k: int) -> float:
    """Fraction of size-k subsets of n samples (c correct) that contain a correct one."""
    pool = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(1 for s in subsets if any(pool[i] for i in s)) / len(subsets)
