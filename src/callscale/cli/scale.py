"""``callscale scale``: measure vote scaling on sample pools, explain it, predict it, and report."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Iterator
from concurrent.futures import Executor as WorkPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

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
    RayAddressOpt,
    ReplayOpt,
    StoreOpt,
    TimeoutOpt,
    UserError,
    WorkersOpt,
    backend_and_store,
    backend_spec,
    default_store_path,
    emit,
    stderr,
    stdout,
    user_errors,
)
from callscale.cli.progress import QuietOpt, planned_samples, progress
from callscale.engine import MAX_SAMPLES, Engine
from callscale.store import check_store

if TYPE_CHECKING:
    from callscale.backends.factory import BackendSpec
    from callscale.pools import PoolSpec
    from callscale.scaling.analysis import VoteScaling
    from callscale.scaling.estimate import PoolItem
    from callscale.study import StudyPart
    from callscale.tasks.items import Task

Parts = list[tuple["StudyPart", "Task"]]


def scale(
    task: str | None = typer.Option(None, help="Task name or JSONL file (or use --study)."),
    study: str | None = typer.Option(None, help="Run the built-in study: 'small' (minutes) or 'full'."),
    pool: list[Path] | None = typer.Option(None, "--pool", help="Analyse answers recorded elsewhere (no calls): JSONL "
                                           "{id, gold, answers}, CSV item_id,sample,answer,gold, or Parquet. Repeat to "
                                           "compare files side by side."),
    parser: str = typer.Option("exact", help="With --pool: how answers and gold are compared (number | letter | "
                                             "yes-no | exact | regex:PATTERN)."),
    samples: int = typer.Option(16, min=2, max=MAX_SAMPLES, help="Samples per item M (the pool)."),
    fit_on: int = typer.Option(5, min=1, help="Fit the predictors on the first N samples per item."),
    predict_to: int = typer.Option(1000, min=2, max=1001,  # callscale.scaling.grid.EXTEND_MAX (scipy loads lazily)
                                   help="Predict the curve up to this K (exact vote formula to 150, extended beyond)."),
    limit: int | None = typer.Option(None, min=1, help="Use only the first N items (of every part with --study)."),
    temperature: float = typer.Option(0.8, min=0.0, help="Sampling temperature (part of θ)."),
    max_tokens: int | None = typer.Option(None, min=1, help="Cap on tokens per answer (default: the task's)."),
    permute: bool = typer.Option(False, help="Permute multiple-choice options per sample (part of θ)."),
    logprobs: bool = typer.Option(False, help="Also compute the exact curve from one logprobs call per item."),
    boot: int = typer.Option(200, min=10, help="Bootstrap draws for the prediction bands."),
    report: Path = typer.Option(Path("callscale-report"), help="Directory for the report (index.html) and summary.json."),
    model: ModelOpt = None,
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
    as_json: JsonOpt = False,
    details: bool = typer.Option(False, "--details", help="Also print what backs each decision (accuracies, best K "
                                                          "measured and predicted, fit errors, calls); the report and "
                                                          "--json hold it all."),
    quiet: QuietOpt = False,
    more: int = typer.Option(0, "--more", help="Then spend N further calls where they narrow the prediction most "
                                              "(items whose vote at large K is still open), when the decision is "
                                              "not settled (always with --more-target), and report before/after."),
    more_target: int | None = typer.Option(None, "--more-target", help="With --more: narrow the band at this K "
                                                                        "(default: the best-K interval)."),
    more_cap: int | None = typer.Option(None, "--more-cap", help="With --more: at most this many samples per item "
                                                                 "(default: 4 × --samples)."),
    more_plan: str = typer.Option("targeted", "--more-plan", help="With --more: 'targeted' (in rounds, re-scored) "
                                                                  "or 'uniform' (spread evenly, for comparison)."),
) -> None:
    """Vote accuracy vs number of calls K: measured (every K ≤ M, exactly), easy/hard breakdown, predicted
    from a few samples per item with bands and best K, and the cost in calls — written as an HTML report."""
    from callscale.pools import PoolSpec
    from callscale.report.vote_scaling import write_report
    from callscale.scaling.analysis import summary_of

    with user_errors():
        extra = More.checked(more, more_target, more_cap, more_plan, samples, bool(pool))
        if pool:
            if task is not None or study is not None:
                raise UserError("give one of --task, --study or --pool")
            analysis = {"fit_on": fit_on, "predict_to": predict_to, "n_boot": boot}
            records = [r.to_dict() for r in _recorded(pool, parser, limit, analysis)]
            path = write_report(records, report, title="Vote scaling — " + ", ".join(p.name for p in pool))
            emit({"report": str(path), "calls_made": 0, "backend": "none (recorded answers)",
                  "parts": [summary_of(r) for r in records]}, as_json, lambda s: render(s, details, notes=not quiet))
            return
        spec = backend_spec(backend, model, base_url, api_key_env, replay, concurrency, timeout=timeout,
                            connect_timeout=connect_timeout)
        if (task is None) == (study is None):
            raise UserError("give exactly one of --task, --study or --pool")
        where = Executor(executor, ray_address, workers).check()
        drawn = PoolSpec(spec.model_name, samples, temperature, max_tokens, permute)
        parts = _parts(task, study, model, limit, drawn, logprobs)
        for part, loaded in parts:
            if fit_on > part.spec.samples:
                raise UserError(f"--fit-on {fit_on} exceeds the pool size {part.spec.samples}")
            if part.logprobs and not loaded.is_multiple_choice:
                raise UserError(f"--logprobs needs single-token (multiple-choice) answers; {part.name} is free-form")
        store_path = store or default_store_path()
        check_store(store_path)  # before the backend starts: a bad store is one line, nothing started
        analysis = {"fit_on": fit_on, "predict_to": predict_to, "n_boot": boot}
        results, meta = asyncio.run(_run(spec, parts, store_path, analysis, fail_share, show_progress=not quiet,
                                         executor=where, more=extra))
        records = [r.to_dict() for r in results]  # serialised once: the report, the JSON and the terminal
        for record, per_call, spent in zip(records, meta.pop("cost_per_call"), meta.pop("more"), strict=True):
            if per_call:
                record["cost_per_call"] = per_call
            if spent is not None:
                record["more"] = spent
        path = write_report(records, report, title=f"Vote scaling — {study or task}")
    emit({"report": str(path), **meta, "parts": [summary_of(r) for r in records]}, as_json,
         lambda s: render(s, details, notes=not quiet))


def _recorded(files: list[Path], parser: str, limit: int | None, analysis: dict[str, int]) -> list[VoteScaling]:
    """Analyse each recorded pool file as one part (its name: the file's stem, made unique)."""
    from callscale.logs import PoolFileError, read_pool_file
    from callscale.scaling.analysis import analyze_pools

    parts: list[tuple[str, Path, list[Any]]] = []
    for path in files:
        try:
            items = read_pool_file(path, parser=parser)[:limit]
        except PoolFileError as exc:
            raise UserError(str(exc)) from None
        m = len(items[0].answers)
        if analysis["fit_on"] > m:
            raise UserError(f"--fit-on {analysis['fit_on']} exceeds the {m} samples per item of {path}")
        if m < 2:
            raise UserError(f"{path}: a pool needs at least 2 samples per item, it has {m}")
        name = path.name.split(".")[0]
        name = name if name not in [p[0] for p in parts] else str(path)
        parts.append((name, path, items))
    return [analyze_pools(name, items, fit_on=analysis["fit_on"], predict_to=analysis["predict_to"],
                          n_boot=analysis["n_boot"], settings={"source": str(path), "parser": parser},
                          calls={"recorded samples": sum(len(i.answers) for i in items), "made now": 0})
            for name, path, items in parts]


def _parts(task: str | None, study: str | None, model: str | None, limit: int | None, pool: PoolSpec,
           logprobs: bool) -> Parts:
    """The parts to measure with their items: the study's (drawn from ``--model`` when given, cut to
    ``--limit``), or the one task's drawn as ``pool`` says."""
    from callscale.study import StudyPart, study_parts
    from callscale.tasks import load_task

    if study is not None:
        try:
            chosen = study_parts(study, model=model, limit=limit)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return [(p, p.load()) for p in chosen]
    assert task is not None
    the_task = load_task(task, limit)
    return [(StudyPart(the_task.name, task, len(the_task), pool, logprobs=logprobs), the_task)]


def _world(parts: Parts) -> Any:
    """The simulated world answering for the items of every part."""
    from callscale.primitives.world import simulated_world

    return simulated_world(*(loaded for _, loaded in parts))


async def _run(spec: BackendSpec, parts: Parts, store_path: Path, analysis: dict[str, int], fail_share: float,
               *, show_progress: bool, executor: Executor | None = None,
               more: More | None = None) -> tuple[list[VoteScaling], dict[str, Any]]:
    """Draw every part's pools through one backend and store, and analyse each (with ``more``: then draw
    further samples where they narrow the prediction most, and analyse again)."""
    results = []
    spent: list[dict[str, Any] | None] = []
    async with backend_and_store(spec, lambda: _world(parts), store_path, executor=executor) as (live, db):
        with db.recording("scale", {"parts": [p.name for p, _ in parts], "backend": live.name}) as record, \
                _analysis_pool(len(parts), executor, more) as pool:
            failures = Failures()
            per_call = []
            pending = []
            for part, loaded in parts:
                engine = Engine(live, store=db, concurrency=spec.concurrency)
                pending.append(await _part(engine, part, loaded, analysis, show_progress, spec, live.name, more,
                                           mapper=_mapper(executor), pool=pool))
                per_call.append(cost_per_call(engine))
                failures.add(engine)
                record.summary["calls_made"] = failures.made
                failures.verdict(fail_share, record)
            for analysed, summary in pending:  # the analyses still running in the pool, in order
                results.append(await analysed)
                spent.append(summary)
    shown = live.name if spec.kind in ("local", "openai", "simulated") else f"{spec.kind} of {live.name}"
    return results, {"calls_made": failures.made, "failures": failures.failed, "backend": shown, "cost_per_call": per_call,
                     "more": spent}


@contextlib.contextmanager
def _analysis_pool(parts: int, executor: Executor | None, more: More | None) -> Iterator[Any]:
    """Local processes that analyse each part while the next one draws its samples (``None`` when the
    parts are analysed here: a single part, ``--more`` (it needs the analysis before drawing), or
    ``--executor ray``, whose analysis fans out on the cluster)."""
    if parts < 2 or (more is not None and more.n) or (executor is not None and executor.kind == "ray"):
        yield None
        return
    from callscale.executors.local import available_cpus, process_pool

    with process_pool(min(parts, available_cpus())) as pool:
        yield pool


def _mapper(executor: Executor | None) -> Any:
    """Where the analysis's independent fits run: Ray tasks under ``--executor ray``, else the default
    (local processes when the work is large)."""
    if executor is None or executor.kind != "ray":
        return None
    import functools

    from callscale.executors.ray import ray_map

    return functools.partial(ray_map, address=executor.address)


def cost_per_call(engine: Engine) -> dict[str, float]:
    """The mean system cost of one sampling call of a part's pools: dollars when every price is known,
    FLOPs when the model's size is (empty when neither is).

    Example:
        >>> from callscale.backends.simulated import SimulatedBackend
        >>> cost_per_call(Engine(SimulatedBackend.constant({"4": 1.0})))
        {}
    """
    line = engine.ledger.nodes().get("generate")
    if line is None or not line.system.calls:
        return {}
    out: dict[str, float] = {}
    if line.system.flops:
        out["flops"] = line.system.flops / line.system.calls
    if line.system.priced and line.system.dollars:
        out["dollars"] = line.system.dollars / line.system.calls
    return out


async def _part(engine: Engine, part: StudyPart, loaded: Task, analysis: dict[str, int], show_progress: bool,
                spec: BackendSpec, backend_name: str, more: More | None = None, mapper: Any = None,
                pool: WorkPool | None = None) -> tuple[Awaitable[VoteScaling], dict[str, Any] | None]:
    """One part: its pools (and logprobs route) drawn through ``engine``, then analysed; with ``more``, then
    its further samples drawn and analysed again (the result: the analysis after, and what ``more`` did).
    With a process ``pool`` the analysis runs there and the result's analysis is still to be awaited."""
    from callscale.pools import collect_pools, top_logprobs
    from callscale.scaling.measured import letter_distribution

    pool_spec = part.spec
    planned = planned_samples(len(loaded), pool_spec.samples, len(loaded) if part.logprobs else 0)
    with progress(engine, f"pools for {part.name}", show_progress, planned):
        pools = await collect_pools(engine, loaded, pool_spec)
        tops = await top_logprobs(engine, loaded, pool_spec.model) if part.logprobs else None
    dists = None if tops is None else [letter_distribution(t.top, t.gold, t.letters) for t in tops]
    settings = {"model": pool_spec.model, "temperature": pool_spec.temperature,
                "max_tokens": pool_spec.max_tokens or loaded.sampling.get("max_tokens"),
                "permuted options": pool_spec.permute, "top_k/top_p/min_p": "0 / 1 / 0",
                "backend": backend_name if spec.kind != "replay" else f"replay of {backend_name}"}

    def analysed(pools: list[PoolItem]) -> VoteScaling:
        return _analyse(part.name, pools, analysis, dists, settings, _calls(engine), mapper)

    if pool is not None:
        job = functools.partial(_analyse, part.name, pools, analysis, dists, settings, _calls(engine), mapper)
        return asyncio.get_running_loop().run_in_executor(pool, job), None
    before = analysed(pools)
    if more is None or not more.n:
        return _done(before), None
    if more.target is None and before.decision.get("settled"):
        return _done(before), more.summary(before, before, 0, 0)
    made = engine.stats.samples
    with progress(engine, f"{more.n} more samples for {part.name}", show_progress, more.n):
        pools = await more.draw(engine, loaded, pool_spec, pools, before)
    after = analysed(pools)
    return _done(after), more.summary(before, after, more.n, engine.stats.samples - made)


def _analyse(name: str, pools: list[PoolItem], analysis: dict[str, int], dists: Any, settings: dict[str, Any],
             calls: dict[str, Any], mapper: Any) -> VoteScaling:
    """One part's analysis (a module-level function, so that a process pool can run it)."""
    from callscale.scaling.analysis import analyze_pools

    return analyze_pools(name, pools, fit_on=analysis["fit_on"], predict_to=analysis["predict_to"],
                         n_boot=analysis["n_boot"], logprob_distributions=dists, settings=settings,
                         calls=calls, mapper=mapper)


async def _done(value: VoteScaling) -> VoteScaling:
    return value


def _calls(engine: Engine) -> dict[str, Any]:
    """The calls behind a part's pools so far: system calls, made now, from the store, failed."""
    nodes = engine.ledger.nodes()
    calls = {"full curve (system calls)": nodes["generate"].system.calls, "made now": engine.stats.samples,
             "from the store": engine.stats.cache_hits, "failed": engine.failed}
    if "logprobs" in nodes:
        calls["logprobs route (system calls)"] = nodes["logprobs"].system.calls
    return calls


def render(summary: dict[str, Any], details: bool = False, notes: bool = True) -> None:
    """The terminal summary of ``summary`` (the JSON ``--json`` prints): per part its decision, first (with
    ``details``, then what backs it); then where the report is. Without ``details`` the calls made are a
    note on stderr (with ``notes``)."""
    from callscale.report.vote_scaling import summary_lines

    if details:
        lines = [line for line in summary_lines(summary) if not line.startswith("report: ")]
    else:
        lines = [line for part in summary["parts"] for line in part_lines(part)]
        if notes:
            stderr.print(f"calls made now: {summary['calls_made']} on {summary['backend']}", markup=False)
    for line in lines:
        stdout.print(line)
    stdout.print(f"report: {summary['report']}", soft_wrap=True, markup=False)  # a path is never broken


def part_lines(part: dict[str, Any]) -> list[str]:
    """A part in the short summary (rich markup): its decision sentence, or without one, its measured best K."""
    decision = part.get("decision") or {}
    if decision.get("sentence"):
        lines = [f"[bold]{escape(part['name'])}[/]: {escape(decision['sentence'])}"]
    else:
        lines = [f"[bold]{escape(part['name'])}[/]: accuracy {part['accuracy_k1']:.3f} at K=1, {part['accuracy_kM']:.3f} "
                 f"at K={part['samples']}; measured best K {part['k_star_measured']} (no decision: see the report)"]
    return lines + frontier_lines(part) + more_lines(part)


def frontier_lines(part: dict[str, Any]) -> list[str]:
    """One line on the part's adaptive-voting frontier (none without one)."""
    f = part.get("frontier")
    if not f:
        return []
    reach = f"the best fixed K's accuracy (K={f['best_k']})"
    cheapest = f.get("cheapest")
    if not cheapest:
        return [f"  adaptive voting: no rule tested reaches {reach}"]
    calls = cheapest["shuffled_calls"]
    saved = 1 - calls / f["best_k"]
    return [f"  adaptive voting: {escape(cheapest['rule'])} reaches {reach} at {calls:.1f} calls per item "
            + (f"({saved * 100:.0f} % fewer)" if saved >= 0.005 else "(no fewer calls)")]


def more_lines(part: dict[str, Any]) -> list[str]:
    """One line on what ``--more`` did for the part (none without it)."""
    m = part.get("more")
    if not m:
        return []
    head = f"  --more {m['requested']}"
    if not m["calls"]:
        return [f"{head}: the decision was already settled; no more calls"]
    b, a = m["before"], m["after"]
    return [f"{head}: best K interval {_interval(b)} → {_interval(a)}; band at K={a['band_k']} "
            f"±{b['half_width'] * 100:.1f} → ±{a['half_width'] * 100:.1f} points ({m['calls']} calls, {m['plan']})"]


def _interval(view: dict[str, Any]) -> str:
    lo, hi = view["k_star_interval"]
    return f"{lo}–{hi}"


@dataclass(frozen=True)
class More:
    """What ``--more`` asks: ``n`` further samples, spread by ``plan`` to narrow the band at ``target``
    (``None``: the best-K interval), at most ``cap`` samples per item."""

    n: int
    target: int | None
    cap: int
    plan: str

    @classmethod
    def checked(cls, n: int, target: int | None, cap: int | None, plan: str, samples: int,
                recorded: bool) -> More | None:
        """The request, or ``None`` without one; a :class:`UserError` for what cannot be done."""
        if n < 0:
            raise UserError(f"--more must be ≥ 0, got {n}")
        if plan not in ("targeted", "uniform"):
            raise UserError(f"--more-plan must be 'targeted' or 'uniform', got {plan!r}")
        if target is not None and target < 1:
            raise UserError(f"--more-target must be ≥ 1, got {target}")
        if n == 0:
            if target is not None or cap is not None:
                raise UserError("--more-target and --more-cap need --more N")
            return None
        if recorded:
            raise UserError("--more draws new samples; recorded answers (--pool) have none to draw")
        limit = min(MAX_SAMPLES, 4 * samples) if cap is None else cap
        if not samples < limit <= MAX_SAMPLES:
            raise UserError(f"--more-cap must lie above --samples {samples} and at most {MAX_SAMPLES}, got {limit}")
        return cls(n, target, limit, plan)

    def ks(self, before: VoteScaling) -> tuple[int, ...]:
        """The K whose band the targeted plan narrows."""
        from callscale.scaling.active import target_ks

        if self.target is not None:
            return target_ks(self.target, self.target)
        return target_ks(*before.decision.get("k_star_interval", (31, 1001)))

    async def draw(self, engine: Engine, task: Task, spec: PoolSpec, pools: list[Any],
                   before: VoteScaling) -> list[Any]:
        """``pools`` grown by :attr:`n` samples: targeted in rounds (re-scored on the new counts), or uniform.
        An item's pool of S samples grown by m is its first S + m samples: the stored ones are reused."""
        from callscale.scaling.active import round_sizes, targeted_plan, uniform_plan
        from callscale.scaling.estimate import item_counts

        if self.cap * len(pools) - sum(len(p.answers) for p in pools) < self.n:
            raise UserError(f"--more {self.n} does not fit under --more-cap {self.cap} samples per item "
                            f"for {len(pools)} items")
        ks = self.ks(before)
        rounds = round_sizes(self.n) if self.plan == "targeted" else [self.n]
        for size in rounds:
            counts = [item_counts(p.answers, p.gold) for p in pools]
            ids = [p.id for p in pools]
            have = [len(p.answers) for p in pools]
            plan = (targeted_plan(counts, size, ids=ids, ks=ks, cap=self.cap, have=have) if self.plan == "targeted"
                    else uniform_plan(counts, size, ids=ids, cap=self.cap, have=have))
            pools = await _grow(engine, task, spec, pools, plan)
        return pools

    def summary(self, before: VoteScaling, after: VoteScaling, calls: int, made: int) -> dict[str, Any]:
        """``--json``'s ``more``: what was asked, calls spent (``made_now``: not from the store), before/after."""
        k = self.target if self.target is not None else _decision_k(before)
        return {"requested": self.n, "calls": calls, "made_now": made, "plan": self.plan, "cap": self.cap,
                "target_k": self.target, "before": _view(before, k), "after": _view(after, k)}


async def _grow(engine: Engine, task: Task, spec: PoolSpec, pools: list[Any], plan: dict[str, int]) -> list[Any]:
    """Each planned item's pool asked for its extra samples (the same Sample node, more samples)."""
    from callscale.primitives import Candidates, ItemContext
    from callscale.scaling.estimate import PoolItem

    by_id = {item.id: item for item in task.items}

    async def one(pool: PoolItem) -> PoolItem:
        m = plan.get(pool.id, 0)
        if not m:
            return pool
        node = replace(spec, samples=len(pool.answers) + m).sample_node()
        drawn = await node.run(ItemContext(engine, task, by_id[pool.id]), [])
        assert isinstance(drawn, Candidates)
        return PoolItem(pool.id, pool.gold, tuple(drawn.answers))

    return list(await asyncio.gather(*(one(p) for p in pools)))


def _decision_k(record: VoteScaling) -> int:
    """The K the decision sentence quotes the accuracy at (the largest what-if K ≤ 30)."""
    shown = [w["k"] for w in record.decision.get("what_if", [])]
    return max((k for k in shown if k <= 30), default=shown[-1] if shown else record.samples)


def _view(record: VoteScaling, k: int) -> dict[str, Any]:
    """A part's best-K interval, whether settled, and the band at the grid's largest K ≤ ``k`` (of the
    prediction the decision uses: from every sample when there is one, else the primary law's)."""
    main = record.law(record.primary)
    lo, hi = (record.predicted_all_lo, record.predicted_all_hi) if record.predicted_all_lo else (main.lo, main.hi)
    ks = record.predicted_k
    i = max([j for j, kk in enumerate(ks) if kk <= k], default=0)
    return {"settled": bool(record.decision.get("settled")),
            "k_star_interval": list(record.decision.get("k_star_interval") or main.k_star_interval),
            "band_k": ks[i], "band": [lo[i], hi[i]], "half_width": (hi[i] - lo[i]) / 2}
