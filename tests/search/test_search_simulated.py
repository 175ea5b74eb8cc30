"""The simulated AgentTTS benchmark: its optimum, determinism, and the three findings."""

from __future__ import annotations

import numpy as np
import pytest

from callscale.search.environments.base import Environment, EnvironmentWithTestSplit
from callscale.search.environments.simulated import PAPER_BUDGETS, AgentTTSBenchmark, qwen_like_models
from callscale.search.space import Choice, Config

SAMPLES = np.arange(1, 51)
TASKS = [None, 1, 2, 3]


def test_paper_setting() -> None:
    bench = AgentTTSBenchmark()
    assert isinstance(bench, Environment) and isinstance(bench, EnvironmentWithTestSplit)
    retrieval, qa = bench.stages
    assert (retrieval.prompt_tokens, retrieval.decode_tokens, qa.prompt_tokens, qa.decode_tokens) == (2048, 128, 256, 64)
    assert [m.name for m in retrieval.models] == ["3B", "7B", "14B", "32B", "72B"]
    assert retrieval.samples == tuple(range(1, 51))
    assert [m.params for m in qwen_like_models()][-1] == 72_000_000_000
    assert PAPER_BUDGETS == (500, 850, 900, 2000)


@pytest.mark.parametrize("budget", [500, 900])
def test_optimum_is_the_exhaustive_argmax(budget: int) -> None:
    bench = AgentTTSBenchmark()
    opt = bench.optimum(budget)
    feasible = [(bench.score(c), c) for c in bench.space.enumerate(budget)]
    assert opt.count == len(feasible) == bench.space.count(budget)
    best = max(s for s, _ in feasible)
    assert opt.score == best and bench.space.within(opt.config, budget)
    assert [c for s, c in feasible if s == best] == [opt.config]  # a unique optimum
    assert opt.gap > 0


def test_evaluation_is_deterministic_and_noise_is_per_config() -> None:
    config = Config.of(("72B", 1), ("3B", 15))
    assert AgentTTSBenchmark().evaluate(config) == AgentTTSBenchmark().evaluate(config)
    noisy = AgentTTSBenchmark(noise=0.02, noise_seed=3)
    a, b = noisy.evaluate(config), noisy.evaluate(config)
    assert a.score == b.score != AgentTTSBenchmark().score(config)
    test = noisy.evaluate_test(config)
    assert test.split == "test" and abs(test.score - noisy.score(config)) < abs(a.score - noisy.score(config)) + 0.05
    assert AgentTTSBenchmark(task_seed=1).score(config) != AgentTTSBenchmark().score(config)


@pytest.mark.parametrize("task", TASKS)
def test_finding1_retrieval_prefers_the_largest_affordable_model(task: int | None) -> None:
    bench = AgentTTSBenchmark(task_seed=task)
    space, names = bench.space, bench.stages[0].model_names
    for model in names:
        stage_budget = space.stage_cost(0, Choice(model, 1))
        options = [
            (bench.retrieval_quality(m, int(s)), m, int(s))
            for m in names
            for s in SAMPLES
            if space.stage_cost(0, Choice(m, int(s))) <= stage_budget
        ]
        assert max(options)[1] == model  # never a smaller model with more samples


@pytest.mark.parametrize("task", TASKS)
def test_finding1_qa_prefers_small_models_with_many_samples(task: int | None) -> None:
    bench = AgentTTSBenchmark(task_seed=task)
    space, names = bench.space, bench.stages[1].model_names
    recall = bench.retrieval_quality("72B", 1)
    for stage_budget in (20, 50, 100, 200, 400, 800):
        options = [
            (bench.qa_quality(m, int(s), recall), m, int(s))
            for m in names
            for s in SAMPLES
            if space.stage_cost(1, Choice(m, int(s))) <= stage_budget
        ]
        _, model, samples = max(options)
        assert model in names[:2] and samples >= 5
        if task is None:
            assert model == "3B"
    # and every optimum of the end-to-end task pairs a large retriever with a small answerer
    for budget in PAPER_BUDGETS:
        opt = bench.optimum(budget).config
        assert opt[0].model in ("32B", "72B") and opt[1].model in ("3B", "7B") and opt[1].samples >= 5


@pytest.mark.parametrize("task", TASKS)
def test_finding2_each_stage_has_a_best_budget(task: int | None) -> None:
    bench = AgentTTSBenchmark(task_seed=task)
    for model in bench.stages[0].model_names:
        curves = [bench.retrieval_curve(model, SAMPLES)]
        curves += [bench.qa_curve(model, SAMPLES, u) for u in (0.2, 0.5, 0.9)]
        for curve in curves:
            peak = int(np.argmax(curve))
            assert 0 < peak < len(SAMPLES) - 1  # an interior best sample count
            assert curve[-1] < curve[peak] - 1e-3  # beyond it, returns fall (fusion bottleneck)
            assert np.all(np.diff(curve[: peak + 1]) > 0)  # and before it they rise
    # end to end: past some budget more budget buys nothing
    assert bench.optimum(2000).cost < 1500
    assert bench.optimum(1500).config == bench.optimum(2000).config


@pytest.mark.parametrize("task", TASKS)
def test_finding3_weaker_retrieval_needs_more_qa_samples(task: int | None) -> None:
    bench = AgentTTSBenchmark(task_seed=task)
    for model in bench.stages[1].model_names:
        best = [int(SAMPLES[np.argmax(bench.qa_curve(model, SAMPLES, u))]) for u in (0.2, 0.5, 0.9)]
        assert best[0] > best[1] > best[2]
    # through the real upstream stage: a 14B retriever needs more 3B answer samples than a 72B one
    weak, strong = bench.retrieval_quality("14B", 1), bench.retrieval_quality("72B", 1)
    s_weak = int(SAMPLES[np.argmax(bench.qa_curve("3B", SAMPLES, weak))])
    s_strong = int(SAMPLES[np.argmax(bench.qa_curve("3B", SAMPLES, strong))])
    assert s_weak > s_strong


def test_curve_estimates_match_the_model() -> None:
    bench = AgentTTSBenchmark()
    est = bench.curve_estimates((1, 4, 16))
    assert len(est) == 5 + 2 * 5
    r72 = next(e for e in est if e.stage == 0 and e.model == "72B")
    assert r72.quality[0] == pytest.approx(bench.retrieval_quality("72B", 1))
    lo, hi = bench.anchor_recalls()
    assert {e.upstream for e in est if e.stage == 1} == {lo, hi}
    noisy = bench.curve_estimates((1, 4, 16), noise_items=50, seed=1)
    assert noisy[0].quality != est[0].quality and noisy[0].n_items == 50
