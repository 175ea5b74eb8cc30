"""Budget formula, primitive cost, exact counting, enumeration and uniform sampling."""

from __future__ import annotations

import collections
import random
from fractions import Fraction

import pytest

from callscale.costs import agentts_stage_budget
from callscale.records import ModelCard
from callscale.search.budget import (
    FeasibleSampler,
    count_within,
    count_within_brute_force,
    enumerate_within,
)
from callscale.search.environments.simulated import PAPER_BUDGETS, agentts_space
from callscale.search.space import Config, PrimitiveCost, Space, Stage, primitive_stage_cost


def test_agentts_budget_reproduces_the_paper_checks() -> None:
    assert agentts_stage_budget(72_000_000_000, 2048, 128, 1) == 814
    assert agentts_stage_budget(3_000_000_000, 256, 64, 50) == 52
    assert agentts_stage_budget(3_000_000_000, 256, 64, 15) == 17


def test_agentts_budget_is_exact_and_affine_in_samples() -> None:
    b1 = agentts_stage_budget(7_000_000_000, 256, 64, 1)
    b2 = agentts_stage_budget(7_000_000_000, 256, 64, 2)
    assert isinstance(b1, Fraction) and b1 == Fraction(29, 3)
    assert b2 - b1 == Fraction(7, 3)  # α·N_d / 64
    with pytest.raises(ValueError):
        agentts_stage_budget(3_000_000_000, 256, 64, 0)


def test_primitive_cost_counts_generations_and_fusion() -> None:
    # one sample: no fusion call; m·(N_p + N_d)
    assert primitive_stage_cost(1000, 256, 64, 1) == 1000 * 320
    # S samples + fusion (reads prompt and S drafts, decodes N_d)
    assert primitive_stage_cost(1000, 256, 64, 4) == 1000 * (4 * 320 + 256 + 4 * 64 + 64)
    assert primitive_stage_cost(1000, 256, 64, 4, fusion=False) == 1000 * 4 * 320


def test_space_with_primitive_cost_model() -> None:
    m = ModelCard("tiny", 100)
    space = Space((Stage("s", (m,), (1, 2), 10, 5),), PrimitiveCost())
    assert space.cost(Config.of(("tiny", 2))) == 100 * (2 * 15 + 10 + 10 + 5)
    assert space.count(100 * 15) == 1


@pytest.mark.parametrize("seed", range(12))
def test_dp_count_matches_brute_force_on_random_spaces(seed: int) -> None:
    rng = random.Random(seed)
    n_stages = rng.randint(1, 4)
    costs = [[Fraction(rng.randint(1, 40), rng.choice((1, 2, 3))) for _ in range(rng.randint(1, 6))] for _ in range(n_stages)]
    for budget in (0, 5, Fraction(37, 3), 20, 41, 100, 1000):
        assert count_within(costs, budget) == count_within_brute_force(costs, budget)
        enumerated = list(enumerate_within(costs, budget))
        assert len(enumerated) == len(set(enumerated)) == count_within(costs, budget)
        assert all(sum(costs[i][j] for i, j in enumerate(idx)) <= budget for idx in enumerated)


def test_agentts_space_count_matches_brute_force() -> None:
    space = agentts_space()
    # one pass over all 62,500 configurations, exact rational costs
    totals = [a + b for a in space.option_costs[0] for b in space.option_costs[1]]
    assert len(totals) == space.size
    for budget in (*PAPER_BUDGETS, 814, Fraction(2483, 3)):
        n = space.count(budget)
        assert n == sum(1 for t in totals if t <= budget)
        assert 0 < n < space.size
    assert space.count(850) == space.count_brute_force(850)


def test_enumeration_is_a_generator_of_in_budget_configs() -> None:
    space = agentts_space()
    gen = space.enumerate(500)
    first = next(gen)
    assert isinstance(first, Config) and space.within(first, 500)
    assert sum(1 for _ in gen) + 1 == space.count(500)


def test_boundary_is_inclusive_and_exact() -> None:
    space = agentts_space()
    config = Config.of(("72B", 1), ("3B", 15))  # 814 + 17 = 831 exactly
    assert space.cost(config) == 831
    assert space.within(config, 831)
    assert not space.within(config, Fraction(8309999, 10000))
    # 7B QA costs are thirds: 814 + (7/3·(4+S) − 2) — exact comparison at a thirds boundary
    c7 = Config.of(("72B", 1), ("7B", 2))
    assert space.cost(c7) == Fraction(814) + Fraction(7, 3) * 6 - 2
    assert space.within(c7, space.cost(c7))


def test_uniform_sampler_is_uniform() -> None:
    costs = [[1, 2, 3], [1, 2], [0, 5]]
    sampler = FeasibleSampler(costs, 5)
    draws = collections.Counter(sampler.sample(random.Random(0), 6000))
    assert set(draws) == set(enumerate_within(costs, 5))
    assert max(draws.values()) - min(draws.values()) < 200  # 1000 expected each


def test_sampler_on_agentts_space_stays_within_budget() -> None:
    space = agentts_space()
    configs = space.sample(random.Random(1), 900, k=200)
    assert len(configs) == 200 and all(space.within(c, 900) for c in configs)
    assert space.sample(random.Random(1), 10, k=3) == []  # nothing fits
