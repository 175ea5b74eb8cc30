"""``callscale scale``: measure vote scaling on sample pools, explain it, predict it, and report."""

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
    FailShareOpt,
    Failures,
    JsonOpt,
    ModelOpt,
    ReplayOpt,
    StoreOpt,
    TimeoutOpt,
    UserError,
    backend_and_store,
    backend_spec,
    default_store_path,
    emit,
    progress,
    stdout,
    user_errors,
)
from callscale.engine import MAX_SAMPLES, Engine
from callscale.store import check_store


def scale(
    task: str | None = typer.Option(None, help="Task name or JSONL file (or use --study)."),
    study: str | None = typer.Option(None, help="Run the built-in study: 'small' (minutes) or 'full'."),
    samples: int = typer.Option(16, min=2, max=MAX_SAMPLES, help="Samples per item M (the pool)."),
    fit_on: int = typer.Option(5, min=1, help="Fit the predictors on the first N samples per item."),
    predict_to: int = typer.Option(1000, min=2, max=1001,  # callscale.scaling.fit.EXTEND_MAX (scipy loads lazily)
                                   help="Predict the curve up to this K (exact vote formula to 150, extended beyond)."),
    limit: int | None = typer.Option(None, min=1, help="Use only the first N items."),
    temperature: float = typer.Option(0.8, min=0.0, help="Sampling temperature (part of θ)."),
    max_tokens: int | None = typer.Option(None, min=1, help="Cap on tokens per answer (default: the task's)."),
    permute: bool = typer.Option(False, help="Permute multiple-choice options per sample (part of θ)."),
    logprobs: bool = typer.Option(False, help="Also compute the exact curve from one logprobs call per item."),
    boot: int = typer.Option(200, min=10, help="Bootstrap draws for the prediction bands."),
    report: Path = typer.Option(Path("callscale-report"), help="Directory for index.html, plots and summary.json."),
    model: ModelOpt = None,
    backend: BackendOpt = "local",
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    replay: ReplayOpt = None,
    concurrency: ConcurrencyOpt = None,
    timeout: TimeoutOpt = None,
    connect_timeout: ConnectTimeoutOpt = DEFAULT_CONNECT_TIMEOUT_S,
    fail_share: FailShareOpt = 1.0,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Vote accuracy vs number of calls K: measured (every K ≤ M, exactly), easy/hard breakdown, predicted
    from a few samples per item with bands and best K, and the cost in calls — written as an HTML report."""
    from callscale.pools import PoolSpec, collect_pools, logprob_distributions
    from callscale.primitives.world import TaskWorld, synthetic_answers
    from callscale.report.vote_scaling import analyze_pools, write_report
    from callscale.study import FULL, SMALL, StudyPart
    from callscale.tasks import load_task

    with user_errors():
        spec = backend_spec(backend, model, base_url, api_key_env, replay, concurrency, timeout=timeout,
                            connect_timeout=connect_timeout)
        if (task is None) == (study is None):
            raise UserError("give exactly one of --task or --study")
        if study is not None:
            if study not in ("small", "full"):
                raise UserError(f"unknown study {study!r}; choose 'small' or 'full'")
            parts = [(p, p.load()) for p in (SMALL if study == "small" else FULL)]
        else:
            assert task is not None
            the_task = load_task(task, limit)
            pool = PoolSpec(spec.model_name, samples, temperature, max_tokens, permute)
            parts = [(StudyPart(the_task.name, task, len(the_task), pool, logprobs=logprobs), the_task)]
        for part, loaded in parts:
            if fit_on > part.spec.samples:
                raise UserError(f"--fit-on {fit_on} exceeds the pool size {part.spec.samples}")
            if part.logprobs and not loaded.is_multiple_choice:
                raise UserError(f"--logprobs needs single-token (multiple-choice) answers; {part.name} is free-form")
        store_path = store or default_store_path()
        worlds = {part.name: loaded for part, loaded in parts}

        def world() -> Any:
            merged = next(iter(worlds.values()))
            return TaskWorld(merged, synthetic_answers(merged))

        check_store(store_path)  # before the backend starts: a bad store is one line, nothing started

        async def main() -> tuple[list[Any], dict[str, Any]]:
            results = []
            async with backend_and_store(spec, world, store_path) as (live, db):
                with db.recording("scale", {"parts": [p.name for p, _ in parts], "backend": live.name}) as record:
                    failures = Failures()
                    for part, loaded in parts:
                        engine = Engine(live, store=db, concurrency=spec.concurrency)
                        pool_spec = part.spec if study else PoolSpec(spec.model_name, samples, temperature, max_tokens,
                                                                     permute)
                        with progress(engine, f"pools for {part.name}", not as_json):
                            pools = await collect_pools(engine, loaded, pool_spec)
                            dists = await logprob_distributions(engine, loaded, pool_spec.model) if part.logprobs else None
                        failures.add(engine)
                        record.summary["calls_made"] = failures.made
                        failures.verdict(fail_share, record)
                        nodes = engine.ledger.nodes()
                        calls = {"full curve (system calls)": nodes["generate"].system.calls,
                                 "made now": engine.stats.samples, "from the store": engine.stats.cache_hits,
                                 "failed": engine.failed}
                        if "logprobs" in nodes:
                            calls["logprobs route (system calls)"] = nodes["logprobs"].system.calls
                        settings = {"model": pool_spec.model, "temperature": pool_spec.temperature,
                                    "max_tokens": pool_spec.max_tokens or loaded.sampling.get("max_tokens"),
                                    "permuted options": pool_spec.permute, "top_k/top_p/min_p": "0 / 1 / 0",
                                    "backend": live.name if spec.kind != "replay" else f"replay of {live.name}"}
                        results.append(analyze_pools(part.name, pools, fit_on=fit_on, predict_to=predict_to,
                                                     n_boot=boot, logprob_distributions=dists, settings=settings,
                                                     calls=calls))
            shown = live.name if spec.kind in ("local", "openai", "simulated") else f"{spec.kind} of {live.name}"
            return results, {"calls_made": failures.made, "failures": failures.failed, "backend": shown}

        results, meta = asyncio.run(main())
        path = write_report(results, report, title=f"Vote scaling — {study or task}")
    summary = {"report": str(path), **meta, "parts": [
        {k: getattr(r, k) for k in ("name", "items", "samples", "fit_on", "k_star_measured", "k_star_predicted",
                                    "k_star_interval", "k_enough_predicted", "k_star_chen", "mae_ours", "mae_chen",
                                    "easy_fraction", "hard_fraction", "prior_penalty", "prior_bands", "prior_base",
                                    "k_star_loss", "blocks",
                                    "k_star_measured_interval", "k_star_all", "k_star_all_interval", "mae_all", "calls")}
        | {"accuracy_k1": r.measured[0], "accuracy_kM": r.measured[-1],
           "likelihood_range": {"level": r.range_level,
                                "k": r.range_k, "lo": r.range_lo, "hi": r.range_hi}} for r in results]}
    emit(summary, as_json, render)


def render(summary: dict[str, Any]) -> None:
    for p in summary["parts"]:
        lo, hi = p["k_star_interval"]
        stdout.print(f"[bold]{p['name']}[/]: {p['items']} items × {p['samples']} samples — accuracy "
                     f"{p['accuracy_k1']:.3f} at K=1, {p['accuracy_kM']:.3f} at K={p['samples']}; "
                     f"easy {p['easy_fraction']:.0%}, hard {p['hard_fraction']:.0%}")
        m_lo, m_hi = p["k_star_measured_interval"]
        stdout.print(f"  best K: measured {p['k_star_measured']} (90 % over items {m_lo}–{m_hi}), "
                     f"predicted from {p['fit_on']} samples/item "
                     f"{p['k_star_predicted']} (90 % {lo}–{hi}; within 0.005 of it from K={p['k_enough_predicted']}"
                     + ("" if p["k_star_loss"] is None else f"; loses {p['k_star_loss']:.4f} on the measured curve")
                     + "), "
                     f"Chen's law {p['k_star_chen']}; "
                     f"MAE ours {p['mae_ours']:.4f} vs Chen {p['mae_chen']:.4f}")
        if len(p["blocks"]) > 1:
            stdout.print(f"  fitted on each block of {p['fit_on']} samples/item in turn: MAE ours "
                         + ", ".join(f"{b['mae_ours']:.4f}" for b in p["blocks"]) + " vs Chen "
                         + ", ".join(f"{b['mae_chen']:.4f}" for b in p["blocks"]) + "; best K "
                         + ", ".join(f"{b['k_star']:g}" for b in p["blocks"]))
        if p["k_star_all"] is not None:
            a_lo, a_hi = p["k_star_all_interval"]
            stdout.print(f"  best K predicted from all {p['samples']} samples/item (what to use beyond K={p['samples']}): "
                         f"{p['k_star_all']} (90 % {a_lo}–{a_hi}; in-sample MAE over K ≤ {p['samples']} "
                         f"{p['mae_all']:.4f})")
        span = p["likelihood_range"]
        if span["k"]:
            stdout.print(f"  what {p['fit_on']} samples/item allow, any prior ({span['level']:.0%} likelihood range): "
                         + ", ".join(f"K={k} {lo:.3f}–{hi:.3f}" for k, lo, hi in zip(span["k"], span["lo"], span["hi"],
                                                                                   strict=True)))
        stdout.print("  calls: " + ", ".join(f"{k} {v}" for k, v in p["calls"].items()))
    stdout.print(f"calls made now: {summary['calls_made']} on {summary['backend']}")
    stdout.print(f"report: {summary['report']}")
