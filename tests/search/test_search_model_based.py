"""The model-based allocator: curve fitting, prediction, and finding the optimum in few trials."""

from __future__ import annotations

import numpy as np
import pytest

from callscale.search.base import run_search, trials_to_find
from callscale.search.environments.base import CurveEstimate, FunctionEnvironment
from callscale.search.environments.simulated import DEFAULT_PROBE_SAMPLES, PAPER_BUDGETS, AgentTTSBenchmark
from callscale.search.searchers.model_based import ModelBasedAllocator, SaturatingCurve, fit_curve

GRID = list(DEFAULT_PROBE_SAMPLES)


def test_fit_recovers_a_curve_of_its_own_family() -> None:
    true = SaturatingCurve(a=0.3, g=0.4, tau=4.0, ctx=25.0, kappa=2.0)
    fit = fit_curve(GRID, true(GRID))
    s = np.arange(1, 51)
    assert np.max(np.abs(fit(s) - true(s))) < 1e-3
    assert fit.best_samples(range(1, 51)) == true.best_samples(range(1, 51))


def test_fit_approximates_the_simulated_stages() -> None:
    bench = AgentTTSBenchmark()
    s = np.arange(1, 51)
    for model in bench.stages[0].model_names:
        for truth in (bench.retrieval_curve(model, s), bench.qa_curve(model, s, 0.8)):
            fit = fit_curve(s[np.isin(s, GRID)], truth[np.isin(s, GRID)])
            assert np.max(np.abs(fit(s) - truth)) < 0.005
            assert abs(fit.best_samples(range(1, 51)) - int(s[np.argmax(truth)])) <= 1


def test_fit_degenerate_inputs() -> None:
    flat = fit_curve([4, 4], [0.5, 0.7])
    assert flat.g == 0.0 and float(flat([10])[0]) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        fit_curve([], [])


@pytest.mark.parametrize("task", [None, 1, 2])
@pytest.mark.parametrize("budget", PAPER_BUDGETS)
def test_finds_the_optimum_within_five_trials(task: int | None, budget: int) -> None:
    bench = AgentTTSBenchmark(task_seed=task)
    allocator = ModelBasedAllocator(bench.space, budget, curves=bench.curve_estimates())
    opt = bench.optimum(budget)
    result = run_search(bench, allocator, n_trials=5, stop=lambda ts: ts[-1].config == opt.config)
    found = trials_to_find(result.trials, opt.config.key)
    assert found is not None and found <= 5


def test_noisy_curve_estimates_still_get_close() -> None:
    bench = AgentTTSBenchmark(task_seed=3)
    allocator = ModelBasedAllocator(bench.space, 900, curves=bench.curve_estimates(noise_items=500, seed=3))
    opt = bench.optimum(900)
    result = run_search(bench, allocator, n_trials=10)
    assert result.best is not None and opt.score - bench.score(result.best.config) < 0.005


def test_learns_from_trials_alone() -> None:
    bench = AgentTTSBenchmark()
    allocator = ModelBasedAllocator(bench.space, 900)
    assert allocator.needs_design
    opt = bench.optimum(900)
    result = run_search(bench, allocator, n_trials=25, stop=lambda ts: ts[-1].config == opt.config)
    found = trials_to_find(result.trials, opt.config.key)
    assert found is not None and found <= 25
    assert "initial design" in result.trials[0].guideline


def test_works_with_only_end_to_end_scores() -> None:
    """An environment that reports no per-stage scores: curves carry the upstream stage."""
    bench = AgentTTSBenchmark(task_seed=2)
    env = FunctionEnvironment(bench.space, bench.score)
    opt = bench.optimum(850)
    allocator = ModelBasedAllocator(bench.space, 850, curves=bench.curve_estimates())
    result = run_search(env, allocator, n_trials=5, stop=lambda ts: ts[-1].config == opt.config)
    assert trials_to_find(result.trials, opt.config.key) is not None


def test_prediction_is_ranked_and_feasible() -> None:
    bench = AgentTTSBenchmark()
    allocator = ModelBasedAllocator(bench.space, 500, curves=bench.curve_estimates())
    pred = allocator.predict(top=20)
    assert len(pred.configs) == 20
    assert list(pred.scores) == sorted(pred.scores, reverse=True)
    assert all(bench.space.within(c, 500) for c in pred.configs)
    # predictions track the truth closely with exact curve estimates
    assert max(abs(s - bench.score(c)) for c, s in zip(pred.configs, pred.scores, strict=True)) < 0.01


def test_rejects_curves_for_unknown_models() -> None:
    bench = AgentTTSBenchmark()
    bad = [CurveEstimate(stage=0, model="GPT", samples=(1, 2), quality=(0.1, 0.2))]
    with pytest.raises(ValueError):
        ModelBasedAllocator(bench.space, 900, curves=bad)
