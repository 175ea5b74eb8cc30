"""``callscale run``: a network of primitives over a task, with accuracy, abstentions and costs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from callscale.backends.openai_compat import DEFAULT_CONNECT_TIMEOUT_S
from callscale.cli.common import (
    ApiKeyEnvOpt,
    BackendOpt,
    BaseUrlOpt,
    ConcurrencyOpt,
    ConnectTimeoutOpt,
    Executor,
    ExecutorOpt,
    FailShareOpt,
    Failures,
    JsonOpt,
    ModelOpt,
    ModelsOpt,
    RayAddressOpt,
    ReplayOpt,
    StoreOpt,
    TimeoutOpt,
    WorkersOpt,
    backend_spec,
    cost_tables,
    default_store_path,
    emit,
    engine_and_store,
    stdout,
    user_errors,
)
from callscale.cli.progress import QuietOpt, declared_calls, progress
from callscale.engine import MAX_SAMPLES
from callscale.store import check_store


def run(
    task: str = typer.Option(..., help="Task name (see `callscale tasks`) or a JSONL/CSV file of rows."),
    template: str | None = typer.Option(None, help="Prompt template over a task file's row fields ('Compute {a} + {b}.'), "
                                                   "or a file holding one."),
    parser: str | None = typer.Option(None, help="Answer parser: number | letter | yes-no | exact | regex:PATTERN."),
    scorer: str | None = typer.Option(None, help="Scorer: exact | numeric | contains."),
    network: str = typer.Option("vote", help="Built-in network (generate, vote, filter_vote, select, knockout, fuse, "
                                             "verify) or a YAML/TOML network file."),
    k: int = typer.Option(5, min=1, max=MAX_SAMPLES, help="Samples per item for built-in networks."),
    limit: int | None = typer.Option(None, min=1, help="Use only the first N items."),
    model: ModelOpt = None,
    judge_model: str | None = typer.Option(None, help="Judge model for filter/select/knockout/fuse/verify."),
    temperature: float = typer.Option(1.0, min=0.0, help="Sampling temperature of the generator."),
    max_tokens: int | None = typer.Option(None, min=1, help="Cap on generated tokens per answer."),
    permute: bool = typer.Option(False, help="Permute multiple-choice options per sample (part of θ)."),
    show_answers: bool = typer.Option(False, help="Print each item's answer next to the gold one."),
    backend: BackendOpt = "local",
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    replay: ReplayOpt = None,
    concurrency: ConcurrencyOpt = None,
    timeout: TimeoutOpt = None,
    connect_timeout: ConnectTimeoutOpt = DEFAULT_CONNECT_TIMEOUT_S,
    fail_share: FailShareOpt = 1.0,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
    store: StoreOpt = None,
    models: ModelsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a network over a task and report accuracy (95 % CI), abstain rate and cost per node."""
    from callscale.networks import builtin_network, load_network, run_network
    from callscale.primitives.world import TaskWorld, synthetic_answers
    from callscale.tasks import load_task

    with user_errors():
        spec = backend_spec(backend, model, base_url, api_key_env, replay, concurrency, timeout=timeout,
                            connect_timeout=connect_timeout)
        where = Executor(executor, ray_address, workers).check()
        the_task = load_task(task, limit, template=template, parser=parser, scorer=scorer)
        path = Path(network)
        if path.suffix in (".yaml", ".yml", ".toml") or path.exists():
            net = load_network(path, default_model=spec.model_name)
        else:
            net = builtin_network(network, spec.model_name, k=k, judge_model=judge_model, temperature=temperature,
                                  permute=permute, max_tokens=max_tokens)
        store_path = store or default_store_path()

        def world() -> Any:
            return TaskWorld(the_task, synthetic_answers(the_task))

        check_store(store_path)  # before the backend starts: a bad store is one line, nothing started

        async def main() -> dict[str, Any]:
            async with engine_and_store(spec, world, store_path, models=net.models(), models_file=models,
                                        concurrency=spec.concurrency, executor=where) as (engine, db, backend_name):
                config = {"task": the_task.name, "network": net.name, "backend": backend_name, "items": len(the_task)}
                with db.recording("run", config) as record:
                    pools = engine.track_pools()
                    with progress(engine, f"{net.name} on {the_task.name}", not quiet, declared_calls(net, the_task)):
                        result = await run_network(net, the_task, engine)
                    failures = Failures()
                    failures.add(engine)
                    summary = result.as_dict() | {"backend": backend_name, "store": str(store_path),
                                                  "calls_made": engine.stats.samples, "retries": engine.stats.retries,
                                                  "failures": engine.failed, "first_failure": engine.first_failure}
                    record.summary.update({k: v for k, v in summary.items() if k != "outcomes"})
                    db.add_outcomes(record.id, ((o.item_id, o.answer, o.score, o.gold) for o in result.outcomes))
                    db.link_pools(record.id, pools)
                    failures.verdict(fail_share, record)
                    return summary

        summary = asyncio.run(main())
    emit(summary, as_json, lambda s: render(s, show_answers))


def render(summary: dict[str, Any], show_answers: bool) -> None:
    lo, hi = summary["accuracy_ci95"]
    if show_answers:
        for o in summary["outcomes"]:
            mark = "✓" if o["score"] >= 1 else ("½" if o["score"] > 0 else "✗")
            stdout.print(f"{mark} {o['item_id']}: answered {o['answer']!s:>8}  gold {o['gold']}")
    stdout.print(f"{summary['network']} on {summary['task']} ({summary['items']} items, backend {summary['backend']})")
    stdout.print(f"accuracy {summary['accuracy']:.3f}  (95 % CI {lo:.3f}–{hi:.3f})   abstain rate "
                 f"{summary['abstain_rate']:.3f}")
    stdout.print(f"calls: declared {summary['declared_calls']}, measured {summary['ledger']['total']['system']['calls']}, "
                 f"made now {summary['calls_made']} (retries {summary['retries']}, failed {summary['failures']})")
    for table in cost_tables(summary["ledger"], stdout.width):
        stdout.print(table)
    stdout.print(f"store: {summary['store']}", soft_wrap=True, markup=False)  # a path is never broken
