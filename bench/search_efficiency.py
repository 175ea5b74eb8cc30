"""Search efficiency on the simulated AgentTTS benchmark: trials to the optimum and final regret.

For every budget (500, 850, 900, 2000), several task seeds (each a jittered variant of the task, its
own optimum found by exhaustive enumeration) and every searcher, run one search of ``--trials``
trials and record

* trials until the optimal configuration is first evaluated (``>N`` when never),
* regret after the last trial: optimum score − true score of the best configuration observed,
* trials until the regret is at most ``--tolerance`` (default 0.005, half a point of accuracy), a
  measure that does not saturate at the cap as quickly for the baselines.

Searchers: random, grid, TPE (Optuna, when installed), the model-based allocator with per-stage
curve estimates (``model_based``; the estimates are what sample pools give a live run, and their
cost is reported separately), the same with the sampling error of 500-item pools on every curve
point (``model_based_noisy``), the model-based allocator learning from trials alone
(``model_based_trials``), and the agent searcher. Without ``--llm`` the agent's LLM is
:func:`~callscale.search.searchers.agent_rules.heuristic_llm`, a deterministic rule-based stand-in, not a
language model; the output says so. Every searcher is built through the search registry
(:func:`~callscale.search.searchers.get_searcher`); the variants differ only in the options given.

Run: ``.venv/bin/python bench/search_efficiency.py [--seeds 5] [--trials 50] [--plot regret.png]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from callscale.search.archive import Trial
from callscale.search.base import Searcher, regret_curve, run_search, trials_to_find
from callscale.search.environments.simulated import PAPER_BUDGETS, AgentTTSBenchmark
from callscale.search.searchers import get_searcher
from callscale.search.searchers.agent_rules import heuristic_llm
from callscale.search.space import Choice

LLM = Callable[[str], str]
VariantOptions = Callable[[AgentTTSBenchmark, int, LLM], dict[str, Any]]
VARIANTS: dict[str, tuple[str, VariantOptions]] = {
    # name in the tables → (registered searcher, its options for one run: bench, seed, llm)
    "random": ("random", lambda bench, seed, llm: {"seed": seed}),
    "grid": ("grid", lambda bench, seed, llm: {"seed": seed}),
    "tpe": ("tpe", lambda bench, seed, llm: {"seed": seed}),
    "model_based": ("model_based", lambda bench, seed, llm: {"seed": seed, "curves": bench.curve_estimates()}),
    # curve points carry the sampling error of 500-item pools
    "model_based_noisy": ("model_based", lambda bench, seed, llm: {
        "seed": seed, "curves": bench.curve_estimates(noise_items=500, seed=seed), "obs_noise": 1e-3}),
    "model_based_trials": ("model_based", lambda bench, seed, llm: {"seed": seed}),
    "agent": ("agent", lambda bench, seed, llm: {"seed": seed, "llm": llm}),
}
ALL_SEARCHERS = tuple(VARIANTS)


@dataclass(frozen=True)
class Run:
    """One search: which searcher, budget and task seed, and how it went."""

    searcher: str
    budget: int
    seed: int
    found_at: int | None
    near_at: int | None
    regret: float
    regret_curve: tuple[float, ...]
    seconds: float


def _tpe_available() -> bool:
    try:
        import optuna  # noqa: F401
    except ImportError:
        return False
    return True


def make_searcher(name: str, bench: AgentTTSBenchmark, budget: int, seed: int, llm: LLM) -> Searcher:
    """Build searcher variant ``name`` for one run."""
    registered, options = VARIANTS[name]
    return get_searcher(registered, bench.space, budget, **options(bench, seed, llm))


def probe_cost(bench: AgentTTSBenchmark) -> float:
    """Budget units spent measuring the curve estimates: one pool of the largest sample count per
    (stage, model), and for each QA anchor the single-sample retrieval run it was measured on."""
    est = bench.curve_estimates()
    names = bench.stages[0].model_names
    total = 0.0
    for e in est:
        total += float(bench.space.stage_cost(e.stage, Choice(e.model, max(e.samples))))
    total += sum(float(bench.space.stage_cost(0, Choice(m, 1))) for m in (names[0], names[-1]))
    return total


def _found(key: str) -> Callable[[Sequence[Trial]], bool]:
    """Stop condition: the last trial evaluated the optimal configuration."""

    def stop(trials: Sequence[Trial]) -> bool:
        return trials[-1].config.key == key

    return stop


def run_all(
    searchers: Sequence[str],
    budgets: Sequence[int],
    seeds: Sequence[int],
    trials: int,
    llm: Callable[[str], str],
    batch: int,
    tolerance: float = 0.005,
    progress: bool = True,
) -> list[Run]:
    """Every (budget, seed, searcher) search."""
    runs = []
    for budget in budgets:
        for seed in seeds:
            bench = AgentTTSBenchmark(task_seed=seed)
            opt = bench.optimum(budget)
            for name in searchers:
                start = time.perf_counter()
                searcher = make_searcher(name, bench, budget, seed, llm)
                size = batch if name == "agent" else 1
                # evaluations are noise-free: once the optimum is evaluated it stays the incumbent
                # (regret 0), so the rest of the search cannot change either statistic
                result = run_search(
                    bench,
                    searcher,
                    n_trials=trials,
                    batch_size=size,
                    search_id=f"{name}-{budget}-{seed}",
                    stop=_found(opt.config.key),
                )
                curve = regret_curve(result.trials, bench.score, opt.score)
                near = next((i for i, r in enumerate(curve, start=1) if r <= tolerance), None)
                runs.append(
                    Run(
                        name,
                        budget,
                        seed,
                        trials_to_find(result.trials, opt.config.key),
                        near,
                        curve[-1] if curve else opt.score,
                        tuple(curve),
                        time.perf_counter() - start,
                    )
                )
            if progress:
                print(f"  budget {budget} seed {seed}: done", file=sys.stderr, flush=True)
    return runs


def _median_found(values: Sequence[int | None], cap: int) -> tuple[float, str]:
    filled = [v if v is not None else cap + 1 for v in values]
    med = statistics.median(filled)
    return med, (f">{cap}" if med > cap else f"{med:g}")


def summarise(runs: Sequence[Run], searchers: Sequence[str], budgets: Sequence[int], trials: int) -> dict[str, object]:
    """Medians per (searcher, budget) and overall, and the model-based/TPE ratios."""
    table: dict[str, dict[str, object]] = defaultdict(dict)
    overall: dict[str, dict[str, object]] = {}
    for name in searchers:
        mine = [r for r in runs if r.searcher == name]
        for budget in budgets:
            sub = [r for r in mine if r.budget == budget]
            med, text = _median_found([r.found_at for r in sub], trials)
            near_med, near_text = _median_found([r.near_at for r in sub], trials)
            table[name][str(budget)] = {
                "median_trials_to_optimum": med,
                "text": text,
                "median_trials_to_tolerance": near_med,
                "near_text": near_text,
                "found": sum(r.found_at is not None for r in sub),
                "runs": len(sub),
                "median_final_regret": statistics.median(r.regret for r in sub),
                "median_seconds": statistics.median(r.seconds for r in sub),
            }
        med, text = _median_found([r.found_at for r in mine], trials)
        near_med, near_text = _median_found([r.near_at for r in mine], trials)
        overall[name] = {
            "median_trials_to_optimum": med,
            "text": text,
            "median_trials_to_tolerance": near_med,
            "near_text": near_text,
            "found": sum(r.found_at is not None for r in mine),
            "runs": len(mine),
            "median_final_regret": statistics.median(r.regret for r in mine),
        }
    ratios = {}
    if "tpe" in overall:
        for metric in ("median_trials_to_optimum", "median_trials_to_tolerance"):
            tpe = float(overall["tpe"][metric])  # type: ignore[arg-type]
            for name in ("model_based", "model_based_noisy", "model_based_trials"):
                if name in overall:
                    ratios[f"{name}/tpe {metric.replace('median_', '')}"] = (
                        float(overall[name][metric]) / tpe  # type: ignore[arg-type]
                    )
    return {"per_budget": dict(table), "overall": overall, "ratios": ratios}


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="task seeds per budget (default 5)")
    parser.add_argument("--trials", type=int, default=50, help="trials per search (default 50, as AgentTTS)")
    parser.add_argument("--budgets", type=int, nargs="+", default=list(PAPER_BUDGETS))
    parser.add_argument("--searchers", nargs="+", default=list(ALL_SEARCHERS), choices=ALL_SEARCHERS)
    parser.add_argument("--agent-batch", type=int, default=4, help="configurations per agent LLM call")
    parser.add_argument("--tolerance", type=float, default=0.005, help="regret counted as 'near' (default 0.005)")
    parser.add_argument("--plot", default=None, help="write a regret-vs-trials PNG here")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    searchers = [s for s in args.searchers if s != "tpe" or _tpe_available()]
    if "tpe" in args.searchers and "tpe" not in searchers:
        print("note: Optuna is not installed; TPE skipped (pip install 'callscale[tpe]')")
    seeds = list(range(args.seeds))
    runs = run_all(searchers, args.budgets, seeds, args.trials, heuristic_llm, args.agent_batch, args.tolerance, not args.quiet)
    summary = summarise(runs, searchers, args.budgets, args.trials)
    bench0 = AgentTTSBenchmark()
    probes = probe_cost(bench0)
    summary["setting"] = {
        "budgets": args.budgets,
        "seeds": seeds,
        "trials": args.trials,
        "tolerance": args.tolerance,
        "agent_llm": "heuristic_llm (deterministic rule-based stand-in, not a language model)",
        "model_based_curve_probe_cost": probes,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_table(summary, searchers, args.budgets, args.trials, len(seeds), probes, args.tolerance)
    if args.plot:
        from callscale.report.search import plot_regret

        curves: dict[str, list[list[float]]] = defaultdict(list)
        for r in runs:
            curves[r.searcher].append(list(r.regret_curve))
        path = plot_regret(curves, args.plot, title="Simulated AgentTTS benchmark: regret vs trials (all budgets)")
        print(f"plot: {path}")
    return summary


def _print_table(
    summary: dict[str, object],
    searchers: Sequence[str],
    budgets: Sequence[int],
    trials: int,
    n_seeds: int,
    probes: float,
    tolerance: float,
) -> None:
    per_budget: dict[str, dict[str, dict[str, Any]]] = summary["per_budget"]  # type: ignore[assignment]
    overall: dict[str, dict[str, Any]] = summary["overall"]  # type: ignore[assignment]
    print(f"Simulated AgentTTS benchmark — {n_seeds} task seeds per budget, {trials} trials per search.")
    print("agent: LLM = heuristic_llm, a deterministic rule-based stand-in (no language model).")
    header = f"{'searcher':<20}" + "".join(f"{'B=' + str(b):>24}" for b in budgets) + f"{'all':>24}"

    print()
    print("Median trials until the optimum is evaluated (found/runs; a miss counts as cap+1)")
    print("| median regret after the last trial (optimum − true score of the best observed):")
    print(header)
    print("-" * len(header))
    for name in searchers:
        cells = []
        for c in [per_budget[name][str(b)] for b in budgets] + [overall[name]]:
            cells.append(f"{c['text']:>5} ({c['found']}/{c['runs']}) | {float(c['median_final_regret']):.4f}")
        print(f"{name:<20}" + "".join(f"{c:>24}" for c in cells))

    print()
    print(f"Median trials until regret <= {tolerance:g} (a miss counts as cap+1):")
    print(header)
    print("-" * len(header))
    for name in searchers:
        cells = [str(per_budget[name][str(b)]["near_text"]) for b in budgets] + [str(overall[name]["near_text"])]
        print(f"{name:<20}" + "".join(f"{c:>24}" for c in cells))

    print()
    ratios: dict[str, float] = summary["ratios"]  # type: ignore[assignment]
    for key, value in ratios.items():
        metric = "median_" + key.split(" ", 1)[1]
        censored = float(overall["tpe"][metric]) > trials
        note = " (TPE's median is censored at cap+1, so the true ratio is smaller still)" if censored else ""
        print(f"ratio {key}: {value:.3f}{note}")
    if not any(name in ("model_based", "model_based_noisy") for name in searchers):
        return
    print(
        "model_based also used per-stage curve estimates (pools of 50 samples per stage and model, QA at two "
        f"upstream anchors), costing ≈ {probes:,.0f} budget units once per task ≈ "
        + ", ".join(f"{probes / b:.1f}" for b in budgets)
        + " trial-equivalents at "
        + ", ".join(f"B={b}" for b in budgets)
        + "; a live run's pools also serve later trials."
    )


if __name__ == "__main__":
    main()
