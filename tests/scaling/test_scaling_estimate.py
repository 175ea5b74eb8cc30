"""Tests of callscale.scaling.estimate against enumeration of subsets and closed forms."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scaling_bruteforce import pass_at_k_brute, subsets_vote

from callscale.scaling.estimate import (
    ItemCounts,
    PoolItem,
    coverage_curve,
    difficulty_split,
    distribution_from_logprobs,
    empirical_distribution,
    item_counts,
    pass_at_k,
    pool_counts,
    pool_vote_curve,
    read_pool_jsonl,
    subset_vote_accuracy,
    subset_vote_curves,
)
from callscale.scaling.theory import vote_accuracy


def _random_pool(rng: np.random.Generator, size: int) -> list[str | None]:
    labels: list[str | None] = ["gold", "a", "b", "c", None]
    probs = rng.dirichlet(np.ones(len(labels)))
    return [labels[i] for i in rng.choice(len(labels), size=size, p=probs)]


@pytest.mark.parametrize("seed", range(25))
def test_subset_average_equals_enumeration_of_subsets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    answers = _random_pool(rng, int(rng.integers(1, 10)))
    counts = item_counts(answers, "gold")
    ks = np.arange(1, len(answers) + 1)
    exact = subset_vote_accuracy(counts, ks)
    brute = [subsets_vote(answers, "gold", int(k)) for k in ks]
    np.testing.assert_allclose(exact, brute, rtol=0, atol=1e-12)


def test_subset_average_with_ties_and_abstains_by_hand() -> None:
    # pool: gold, gold, x, x, y, None; K = 6 is the whole pool: a 2-way tie → 1/2
    counts = ItemCounts(2, (2, 1), 1)
    assert subset_vote_accuracy(counts, 6)[0] == pytest.approx(0.5)
    # K = 1: fraction correct
    assert subset_vote_accuracy(counts, 1)[0] == pytest.approx(2 / 6)
    assert subset_vote_accuracy(ItemCounts(0, (3,), 2), [1, 5]).tolist() == [0.0, 0.0]
    assert subset_vote_accuracy(ItemCounts(1, (), 4), [1, 3, 5]).tolist() == pytest.approx([0.2, 0.6, 1.0])
    with pytest.raises(ValueError):
        subset_vote_accuracy(counts, 7)


def test_subset_average_is_unbiased_for_the_vote_formula() -> None:
    """Averaged over random pools, the subset estimate equals the exact i.i.d. accuracy."""
    rng = np.random.default_rng(4)
    probs = [0.35, 0.3, 0.15, 0.2]  # gold, a, b, abstain
    labels: list[str | None] = ["gold", "a", "b", None]
    ks = np.array([1, 2, 5, 11])
    estimates = np.array(
        [
            subset_vote_accuracy(item_counts([labels[i] for i in rng.choice(4, 12, p=probs)], "gold"), ks)
            for _ in range(3000)
        ]
    )
    exact = vote_accuracy(0.35, [0.3, 0.15], ks, p_abstain=0.2)
    se = estimates.std(axis=0) / math.sqrt(len(estimates))
    assert np.all(np.abs(estimates.mean(axis=0) - exact) < 4.5 * se + 1e-9)


def test_curves_and_pool_curve() -> None:
    pool = [PoolItem("1", "x", ("x", "y", "x", None)), PoolItem("2", "x", ("y", "y", "z", "x"))]
    counts = pool_counts(pool)
    curves = subset_vote_curves(counts, [1, 2, 3, 4])
    assert curves.shape == (2, 4)
    np.testing.assert_allclose(pool_vote_curve(pool, [1, 2, 3, 4]), curves.mean(axis=0))
    for item, row in zip(pool, curves, strict=True):
        assert row.tolist() == pytest.approx([subsets_vote(item.answers, "x", k) for k in range(1, 5)])
    assert pool_counts(pool, n_samples=2)[1] == ItemCounts(0, (2,), 0)


@pytest.mark.parametrize(("n", "c"), [(1, 0), (1, 1), (5, 2), (8, 0), (8, 3), (9, 9), (10, 1)])
def test_pass_at_k_equals_enumeration(n: int, c: int) -> None:
    ks = np.arange(1, n + 1)
    brute = [pass_at_k_brute(n, c, int(k)) for k in ks]
    np.testing.assert_allclose(pass_at_k(n, c, ks), brute, rtol=0, atol=1e-12)
    product = [1 - math.prod((n - c - i) / (n - i) for i in range(k)) for k in ks]
    np.testing.assert_allclose(pass_at_k(n, c, ks), product, rtol=0, atol=1e-12)


def test_pass_at_k_vectorised_and_large() -> None:
    n = np.array([100, 200, 1000])[:, None]
    c = np.array([3, 50, 1])[:, None]
    k = np.array([1, 10, 100])[None, :]
    out = pass_at_k(n, c, k)
    assert out.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            ni, ci, kj = int(n[i, 0]), int(c[i, 0]), int(k[0, j])
            assert out[i, j] == pytest.approx(1 - math.comb(ni - ci, kj) / math.comb(ni, kj), abs=1e-12)
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    cov = coverage_curve([ItemCounts(2, (3,)), ItemCounts(0, (5,))], [1, 5])
    assert cov.tolist() == pytest.approx([0.2, 0.5])


def test_counts_distribution_and_difficulty() -> None:
    counts = item_counts(
        [" 4", "5", "4", None, "x"], "4", normalize=lambda a: a.strip() if a.strip().isdigit() else None
    )
    assert counts == ItemCounts(2, (1,), 2)
    dist = empirical_distribution(["b", "a", "b", None], "a")
    assert dist.p_correct == 0.25 and dist.p_wrong == (0.5,) and dist.wrong_answers == ("b",)
    assert dist.difficulty == pytest.approx(0.25) and dist.is_hard
    split = difficulty_split([ItemCounts(3, (1,)), ItemCounts(1, (2, 1)), ItemCounts(1, (1,)), dist])
    assert split.easy.tolist() == [True, False, False, False]
    assert split.hard.tolist() == [False, True, False, True]
    assert split.difficulty[0] == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        ItemCounts(1, (1, 2))


def test_distribution_from_logprobs() -> None:
    letters = {"A", "B", "C"}

    def norm(t: str) -> str | None:
        return t.strip() if t.strip() in letters else None

    lp = {
        "A": math.log(0.5),
        " A": math.log(0.1),
        "B": math.log(0.2),
        "C": math.log(0.1),
        "?": math.log(0.05),
    }
    d1 = distribution_from_logprobs(lp, "A", temperature=1.0, normalize=norm)
    z = 0.95
    assert d1.p_correct == pytest.approx(0.6 / z)
    assert dict(zip(d1.wrong_answers, d1.p_wrong, strict=True)) == pytest.approx({"B": 0.2 / z, "C": 0.1 / z})
    assert d1.p_abstain == pytest.approx(0.05 / z)
    d_half = distribution_from_logprobs(list(lp.items()), "A", temperature=0.5, normalize=norm)
    sq = {k: math.exp(v) ** 2 for k, v in lp.items()}
    assert d_half.p_correct == pytest.approx((sq["A"] + sq[" A"]) / sum(sq.values()))
    greedy = distribution_from_logprobs(lp, "B", temperature=0.0, normalize=norm)
    assert greedy.p_correct == 0.0 and greedy.p_wrong == (1.0,)
    hot = distribution_from_logprobs(lp, "A", temperature=1e6, normalize=norm)
    assert hot.p_correct == pytest.approx(2 / 5, rel=1e-4)


def test_read_pool_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "pool.jsonl"
    rows = [{"id": 1, "gold": "7", "answers": ["7", None, "8"]}, {"id": "b", "gold": "x", "answers": []}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    pool = read_pool_jsonl(path)
    assert pool == [PoolItem("1", "7", ("7", None, "8")), PoolItem("b", "x", ())]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        read_pool_jsonl(bad)
