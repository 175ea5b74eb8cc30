"""``callscale optimize``: choose a model and a number of samples per stage under a compute budget.

The searcher comes from the search registry (:mod:`callscale.search.searchers`): its name, and the
options it declares. ``--seed`` feeds ``seed``, ``--searcher-option KEY=VALUE`` any option given as
text, and this command supplies the two that only code can give to the searchers that declare
them: ``llm`` (built from the ``--agent-*`` options) and ``curves`` (measured from sample pools on
a live task).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from callscale.cli.common import (
    ApiKeyEnvOpt,
    BackendOpt,
    BaseUrlOpt,
    Executor,
    ExecutorOpt,
    JsonOpt,
    ModelOpt,
    ModelsOpt,
    RayAddressOpt,
    StoreOpt,
    UserError,
    WorkersOpt,
    backend_spec,
    catalogue_of,
    default_store_path,
    emit,
    needs_catalogue,
    open_executor_backend,
    open_store,
    stdout,
    user_errors,
)
from callscale.cli.progress import QuietOpt, search_progress

if TYPE_CHECKING:
    from callscale.search.searchers import SearcherEntry

T = TypeVar("T")
SIMULATED_TASK = "agentts"
AGENT_BACKENDS = ("local", "openai", "rules")


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


def _searcher_help() -> str:
    from callscale.search.searchers import searcher_aliases, searcher_names

    aliases = searcher_aliases()
    names = [n + "".join(f" (or {a})" for a, target in aliases.items() if target == n) for n in searcher_names()]
    return " | ".join(names) + ", or one added with callscale.search.register_searcher."


def optimize(
    task: str = typer.Option(SIMULATED_TASK, help="'agentts' (the paper-scale simulated benchmark) or a free-form "
                                                   "task run live as draft → answer (e.g. arithmetic)."),
    budget: float | None = typer.Option(None, help="Compute budget (agentts units for agentts, m·n per item for live "
                                                   "tasks; default 900 / half the largest configuration)."),
    searcher: str = typer.Option("model", help=_searcher_help()),
    searcher_option: list[str] | None = typer.Option(
        None, "--searcher-option", metavar="KEY=VALUE",
        help="An option the searcher declares, e.g. n_startup_trials=5 for tpe (repeatable; an unknown key lists "
             "the searcher's options)."),
    trials: int = typer.Option(20, min=1, help="Trials (each runs the configuration on the training split)."),
    parallel_trials: int = typer.Option(1, min=1, max=256, help="Trials proposed together and run at once (their "
                                                                "calls share the engine; on agentts under --executor "
                                                                "ray, one Ray task each). A fixed seed gives the same "
                                                                "search wherever they run."),
    seed: int = typer.Option(0, help="Searcher seed."),
    train: int = typer.Option(50, min=1, help="Training items (live tasks)."),
    test: int = typer.Option(100, min=0, help="Held-out items scored for the best configuration (live tasks)."),
    samples: str = typer.Option("1,2,4,8", help="Candidate sample counts per stage (live tasks)."),
    network: Path | None = typer.Option(None, help="Your own network file (YAML/TOML) whose nodes declare choices, "
                                                  "e.g. model: {choose: \\[a, b]}, k: {choose: \\[1, 2, 4]}; searched "
                                                  "live on --task instead of draft → answer."),
    budget_unit: str = typer.Option("primitive", help="What --budget counts per item for a --network search: "
                                                      "primitive (m·n) | flops | dollars (catalogue sizes and prices)."),
    report: Path | None = typer.Option(None, help="Directory for the regret plot and summary.json."),
    model: ModelOpt = None,
    candidates: str | None = typer.Option(None, help="Live tasks: the models each stage may use, from the catalogue "
                                                     "(e.g. smollm2-135m-instruct,gemma3-270m); default: --model."),
    models: ModelsOpt = None,
    backend: BackendOpt = "local",
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    agent_backend: str = typer.Option("local", help="Backend of the LLM of searchers that take one (agent): local | "
                                                    "openai | rules (a rule-based stand-in, no LLM)."),
    agent_model: str | None = typer.Option(None, help="Model of the searcher's LLM."),
    agent_base_url: str | None = typer.Option(None, help="Server URL of the searcher's LLM for --agent-backend openai."),
    agent_max_tokens: int = typer.Option(400, min=16, help="Longest reply of the searcher's LLM."),
    curves: bool = typer.Option(True, help="Searchers that take per-stage curves (model) on a live task: first "
                                           "measure them from sample pools (reused by every trial)."),
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Search per-stage (model, samples) allocations within a budget; report the best, its test score and cost,
    and a regret-vs-trials plot. The search archive lives in the store file; an interrupted search resumes."""
    from callscale.cli.theory import parse_ks

    with user_errors():
        entry = _searcher_entry(searcher)
        settings = _searcher_settings(entry, searcher_option or [])
        if agent_backend not in AGENT_BACKENDS:
            raise UserError(f"unknown --agent-backend {agent_backend!r}; choose local, openai or rules")
        live = task != SIMULATED_TASK
        if network is not None and not live:
            raise UserError("--network searches your network on a live task: give --task (e.g. arithmetic, or a "
                            "JSONL/CSV file)")
        spec = backend_spec(backend, model, base_url, api_key_env, None, None) if live else None
        where = Executor(executor, ray_address, workers).check()
        counts = parse_ks(samples)
        store_path = store or default_store_path()
        names = tuple(c.strip() for c in (candidates or "").split(",") if c.strip())
        with _environment(task, spec, store_path, train, test, counts, names, models,
                          _network_search(network, budget_unit), where) as (env, runner, engine_for_agent):
            space = env.space
            chosen_budget = budget if budget is not None else (900.0 if not live else float(space.max_cost()) / 2)
            if space.count(chosen_budget) == 0:
                raise UserError(f"no configuration fits budget {chosen_budget:g} (cheapest costs {float(space.min_cost()):g})")

            def llm() -> Callable[[str], str]:
                return _agent_llm(agent_backend, agent_model, agent_base_url, api_key_env, runner, engine_for_agent,
                                  agent_max_tokens)

            supplied, curve_calls = _supplied(entry, settings, seed=seed, env=env if live and curves else None, llm=llm)
            picker = _build(entry, space, chosen_budget, {**supplied, **settings})
            search_id = f"{task}/{searcher}/{chosen_budget:g}/{seed}"
            if parallel_trials > 1:  # trials proposed in batches make another search
                search_id += f"/x{parallel_trials}"
            searchable = getattr(env.inner, "searchable", None) if live else None
            if searchable is not None:
                search_id += f"/{searchable.fingerprint}/{env.space.cost_model.unit}"
            with search_progress(trials, not quiet, engine=engine_for_agent) as on_trial:
                result = _search(env, picker, trials, store_path, search_id, on_trial, parallel_trials,
                                 None if live else _trial_mapper(where))
            summary = _summary(task, searcher, chosen_budget, result, env, live, picker, report)
            if curve_calls is not None:
                summary["calls"]["for the curve estimates"] = curve_calls
    emit(summary, as_json, render)


def _searcher_entry(name: str) -> SearcherEntry:
    from callscale.search.searchers import searcher_entry

    try:
        return searcher_entry(name)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None


def _searcher_settings(entry: SearcherEntry, pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` texts read as the searcher's declared options."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        try:
            if not sep or not key:
                raise ValueError(f"expected KEY=VALUE, got {pair!r}")
            out[key] = entry.option(key).from_text(text)
        except ValueError as exc:
            options = "; ".join(o.describe() for o in entry.options if o.settable) or "none"
            raise UserError(f"--searcher-option: {exc}. Options of {entry.name}: {options}") from None
    return out


def _supplied(entry: SearcherEntry, settings: dict[str, Any], *, seed: int, env: Any,
              llm: Callable[[], Callable[[str], str]]) -> tuple[dict[str, Any], int | None]:
    """What this command gives the searcher beyond ``--searcher-option``, for the options it declares:
    ``seed``; ``curves`` measured on the live environment ``env`` (when given), with the calls that cost;
    ``llm``."""
    wanted = {o.name for o in entry.options} - set(settings)
    out: dict[str, Any] = {}
    curve_calls: int | None = None
    if "seed" in wanted:
        out["seed"] = seed
    if "curves" in wanted and env is not None and hasattr(env.inner, "curve_estimates"):
        before = env.inner.engine.stats.samples
        out["curves"] = env.run(env.inner.curve_estimates())
        curve_calls = env.inner.engine.stats.samples - before
    if "llm" in wanted:
        out["llm"] = llm()
    return out, curve_calls


def _build(entry: SearcherEntry, space: Any, budget: float, options: dict[str, Any]) -> Any:
    try:
        return entry.build(space, budget, **options)
    except (ValueError, ImportError) as exc:
        raise UserError(f"searcher {entry.name!r}: {exc}") from None


@dataclass(frozen=True)
class NetworkSearch:
    """A ``--network`` search: the file and the unit its budget is priced in."""

    path: Path
    unit: str


def _network_search(path: Path | None, unit: str) -> NetworkSearch | None:
    from callscale.search.network_space import UNITS

    if unit not in UNITS:
        raise UserError(f"unknown --budget-unit {unit!r}; choose one of {', '.join(UNITS)}")
    if path is None:
        if unit != "primitive":
            raise UserError("--budget-unit prices a --network search; give --network FILE")
        return None
    if not path.is_file():
        raise UserError(f"network file not found: {path}")
    return NetworkSearch(path, unit)


@contextlib.contextmanager
def _environment(task: str, spec: Any, store_path: Path, train: int, test: int, counts: list[int],
                 candidates: tuple[str, ...] = (), models_file: Path | None = None,
                 network: NetworkSearch | None = None, executor: Executor | None = None,
                 ) -> Iterator[tuple[Any, LoopThread | None, Any]]:
    """The environment to search: the simulated benchmark; a live draft → answer task on the engine
    (each stage choosing among ``candidates``, catalogue models opened side by side); or the user's
    ``network`` with its declared choices."""
    if task == SIMULATED_TASK:
        from callscale.search.environments.simulated import AgentTTSBenchmark

        yield AgentTTSBenchmark(), None, None
        return
    from callscale.engine import Engine
    from callscale.primitives.world import simulated_world
    from callscale.search.environments.base import SyncEnvironment
    from callscale.store import check_store
    from callscale.tasks import load_task

    searchable = None
    if network is not None:
        from callscale.search.network_space import SearchableNetwork

        searchable = SearchableNetwork.load(network.path, default_model=spec.model_name)
        _check_models(searchable, spec, models_file)
        if candidates:
            raise UserError("--candidates applies to the draft → answer search; a --network file declares its own "
                            "choices (model: {choose: [...]})")
    check_store(store_path)
    loaded = load_task(task, train + test)
    if loaded.is_multiple_choice and searchable is None:
        raise UserError(f"task {task!r} is multiple choice; live optimisation fuses free-form answers (try arithmetic)")
    if len(loaded) < train + 1:
        raise UserError(f"task {task!r} has {len(loaded)} items; need more than --train {train}")
    train_task, test_task = loaded.split(train)
    runner = LoopThread()
    names = searchable.models() if searchable is not None else candidates or (spec.model_name,)
    opened = _open_candidates(spec, names, models_file, lambda: simulated_world(loaded), executor)
    try:
        backends, options = runner.run(opened.__aenter__())
        try:
            space = None
            if searchable is not None:  # priced before the store is opened: a refusal writes nothing
                assert network is not None
                space = _network_space(searchable, Engine(backends, **options), network.unit)
            with open_store(store_path) as db:
                engine = Engine(backends, store=db, **options)
                if searchable is not None and space is not None:
                    from callscale.search.environments.network import NetworkTrials

                    env: Any = NetworkTrials(engine, train_task, test_task, searchable, space)
                else:
                    env = _draft_and_answer(engine, train_task, test_task, names, counts)
                yield SyncEnvironment(env, loop=runner.loop), runner, engine
        finally:
            runner.run(opened.__aexit__(None, None, None))
    finally:
        runner.close()


def _draft_and_answer(engine: Any, train: Any, test: Any, names: tuple[str, ...], counts: list[int]) -> Any:
    from callscale.records import ModelCard
    from callscale.search.environments.live import LiveStages, draft_and_answer_space

    cards = [engine.card(name) for name in names]
    stage_models = [card if card.params else ModelCard(card.name, params=1) for card in cards]
    return LiveStages(engine, train, test, draft_and_answer_space(stage_models, counts))


def _network_space(searchable: Any, engine: Any, unit: str) -> Any:
    """The search space of a network file, priced in ``unit`` with the engine's model cards."""
    cards = {name: engine.card(name) for name in searchable.models()}
    try:
        return searchable.space(cards, unit)
    except ValueError as exc:
        raise UserError(f"{searchable.source}: {exc}") from None


def _check_models(searchable: Any, spec: Any, models_file: Path | None) -> None:
    """Every model a network file names is in the catalogue it will be opened from (one line naming file and node)."""
    names = searchable.models()
    if not needs_catalogue(models_file, spec, names):
        return
    known = catalogue_of(models_file)
    for stage in searchable.stages:
        for model in stage.models:
            if known.get(model, None) is None:
                where = f"the catalogue {models_file}" if models_file else "the built-in catalogue (give --models FILE)"
                raise UserError(f"{searchable.source}: node {stage.node!r}: field 'model': unknown model {model!r}; "
                                f"not in {where}")


@contextlib.asynccontextmanager
async def _open_candidates(spec: Any, names: tuple[str, ...], models_file: Path | None,
                           responder: Callable[[], Any], executor: Executor | None = None,
                           ) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
    """One backend from ``spec`` for every model when no catalogue is needed (see
    :func:`~callscale.cli.common.needs_catalogue`); else every
    candidate's backend from the catalogue. Yields (backends for Engine, Engine's keyword options)."""
    from callscale.models import open_models

    if not needs_catalogue(models_file, spec, names):
        async with open_executor_backend(spec, responder, executor) as backend:
            yield backend, {}
        return
    if executor is not None and executor.kind != "local":
        raise UserError("--executor ray runs one backend (--backend/--model) for now; several catalogue models run "
                        "with --executor local")
    async with open_models(catalogue_of(models_file), names, responder=responder) as opened:
        yield opened.backends, opened.engine_options()


def _agent_llm(kind: str, model: str | None, base_url: str | None, api_key_env: str | None,
               runner: LoopThread | None, engine: Any, max_tokens: int) -> Callable[[str], str]:
    """The searcher's LLM as a plain ``prompt -> text`` function."""
    from callscale.records import Request
    from callscale.search.searchers.agent_rules import heuristic_llm

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


def _search(env: Any, picker: Any, trials: int, store_path: Path, search_id: str, on_trial: Any = None,
            parallel: int = 1, mapper: Any = None) -> Any:
    from callscale.search.archive import Archive
    from callscale.search.base import run_search

    archive = Archive(store_path)
    return run_search(env, picker, n_trials=trials, archive=archive, search_id=search_id, test=True,
                      on_trial=on_trial, batch_size=parallel, mapper=mapper)


def _trial_mapper(executor: Executor | None) -> Any:
    """Ray tasks for the trials of a search without calls under ``--executor ray`` (else in this process)."""
    if executor is None or executor.kind != "ray":
        return None
    import functools

    from callscale.executors.ray import ray_map

    return functools.partial(ray_map, address=executor.address)


def _summary(task: str, searcher: str, budget: float, result: Any, env: Any, live: bool, picker: Any,
             report: Path | None) -> dict[str, Any]:
    from callscale.search.base import regret_curve, regret_to_best_found, trials_to_find

    best = result.best
    out: dict[str, Any] = {
        "task": task, "searcher": searcher, "budget": budget, "trials": len(result.trials), "skipped": result.skipped,
        "best": None if best is None else {"config": env.space.named(best.config), "train_score": best.score,
                                           "cost": best.cost, "trial": best.number},
        "test_score": None if result.test is None else result.test.score,
        "configurations_within_budget": env.space.count(budget),
    }
    if live and hasattr(env.inner, "searchable"):
        out["network"] = env.inner.searchable.name
        out["unit"] = env.space.cost_model.unit
        costs = ("declared_cost_per_item", "measured_cost_per_item")
        if best is not None:
            out["best"].update({k: best.info.get(k) for k in costs})
        if result.test is not None:
            out["test"] = {"score": result.test.score, **{k: result.test.info.get(k) for k in costs}}
    if not live:
        optimum = env.optimum(budget)
        curve = regret_curve(result.trials, env.score, optimum.score)
        out["optimum"] = {"config": env.space.named(optimum.config), "score": optimum.score}
        out["trials_to_optimum"] = trials_to_find(result.trials, optimum.config.key)
        out["final_regret"] = curve[-1] if curve else None
    else:
        curve = regret_to_best_found(result.trials)
        out["calls"] = {"made now": env.inner.engine.stats.samples, "from the store": env.inner.engine.stats.cache_hits}
    stats = getattr(picker, "stats", None)
    if stats is not None:
        out["searcher_stats"] = {k: v for k, v in vars(stats).items() if isinstance(v, int | float | str)}
    if report is not None:
        import json

        from callscale.report.search import plot_regret, write_html

        report.mkdir(parents=True, exist_ok=True)
        title = "Regret vs trials" + ("" if not live else " (against the best score found)")
        out["plot"] = plot_regret({searcher: [curve]}, report / "regret.png", title=title, log=not live)
        out["html"] = str(write_html(out, {searcher: [curve]}, report / "index.html", log=not live))
        (report / "summary.json").write_text(json.dumps(out, indent=1, default=str))
    return out


def _unit(s: dict[str, Any]) -> str:
    return {"dollars": " $/item", "flops": " FLOPs/item", "primitive": " m·n/item"}.get(s.get("unit", ""), "")


def render(s: dict[str, Any]) -> None:
    stdout.print(f"{s['searcher']} search on {s['task']} within budget {s['budget']:g} "
                 f"({s['configurations_within_budget']} configurations fit): {s['trials']} trials")
    if s["best"]:
        stdout.print(f"best: {s['best']['config']}  train score {s['best']['train_score']:.3f}  cost {s['best']['cost']:.4g}"
                     f"{_unit(s)}  (trial {s['best']['trial']})")
        measured = s["best"].get("measured_cost_per_item")
        if "unit" in s and measured is not None:
            stdout.print(f"  measured on the training items: {measured:.4g}{_unit(s)} (declared "
                         f"{s['best']['declared_cost_per_item']:.4g})")
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
