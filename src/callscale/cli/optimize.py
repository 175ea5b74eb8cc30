"""``callscale optimize``: choose a model and a number of samples per stage under a compute budget."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer

from callscale.cli.common import (
    ApiKeyEnvOpt,
    BackendOpt,
    BaseUrlOpt,
    JsonOpt,
    ModelOpt,
    StoreOpt,
    UserError,
    backend_spec,
    default_store_path,
    emit,
    open_store,
    stdout,
    user_errors,
)

T = TypeVar("T")
SEARCHERS = {"agent": "agent", "random": "random", "grid": "grid", "tpe": "tpe", "model": "model_based"}
SIMULATED_TASK = "agentts"


class LoopThread:
    """An event loop in a daemon thread, so synchronous searchers can await engine calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="callscale-optimize")
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def optimize(
    task: str = typer.Option(SIMULATED_TASK, help="'agentts' (the paper-scale simulated benchmark) or a free-form "
                                                   "task run live as draft → answer (e.g. arithmetic)."),
    budget: float | None = typer.Option(None, help="Compute budget (agentts units for agentts, m·n per item for live "
                                                   "tasks; default 900 / half the largest configuration)."),
    searcher: str = typer.Option("model", help="agent | random | grid | tpe | model"),
    trials: int = typer.Option(20, min=1, help="Trials (each runs the configuration on the training split)."),
    seed: int = typer.Option(0, help="Searcher seed."),
    train: int = typer.Option(50, min=1, help="Training items (live tasks)."),
    test: int = typer.Option(100, min=0, help="Held-out items scored for the best configuration (live tasks)."),
    samples: str = typer.Option("1,2,4,8", help="Candidate sample counts per stage (live tasks)."),
    report: Path | None = typer.Option(None, help="Directory for the regret plot and summary.json."),
    model: ModelOpt = None,
    backend: BackendOpt = "local",
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    agent_backend: str = typer.Option("local", help="Backend of the agent searcher's LLM: local | openai | rules "
                                                    "(a rule-based stand-in, no LLM)."),
    agent_model: str | None = typer.Option(None, help="Model of the agent searcher's LLM."),
    agent_base_url: str | None = typer.Option(None, help="Server URL of the agent's LLM for --agent-backend openai."),
    agent_max_tokens: int = typer.Option(400, min=16, help="Longest reply of the agent's LLM."),
    curves: bool = typer.Option(True, help="Model-based searcher on a live task: first measure per-stage curves "
                                           "from sample pools (reused by every trial)."),
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search per-stage (model, samples) allocations within a budget; report the best, its test score and cost,
    and a regret-vs-trials plot. The search archive lives in the store file; an interrupted search resumes."""
    from callscale.cli.theory import parse_ks
    from callscale.search import searcher_by_name

    with user_errors():
        if searcher not in SEARCHERS:
            raise UserError(f"unknown searcher {searcher!r}; choose one of {', '.join(SEARCHERS)}")
        if agent_backend not in ("local", "openai", "rules"):
            raise UserError(f"unknown --agent-backend {agent_backend!r}; choose local, openai or rules")
        live = task != SIMULATED_TASK
        spec = backend_spec(backend, model, base_url, api_key_env, None, None) if live else None
        counts = parse_ks(samples)
        store_path = store or default_store_path()
        cls = searcher_by_name(SEARCHERS[searcher])
        with _environment(task, spec, store_path, train, test, counts) as (env, runner, engine_for_agent):
            space = env.space
            chosen_budget = budget if budget is not None else (900.0 if not live else float(_largest(space)) / 2)
            if space.count(chosen_budget) == 0:
                raise UserError(f"no configuration fits budget {chosen_budget:g} (cheapest costs {float(space.min_cost()):g})")
            kwargs: dict[str, Any] = {"seed": seed}
            curve_calls: int | None = None
            if searcher == "model" and live and curves:
                before = env.inner.engine.stats.samples
                kwargs["curves"] = env.run(env.inner.curve_estimates())
                curve_calls = env.inner.engine.stats.samples - before
            if searcher == "agent":
                kwargs["llm"] = _agent_llm(agent_backend, agent_model, agent_base_url, api_key_env, runner, engine_for_agent,
                                           agent_max_tokens)
            picker = cls(space, chosen_budget, **kwargs)
            result = _search(env, picker, trials, store_path, f"{task}/{searcher}/{chosen_budget:g}/{seed}")
            summary = _summary(task, searcher, chosen_budget, result, env, live, picker, report)
            if curve_calls is not None:
                summary["calls"]["for the curve estimates"] = curve_calls
    emit(summary, as_json, render)


def _largest(space: Any) -> float:
    return float(sum(max(space.stage_cost(i, c) for c in options) for i, options in enumerate(space.options)))


@contextlib.contextmanager
def _environment(task: str, spec: Any, store_path: Path, train: int, test: int,
                 counts: list[int]) -> Iterator[tuple[Any, LoopThread | None, Any]]:
    """The environment to search: the simulated benchmark, or a live draft → answer task on the engine."""
    if task == SIMULATED_TASK:
        from callscale.search.simulated import AgentTTSBenchmark

        yield AgentTTSBenchmark(), None, None
        return
    from callscale.backends.factory import open_backend
    from callscale.engine import Engine
    from callscale.primitives.world import TaskWorld, synthetic_answers
    from callscale.records import ModelCard
    from callscale.search.environment import SyncEnvironment
    from callscale.search.live import LiveStages, draft_and_answer_space
    from callscale.store import check_store
    from callscale.tasks import load_task

    check_store(store_path)
    loaded = load_task(task, train + test)
    if loaded.is_multiple_choice:
        raise UserError(f"task {task!r} is multiple choice; live optimisation fuses free-form answers (try arithmetic)")
    if len(loaded) < train + 1:
        raise UserError(f"task {task!r} has {len(loaded)} items; need more than --train {train}")
    train_task, test_task = loaded.split(train)
    runner = LoopThread()
    opened = open_backend(spec, responder=lambda: TaskWorld(loaded, synthetic_answers(loaded)))
    try:
        backend = runner.run(opened.__aenter__())
        try:
            with open_store(store_path) as db:
                engine = Engine(backend, store=db)
                card = engine.card(spec.model_name)
                models = [card if card.params else ModelCard(card.name, params=1)]
                env = LiveStages(engine, train_task, test_task, draft_and_answer_space(models, counts))
                yield SyncEnvironment(env, loop=runner.loop), runner, engine
        finally:
            runner.run(opened.__aexit__(None, None, None))
    finally:
        runner.close()


def _agent_llm(kind: str, model: str | None, base_url: str | None, api_key_env: str | None,
               runner: LoopThread | None, engine: Any, max_tokens: int) -> Callable[[str], str]:
    """The agent searcher's LLM as a plain ``prompt -> text`` function."""
    from callscale.records import Request
    from callscale.search.agent import heuristic_llm

    if kind == "rules":
        return heuristic_llm
    if engine is None or kind == "openai":
        from callscale.backends.factory import BackendSpec, open_backend
        from callscale.engine import Engine

        spec = BackendSpec(kind=kind, model=model, base_url=base_url, api_key_env=api_key_env).validate()
        runner = LoopThread()
        # Lives as long as the process: the agent's server is stopped when the command exits.
        engine = Engine(runner.run(open_backend(spec).__aenter__()))
    assert runner is not None
    from callscale.backends.local import DEFAULT_MODEL

    name = model or DEFAULT_MODEL

    def llm(prompt: str) -> str:
        request = Request.chat(name, prompt, temperature=0.7, max_tokens=max_tokens)
        reply = runner.run(engine.complete(request, 1, node="agent"))[0]
        return reply.text

    return llm


def _search(env: Any, picker: Any, trials: int, store_path: Path, search_id: str) -> Any:
    from callscale.search.archive import Archive
    from callscale.search.base import run_search

    archive = Archive(store_path)
    return run_search(env, picker, n_trials=trials, archive=archive, search_id=search_id, test=True)


def _summary(task: str, searcher: str, budget: float, result: Any, env: Any, live: bool, picker: Any,
             report: Path | None) -> dict[str, Any]:
    from callscale.search.base import regret_curve, trials_to_find

    finished = [t for t in result.trials if t.done and t.score is not None]
    best = result.best
    out: dict[str, Any] = {
        "task": task, "searcher": searcher, "budget": budget, "trials": len(result.trials), "skipped": result.skipped,
        "best": None if best is None else {"config": env.space.named(best.config), "train_score": best.score,
                                           "cost": best.cost, "trial": best.number},
        "test_score": None if result.test is None else result.test.score,
        "configurations_within_budget": env.space.count(budget),
    }
    if not live:
        optimum = env.optimum(budget)
        curve = regret_curve(result.trials, env.score, optimum.score)
        out["optimum"] = {"config": env.space.named(optimum.config), "score": optimum.score}
        out["trials_to_optimum"] = trials_to_find(result.trials, optimum.config.key)
        out["final_regret"] = curve[-1] if curve else None
    else:
        top = max((t.score for t in finished), default=0.0)
        running = 0.0
        curve = []
        for t in result.trials:
            running = max(running, t.score or 0.0)
            curve.append(top - running)
        out["calls"] = {"made now": env.inner.engine.stats.samples, "from the store": env.inner.engine.stats.cache_hits}
    stats = getattr(picker, "stats", None)
    if stats is not None:
        out["searcher_stats"] = {k: v for k, v in vars(stats).items() if isinstance(v, int | float | str)}
    if report is not None:
        import json

        from callscale.search.plot import plot_regret

        report.mkdir(parents=True, exist_ok=True)
        title = "Regret vs trials" + ("" if not live else " (against the best score found)")
        out["plot"] = plot_regret({searcher: [curve]}, report / "regret.png", title=title, log=not live)
        (report / "summary.json").write_text(json.dumps(out, indent=1, default=str))
    return out


def render(s: dict[str, Any]) -> None:
    stdout.print(f"{s['searcher']} search on {s['task']} within budget {s['budget']:g} "
                 f"({s['configurations_within_budget']} configurations fit): {s['trials']} trials")
    if s["best"]:
        stdout.print(f"best: {s['best']['config']}  train score {s['best']['train_score']:.3f}  cost {s['best']['cost']:.4g}"
                     f"  (trial {s['best']['trial']})")
    if s.get("test_score") is not None:
        stdout.print(f"test score of the best: {s['test_score']:.3f}")
    if "optimum" in s:
        stdout.print(f"optimum: {s['optimum']['config']} score {s['optimum']['score']:.3f}; found at trial "
                     f"{s['trials_to_optimum']}; final regret {s['final_regret']:.4f}")
    if "calls" in s:
        stdout.print("calls: " + ", ".join(f"{k} {v}" for k, v in s["calls"].items()))
    if "searcher_stats" in s:
        stdout.print(f"{s['searcher']} searcher: " + ", ".join(f"{k} {v}" for k, v in s["searcher_stats"].items()))
    if s.get("plot"):
        stdout.print(f"plot: {s['plot']}")
