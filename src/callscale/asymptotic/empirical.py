"""Measured cost growth: run a decomposition at increasing sizes, fit how its cost grows.

* :class:`PassLedger` — a ledger that also counts the paper's forward-pass cost
  m·(T·P + T(T−1)/2) per call (see :mod:`callscale.asymptotic.symbolic`); give it to an
  :class:`~callscale.engine.Engine` and :func:`ledger_metrics` reads every measure back.
* :func:`loglog_slope` — least-squares slope of log cost on log size with a t-interval.
* :func:`fit_classes` — which of the candidate classes (1, log n, n, n log n, n², n³, 2^n, n·2^n)
  fits best: each is fitted as c·f(n) + d (c > 0, relative least squares; d absorbs lower-order
  terms), ranked by the relative RMS error; the simpler class wins a near tie.
* :func:`check_growth` — all of that for one measure, next to the declared (symbolic) values and
  growth class: exact agreement, the declared curve's own slope over the same sizes, and whether
  the best class is the declared one.

Example:
    >>> fit = loglog_slope([2, 4, 8, 16], [3 * n**2 for n in (2, 4, 8, 16)])
    >>> round(fit.slope, 6)
    2.0
    >>> fit_classes([2, 4, 8, 16, 32], [n * 2**n for n in (2, 4, 8, 16, 32)])[0].growth.label()
    'n·2^n'
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscale.asymptotic.symbolic import Growth
from callscale.costs import METRICS, call_passes
from callscale.engine import Engine
from callscale.ledger import Ledger
from callscale.records import Completion, ModelCard

CANDIDATES: tuple[Growth, ...] = (
    Growth(),
    Growth(log_power=1),
    Growth(power=1),
    Growth(power=1, log_power=1),
    Growth(power=2),
    Growth(power=3),
    Growth(base=2),
    Growth(base=2, power=1),
)
"""Candidate growth classes, simplest first: 1, log n, n, n log n, n², n³, 2^n, n·2^n."""


# -- measuring -----------------------------------------------------------------------------------
class PassLedger(Ledger):
    """A :class:`~callscale.ledger.Ledger` that also sums m·(forward-pass contexts) per node (system view).

    Example:
        >>> from callscale.records import Usage
        >>> ledger = PassLedger()
        >>> ledger.record("gen", ModelCard("m", params=2), Completion("x y z", 0, Usage(10, 3)))
        >>> ledger.passes()
        66
    """

    def __init__(self) -> None:
        super().__init__()
        self._passes: dict[str, int] = {}

    def record(self, node: str, card: ModelCard, completion: Completion, depth: int = 1) -> None:
        """Count ``completion`` as :meth:`Ledger.record` does, plus its forward-pass cost."""
        super().record(node, card, completion, depth)
        if completion.error is None:
            u = completion.usage
            self._passes[node] = self._passes.get(node, 0) + card.params * call_passes(u.prompt_tokens, u.completion_tokens)

    def passes(self, node: str | None = None) -> int:
        """Forward-pass cost of one node, or of everything."""
        if node is not None:
            return self._passes.get(node, 0)
        return sum(self._passes.values())

    def merge(self, other: Ledger) -> None:
        """Add another ledger's lines (and its pass costs, when it keeps them)."""
        super().merge(other)
        if isinstance(other, PassLedger):
            for node, value in other._passes.items():
                self._passes[node] = self._passes.get(node, 0) + value


def ledger_metrics(ledger: Ledger) -> dict[str, float]:
    """The measures of :data:`~callscale.asymptotic.symbolic.METRICS` from a ledger's system totals.

    ``passes`` is there only for a :class:`PassLedger`.

    Example:
        >>> ledger_metrics(PassLedger())["calls"]
        0
    """
    total = ledger.total().system
    out: dict[str, float] = {
        "calls": total.calls,
        "prompt_tokens": total.prompt_tokens,
        "completion_tokens": total.completion_tokens,
        "tokens": total.prompt_tokens + total.completion_tokens,
        "primitive": total.primitive_cost,
        "depth": ledger.depth,
    }
    if isinstance(ledger, PassLedger):
        out["passes"] = ledger.passes()
    return out


@dataclass(frozen=True)
class Measurement:
    """Measured cost of one run at one size (``detail`` holds what the run reported)."""

    size: float
    metrics: Mapping[str, float]
    detail: Mapping[str, Any] = field(default_factory=dict)


async def measure(run: Callable[[int, Engine], Awaitable[Mapping[str, Any] | None]], sizes: Sequence[int],
                  engine: Callable[[int], Engine]) -> tuple[Measurement, ...]:
    """Run ``run(size, engine(size))`` at each size on a fresh engine and read its ledger.

    Give the engines a :class:`PassLedger` to measure the forward-pass cost too.

    Example:
        >>> from callscale.backends.simulated import SimulatedBackend
        >>> from callscale.records import Request
        >>> async def vote(k, eng):
        ...     await eng.complete(Request.chat("m", "q"), k)
        >>> import asyncio
        >>> ms = asyncio.run(measure(vote, [1, 4], lambda k: Engine(SimulatedBackend.constant({"A": 1.0}))))
        >>> [m.metrics["calls"] for m in ms]
        [1, 4]
    """
    out = []
    for s in sizes:
        eng = engine(s)
        detail = await run(s, eng)
        out.append(Measurement(s, ledger_metrics(eng.ledger), dict(detail or {})))
    return tuple(out)


# -- fitting -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit log y = intercept + slope·log n, with a ``confidence`` t-interval on the slope."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    r2: float
    points: int
    confidence: float = 0.95

    def contains(self, value: float, tolerance: float = 1e-9) -> bool:
        """Whether ``value`` lies in the interval widened by ``tolerance`` (default: rounding only)."""
        return self.ci_low - tolerance <= value <= self.ci_high + tolerance

    def as_dict(self) -> dict[str, Any]:
        return {"slope": self.slope, "ci": [self.ci_low, self.ci_high], "r2": self.r2, "points": self.points,
                "confidence": self.confidence}


def loglog_slope(sizes: Sequence[float], values: Sequence[float], confidence: float = 0.95, *,
                 log_x: bool = True) -> SlopeFit:
    """Slope of ln(values) on ln(sizes) with a Student-t confidence interval (infinite with two points).

    With ``log_x=False`` it is the slope of log2(values) on the sizes themselves: the rate of an
    exponential in doublings per unit of size (1 for 2^n).

    Example:
        >>> f = loglog_slope([1, 2, 3, 4], [2**k for k in (1, 2, 3, 4)], log_x=False)
        >>> round(f.slope, 6)
        1.0
    """
    import numpy as np
    from scipy import stats

    x = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError("need at least two (size, value) pairs")
    if np.any(y <= 0) or (log_x and np.any(x <= 0)):
        raise ValueError("sizes and values must be positive for a log-log fit")
    lx = np.log(x) if log_x else x
    ly = np.log(y) if log_x else np.log2(y)
    if np.ptp(lx) == 0:
        raise ValueError("need at least two different sizes")
    fit = stats.linregress(lx, ly)
    n = len(x)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 2) * fit.stderr) if n > 2 else math.inf
    return SlopeFit(float(fit.slope), float(fit.intercept), float(fit.slope) - half, float(fit.slope) + half,
                    float(fit.rvalue**2), n, confidence)


@dataclass(frozen=True)
class ClassFit:
    """One candidate class fitted as ``scale·f(n) + offset``; ``rms`` is the relative RMS error."""

    growth: Growth
    scale: float
    offset: float
    rms: float

    def as_dict(self) -> dict[str, Any]:
        return {"class": self.growth.label(), "scale": self.scale, "offset": self.offset, "rms": self.rms}


def fit_classes(sizes: Sequence[float], values: Sequence[float],
                candidates: Sequence[Growth] = CANDIDATES, tie: float = 0.02) -> tuple[ClassFit, ...]:
    """Every candidate fitted to the points, best first (a simpler class wins within ``tie`` relative RMS).

    Example:
        >>> ns = [4, 8, 16, 32, 64]
        >>> fit_classes(ns, [n * math.log(n) + 5 for n in ns])[0].growth.label()
        'n log n'
    """
    import numpy as np
    from scipy.optimize import lsq_linear

    x = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    if np.any(y <= 0):
        raise ValueError("values must be positive")
    fits: list[tuple[int, ClassFit]] = []
    for order, g in enumerate(candidates):
        with np.errstate(all="ignore"):
            logf = g.log_value(x)
        if not np.all(np.isfinite(logf)):
            continue
        f = np.exp(logf - logf.max())  # scaled to at most 1, for conditioning
        if np.ptp(f) == 0 and g.key() != Growth().key():
            continue
        design = np.column_stack([f / y, 1.0 / y])  # relative residuals: (c·f + d)/y − 1
        coef = lsq_linear(design, np.ones_like(y), bounds=([0.0, -np.inf], [np.inf, np.inf])).x
        if coef[0] <= 0:
            continue
        residual = design @ coef - 1.0
        rms = float(np.sqrt(np.mean(residual**2)))
        scale = float(coef[0] * math.exp(-float(logf.max())))
        fits.append((order, ClassFit(g, scale, float(coef[1]), rms)))
    if not fits:
        return ()
    best = min(f.rms for _, f in fits)
    first = min((o, i) for i, (o, f) in enumerate(fits) if f.rms <= best + tie)[1]
    ranked = sorted((f for i, (_, f) in enumerate(fits) if i != first), key=lambda f: f.rms)
    return (fits[first][1], *ranked)


@dataclass(frozen=True)
class GrowthCheck:
    """Measured growth of one measure next to the declared one.

    ``slope`` is the log-log fit of the measured values (for exponential growth: log2 value on size,
    doublings per unit); ``declared_slope`` the same fit of the declared values over the same sizes;
    ``best`` the best-fitting class among :data:`CANDIDATES` and the declared one;
    ``declared_growth`` the symbolic class; ``max_relative_error`` the largest |measured − declared| / declared.
    """

    metric: str
    sizes: tuple[float, ...]
    measured: tuple[float, ...]
    declared: tuple[float, ...] | None
    slope: SlopeFit
    declared_slope: float | None
    classes: tuple[ClassFit, ...]
    declared_growth: Growth | None
    log_x: bool = True

    @property
    def best(self) -> Growth | None:
        return self.classes[0].growth if self.classes else None

    @property
    def exact(self) -> bool:
        """Whether measured and declared agree at every size (to 1e-9 relative)."""
        return self.max_relative_error is not None and self.max_relative_error <= 1e-9

    @property
    def max_relative_error(self) -> float | None:
        if self.declared is None:
            return None
        return max(abs(m - d) / abs(d) if d else abs(m) for m, d in zip(self.measured, self.declared, strict=True))

    @property
    def class_agrees(self) -> bool | None:
        """Whether the best-fitting class is the declared growth class (None when either is unknown)."""
        if self.best is None or self.declared_growth is None:
            return None
        return self.best.same(self.declared_growth)

    @property
    def slope_agrees(self) -> bool | None:
        """Whether the declared curve's slope lies in the measured slope's interval (±0.02)."""
        if self.declared_slope is None:
            return None
        return self.slope.contains(self.declared_slope, 0.02)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "sizes": list(self.sizes),
            "measured": list(self.measured),
            "declared": list(self.declared) if self.declared is not None else None,
            "fit": "log-log" if self.log_x else "log2-linear",
            "slope": self.slope.as_dict(),
            "declared_slope": self.declared_slope,
            "best_class": self.best.label() if self.best else None,
            "classes": [c.as_dict() for c in self.classes],
            "declared_growth": self.declared_growth.label() if self.declared_growth else None,
            "class_agrees": self.class_agrees,
            "slope_agrees": self.slope_agrees,
            "exact": self.exact,
            "max_relative_error": self.max_relative_error,
        }


def check_growth(metric: str, sizes: Sequence[float], measured: Sequence[float],
                 declared: Sequence[float] | None = None, declared_growth: Growth | None = None,
                 confidence: float = 0.95) -> GrowthCheck:
    """Fit the measured growth of ``metric`` and set it against the declared values and class.

    Exponential declared growth is fitted log2-linearly (log2 value on size), polynomial growth log-log.

    Example:
        >>> c = check_growth("calls", [2, 4, 8], [4, 16, 64], [4, 16, 64], Growth(power=2))
        >>> c.exact, round(c.slope.slope, 6), c.class_agrees
        (True, 2.0, True)
    """
    log_x = not (declared_growth is not None and declared_growth.exponential)
    slope = loglog_slope(sizes, measured, confidence, log_x=log_x)
    declared_slope = None
    if declared is not None and all(d > 0 for d in declared):
        declared_slope = loglog_slope(sizes, declared, confidence, log_x=log_x).slope
    candidates = CANDIDATES
    if declared_growth is not None and not any(declared_growth.same(c) for c in CANDIDATES):
        candidates = (*CANDIDATES, declared_growth)
    classes = fit_classes(sizes, measured, candidates) if len(sizes) >= 3 else ()
    return GrowthCheck(metric, tuple(float(s) for s in sizes), tuple(float(m) for m in measured),
                       tuple(float(d) for d in declared) if declared is not None else None,
                       slope, declared_slope, classes, declared_growth, log_x)


# -- analyses ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SizeRow:
    """Every decomposition at one size: measured and declared measures, and what each run reported.

    ``declared`` may lack a measure the declaration cannot give exactly (e.g. tokens of a network file).
    """

    size: int
    sizes: Mapping[str, Any]
    measured: Mapping[str, Mapping[str, float]]
    declared: Mapping[str, Mapping[str, float]]
    detail: Mapping[str, Mapping[str, Any]]

    def gain(self, metric: str, baseline: str, improved: str, which: str = "measured") -> float:
        """Cost of ``baseline`` over ``improved`` in ``metric`` (``which``: measured or declared)."""
        table = self.measured if which == "measured" else self.declared
        return table[baseline][metric] / table[improved][metric]

    def as_dict(self) -> dict[str, Any]:
        return {"size": self.size, "sizes": dict(self.sizes), "measured": {k: dict(v) for k, v in self.measured.items()},
                "declared": {k: dict(v) for k, v in self.declared.items()},
                "detail": {k: dict(v) for k, v in self.detail.items()}}


EXACT_METRICS = METRICS  # every measure is an exact count


@dataclass(frozen=True)
class Analysis:
    """Decompositions measured over sizes of ``vary``: rows, growth checks and the symbolic side.

    ``checks`` has one :class:`GrowthCheck` per decomposition and, with two of them, one for
    ``"gain"`` (the first over the second). ``exact`` says whether every declared measure equals
    the measured one at every size; ``symbolic`` holds expressions and Θ terms (None without sympy).
    """

    example: str
    title: str
    paper: str
    vary: str
    fixed: Mapping[str, Any]
    metric: str
    backend: str
    seeds: int
    decompositions: tuple[str, ...]
    rows: tuple[SizeRow, ...]
    checks: Mapping[str, GrowthCheck]
    symbolic: Mapping[str, Any] | None
    notes: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return self.decompositions

    def mismatches(self) -> list[tuple[int, str, str, float, float]]:
        """(size, decomposition, measure, measured, declared) wherever they differ."""
        out = []
        for row in self.rows:
            for d, declared in row.declared.items():
                for m, want in declared.items():
                    got = row.measured[d].get(m)
                    if m in EXACT_METRICS and got is not None and abs(got - want) > 1e-9 * max(1.0, abs(want)):
                        out.append((row.size, d, m, got, want))
        return out

    @property
    def exact(self) -> bool:
        return not self.mismatches()

    def as_dict(self) -> dict[str, Any]:
        return {
            "example": self.example,
            "title": self.title,
            "paper": self.paper,
            "vary": self.vary,
            "fixed": dict(self.fixed),
            "metric": self.metric,
            "backend": self.backend,
            "seeds": self.seeds,
            "decompositions": list(self.decompositions),
            "exact": self.exact,
            "rows": [r.as_dict() for r in self.rows],
            "checks": {k: c.as_dict() for k, c in self.checks.items()},
            "symbolic": self.symbolic,
            "notes": self.notes,
        }


# -- network files -------------------------------------------------------------------------------
class StructureError(ValueError):
    """A network whose declared call structure cannot be analysed in the requested size."""


RUN_SIZES = ("document", "prompt")
"""Size keys a run can set: the item's document words (MapReduce) or its prompt words."""


def network_at(network: Any, vary: str, value: Any) -> Any:
    """``network`` with every node that has a field ``vary`` set to ``value`` (nodes that refuse keep theirs).

    Example:
        >>> from callscale.networks import vote_network
        >>> network_at(vote_network("m", k=3), "k", 7).nodes[0].k
        7
    """
    import dataclasses

    from callscale.networks import Network

    nodes = []
    for node in network.nodes:
        names = {f.name for f in dataclasses.fields(node)}
        if vary in names and vary not in ("id", "inputs", "model"):
            with contextlib.suppress(TypeError, ValueError):
                node = dataclasses.replace(node, **{vary: value})
        nodes.append(node)
    return Network(network.name, tuple(nodes), network.output)


def varied_fields(network: Any, vary: str) -> list[str]:
    """Ids of the nodes whose field ``vary`` a size sets."""
    import dataclasses

    return [n.id for n in network.nodes if vary in {f.name for f in dataclasses.fields(n)} and vary not in ("id", "inputs")]


def network_sizes(network: Any, vary: str, value: Any, prompt_words: Any, answer_tokens: Any = 1) -> tuple[Any, dict[str, Any]]:
    """The network and the size mapping for :meth:`Network.cost` at ``vary = value``."""
    sizes: dict[str, Any] = {"prompt": prompt_words, "answer": answer_tokens, "document": prompt_words}
    if varied_fields(network, vary):
        return network_at(network, vary, value), sizes
    sizes[vary] = value
    if vary == "prompt":
        sizes["document"] = value
    return network, sizes


def declared_network_cost(network: Any, sizes: Mapping[str, Any]) -> Any:
    """``network.cost(sizes)``, with a clear error for nodes that declare no structure."""
    try:
        return network.cost(sizes)
    except NotImplementedError:
        raise StructureError(f"network {network.name!r} has a node that does not declare its call structure") from None


def check_structure(network: Any, vary: str, values: Sequence[int]) -> None:
    """Raise :class:`StructureError` unless the declared calls, tokens or depth change with ``vary``."""
    if not varied_fields(network, vary) and vary not in RUN_SIZES:
        fields = sorted({f for n in network.nodes for f in _numeric_fields(n)})
        raise StructureError(f"network {network.name!r} has no size {vary!r}: vary a node field ({', '.join(fields)}) "
                             f"or one of {', '.join(RUN_SIZES)}")
    seen = set()
    for value in values:
        net, sizes = network_sizes(network, vary, value, 10)
        c = declared_network_cost(net, sizes)
        seen.add((c.calls, c.tokens, c.depth))
    if len(seen) < 2:
        raise StructureError(f"network {network.name!r} declares no call structure that depends on {vary!r}")


def _numeric_fields(node: Any) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(node)
            if isinstance(getattr(node, f.name), int) and not isinstance(getattr(node, f.name), bool)]


def synthetic_network_task(items: int, vary: str, value: int) -> Any:
    """Free-form sums for a simulated run; ``prompt``/``document`` sizes pad the question or add a document."""
    from callscale.tasks.items import Item, Task
    from callscale.tasks.parsers import parse_number

    out = []
    for i in range(items):
        question = f"What is {i} + {i}?"
        metadata: dict[str, Any] = {}
        if vary == "prompt":
            pad = max(0, int(value) - len(question.split()))
            question = " ".join(["w"] * pad + [question])
        if vary == "document":
            metadata["document"] = " ".join(["w"] * int(value))
        out.append(Item(id=f"s{i}", question=question, answer=str(2 * i), metadata=metadata))
    return Task("sums", tuple(out), "{question}", parser=parse_number, sampling={"max_tokens": 8})


def simulated_network_backend(task: Any) -> Any:
    """A TaskWorld on one-word answers (gold 0.6, gold + 1 0.4), tokens counted in words; prompts the
    world does not know (MapReduce's map and reduce calls) get a one-word reply."""
    from callscale.backends.base import BackendError
    from callscale.backends.simulated import SimulatedBackend
    from callscale.primitives.world import TaskWorld

    answers = {it.id: {it.answer: 0.6, str(int(it.answer) + 1): 0.4} for it in task.items}
    world = TaskWorld(task, answers)

    def respond(request: Any) -> Mapping[str, float]:
        try:
            return world(request)
        except BackendError:
            return {"w": 1.0}

    return SimulatedBackend(respond, name="simulated-words", prompt_tokens=lambda r: len(r.text.split()),
                            completion_tokens=lambda t: len(t.split()))


async def analyze_network(network: Any, vary: str, sizes: Sequence[int], *, metric: str = "calls",
                          engine: Callable[[Any], Engine] | None = None, task: Any = None, items: int = 4,
                          backend_name: str = "simulated", symbolic: bool = True) -> Analysis:
    """Measure a network's cost per item at each size of ``vary`` (a node field such as ``k``, or
    ``document``/``prompt`` words) and check calls and depth against its declared structure.

    Without ``engine`` the run is simulated on ``items`` synthetic free-form items; ``engine(task)``
    builds an engine for a real run of ``task``. Token measures are reported but not declared (the
    declaration does not know a real prompt's or a judge's lengths).

    Example:
        >>> import asyncio
        >>> from callscale.networks import vote_network
        >>> a = asyncio.run(analyze_network(vote_network("m", 1), "k", [1, 2, 4], symbolic=False))
        >>> [r.measured["vote-k1"]["calls"] for r in a.rows], a.exact
        ([1.0, 2.0, 4.0], True)
    """
    from callscale.asymptotic.symbolic import sympy_available

    check_structure(network, vary, sizes)
    rows: list[SizeRow] = []
    for value in sizes:
        the_task = task if task is not None else synthetic_network_task(items, vary, value)
        net, _ = network_sizes(network, vary, value, 0)
        eng = engine(the_task) if engine is not None else Engine(simulated_network_backend(the_task), ledger=PassLedger())
        for item in the_task.items:
            await net.run_item(eng, the_task, item)
        n = len(the_task.items)
        eng.store.flush()  # the backend may be shared: leave it open
        if eng.ledger.total().spent.failed:
            raise RuntimeError(f"network {network.name!r}: {eng.ledger.total().spent.failed} call(s) at {vary}={value} failed")
        measured = {k: float(v) / n if k != "depth" else float(v) for k, v in ledger_metrics(eng.ledger).items()}
        declared_calls: list[float] = []
        declared_depth = 0.0
        for item in the_task.items:
            words = len(str(item.metadata.get("document") or item.question).split())
            _, item_sizes = network_sizes(network, vary, value, words)
            c = declared_network_cost(net, item_sizes)
            declared_calls.append(float(c.calls))
            declared_depth = max(declared_depth, float(c.depth))
        declared = {"calls": sum(declared_calls) / n, "depth": declared_depth}
        rows.append(SizeRow(value, {vary: value}, {network.name: measured}, {network.name: declared},
                            {network.name: {"items": n}}))
    growth_cls = None
    summary = None
    if symbolic and sympy_available():
        from callscale.asymptotic.symbolic import growth, size_symbol, symbolic_cost

        k = size_symbol(vary)
        net, sym_sizes = network_sizes(network, vary, k, size_symbol("prompt"), size_symbol("answer"))
        if vary == "document" or vary == "prompt":
            sym_sizes[vary] = k
        cost = symbolic_cost(declared_network_cost(net, sym_sizes))
        if k in getattr(cost[metric], "free_symbols", set()):
            growth_cls = growth(cost[metric], k)
        th = cost.theta(metric)
        summary = {"metric": metric, "vary": vary, "decompositions": {network.name: {
            "cost": cost.as_dict(), "theta": str(th), "growth": {v: g.label(v) for v, g in th.growth.items()},
            "theta_depth": str(cost.theta("depth"))}}}
    xs = [float(r.size) for r in rows]
    measured_values = [r.measured[network.name][metric] for r in rows]
    declared_values = [r.declared[network.name][metric] for r in rows] if metric in ("calls", "depth") else None
    checks = {network.name: check_growth(metric, xs, measured_values, declared_values, growth_cls)}
    return Analysis(network.name, f"network {network.name}", "", vary, {}, metric, backend_name, 0, (network.name,),
                    tuple(rows), checks, summary, "Costs per item; calls and depth are checked against the declaration.")


__all__ = [
    "CANDIDATES",
    "EXACT_METRICS",
    "Analysis",
    "ClassFit",
    "GrowthCheck",
    "Measurement",
    "PassLedger",
    "SizeRow",
    "SlopeFit",
    "StructureError",
    "analyze_network",
    "call_passes",
    "check_growth",
    "fit_classes",
    "ledger_metrics",
    "loglog_slope",
    "measure",
]
