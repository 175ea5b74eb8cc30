"""Engine-driven measurement: run a decomposition at growing sizes and read its cost from the ledger.

* :class:`PassLedger` — a ledger that also counts the paper's forward-pass cost
  m·(T·P + T(T−1)/2) per call (:func:`callscale.costs.call_passes`); give it to an
  :class:`~callscale.engine.Engine` and :func:`ledger_metrics` reads every measure back.
* :func:`measure` — a run at each size on a fresh engine, one :class:`Measurement` each.
* :func:`analyze_network` — a network file measured at each size (simulated on synthetic items, or
  on a real task) and checked against its declared structure.

The fitting itself is :mod:`callscale.asymptotic.empirical`, on the rows measured here.

Example:
    >>> import asyncio
    >>> from callscale.networks import vote_network
    >>> a = asyncio.run(analyze_network(vote_network("m", 1), "k", [1, 2, 4], symbolic=False))
    >>> [r.measured["vote-k1"]["calls"] for r in a.rows], a.exact
    ([1.0, 2.0, 4.0], True)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscale.asymptotic.empirical import Analysis, SizeRow, growth_checks
from callscale.asymptotic.network_structure import check_structure, declared_network_cost, network_sizes, network_symbolic
from callscale.asymptotic.synthetic import synthetic_backend
from callscale.costs import call_passes
from callscale.engine import Engine
from callscale.ledger import Ledger
from callscale.records import Completion, ModelCard


class RunFailedError(RuntimeError):
    """A run's calls finally failed (after the engine's retries), so its measured cost is not the system's."""


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
    """The measures of :data:`~callscale.costs.METRICS` from a ledger's system totals.

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


def failed_calls(engine: Engine) -> int:
    """Flush the engine's store (the backend may be shared: it stays open) and count the calls that finally failed."""
    engine.store.flush()
    return engine.ledger.total().spent.failed


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


# -- network files -------------------------------------------------------------------------------
def synthetic_network_task(items: int, vary: str, value: int) -> Any:
    """Free-form sums for a simulated run; ``prompt``/``document`` sizes pad the question or add a document.

    Example:
        >>> synthetic_network_task(2, "prompt", 8).items[1].question
        'w w w What is 1 + 1?'
    """
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
    """A TaskWorld on one-word answers (gold 0.6, gold + 1 0.4) in the word-count world
    (:func:`~callscale.asymptotic.synthetic.synthetic_backend`, default model size); prompts the
    world does not know (MapReduce's map and reduce calls) get a one-word reply."""
    from callscale.backends.base import BackendError
    from callscale.primitives.world import TaskWorld

    answers = {it.id: {it.answer: 0.6, str(int(it.answer) + 1): 0.4} for it in task.items}
    world = TaskWorld(task, answers)

    def respond(request: Any) -> Mapping[str, float]:
        try:
            return world(request)
        except BackendError:
            return {"w": 1.0}

    return synthetic_backend(respond)


async def _network_row(network: Any, vary: str, value: int, task: Any, eng: Engine) -> SizeRow:
    """Run every item of ``task`` at ``vary = value``: cost per item measured, calls and depth declared."""
    net, _ = network_sizes(network, vary, value, 0)
    for item in task.items:
        await net.run_item(eng, task, item)
    n = len(task.items)
    failed = failed_calls(eng)
    if failed:
        raise RuntimeError(f"network {network.name!r}: {failed} call(s) at {vary}={value} failed")
    measured = {k: float(v) / n if k != "depth" else float(v) for k, v in ledger_metrics(eng.ledger).items()}
    declared_calls: list[float] = []
    declared_depth = 0.0
    for item in task.items:
        words = len(str(item.metadata.get("document") or item.question).split())
        _, item_sizes = network_sizes(network, vary, value, words)
        c = declared_network_cost(net, item_sizes)
        declared_calls.append(float(c.calls))
        declared_depth = max(declared_depth, float(c.depth))
    declared = {"calls": sum(declared_calls) / n, "depth": declared_depth}
    return SizeRow(value, {vary: value}, {network.name: measured}, {network.name: declared}, {network.name: {"items": n}})


async def analyze_network(network: Any, vary: str, sizes: Sequence[int], *, metric: str = "calls",
                          engine: Callable[[Any], Engine] | None = None, task: Any = None, items: int = 4,
                          backend_name: str = "simulated", symbolic: bool = True) -> Analysis:
    """Measure a network's cost per item at each size of ``vary`` (a node field such as ``k``, or
    ``document``/``prompt`` words) and check calls and depth against its declared structure.

    Without ``engine`` the run is simulated on ``items`` synthetic free-form items; ``engine(task)``
    builds an engine for a real run of ``task``. Token measures are reported but not declared (the
    declaration does not know a real prompt's or a judge's lengths).

    Example: the module docstring analyses a vote network in ``k``.
    """
    return await analyze_networks([network], vary, sizes, metric=metric, engine=engine, task=task, items=items,
                                  backend_name=backend_name, symbolic=symbolic)


async def analyze_networks(networks: Sequence[Any], vary: str, sizes: Sequence[int], *, metric: str = "calls",
                           engine: Callable[[Any], Engine] | None = None, task: Any = None, items: int = 4,
                           backend_name: str = "simulated", symbolic: bool = True, name: str | None = None,
                           title: str | None = None, notes: str = "") -> Analysis:
    """:func:`analyze_network` for several networks side by side (e.g. the configurations of a network
    file with choices): each measured on the same items at each size, with its own growth check (and,
    for two, the gain of the first over the second). The symbolic side is the first network's."""
    from callscale.asymptotic.symbolic import sympy_available

    if not networks:
        raise ValueError("no network to analyse")
    names = [net.name for net in networks]
    if len(set(names)) != len(names):
        raise ValueError(f"networks to compare need distinct names, got {names}")
    for net in networks:
        check_structure(net, vary, sizes)
    rows: list[SizeRow] = []
    for value in sizes:
        the_task = task if task is not None else synthetic_network_task(items, vary, value)
        parts = []
        for net in networks:
            eng = engine(the_task) if engine is not None else Engine(simulated_network_backend(the_task), ledger=PassLedger())
            parts.append(await _network_row(net, vary, value, the_task, eng))
        rows.append(SizeRow(value, {vary: value}, {k: v for p in parts for k, v in p.measured.items()},
                            {k: v for p in parts for k, v in p.declared.items()},
                            {k: v for p in parts for k, v in p.detail.items()}))
    summary: Mapping[str, Any] | None = None
    growths: dict[str, Any] = {}
    if symbolic and sympy_available():
        for net in networks:
            own, growths[net.name] = network_symbolic(net, vary, metric)
            summary = summary if summary is not None else own
    checks = growth_checks(rows, names, metric, growths or {name: None for name in names})
    label = title or (f"network {names[0]}" if len(names) == 1 else f"{len(names)} networks")
    said = "Costs per item; calls and depth are checked against the declaration." + (f" {notes}" if notes else "")
    return Analysis(name or names[0], label, "", vary, {}, metric, backend_name, 0, tuple(names),
                    tuple(rows), checks, summary, said)


__all__ = [
    "Measurement",
    "PassLedger",
    "RunFailedError",
    "analyze_network",
    "analyze_networks",
    "failed_calls",
    "ledger_metrics",
    "measure",
    "simulated_network_backend",
    "synthetic_network_task",
]
