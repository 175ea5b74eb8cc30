"""Networks: primitives composed into DAGs and multi-stage pipelines, in Python or a YAML/TOML file.

Each item runs the whole DAG; independent nodes run concurrently. A network declares its call
structure (the sum of its nodes', with depth along the longest path), which is checked against the
ledger in tests and used by the asymptotic analysis.

Example:
    >>> net = vote_network("m", k=5)
    >>> net.cost(defaultdict(int)).calls
    5
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from callscale.engine import Engine
from callscale.primitives import (
    Decision,
    Filter,
    FilterVote,
    Fuse,
    Generate,
    ItemContext,
    Knockout,
    MapReduce,
    Node,
    Route,
    Sample,
    Select,
    Shape,
    Specialist,
    Value,
    Verify,
    Vote,
)
from callscale.structure import Cost, Expr, smax
from callscale.tasks.items import Item, Task

OPS: dict[str, type[Node]] = {
    "generate": Generate,
    "sample": Sample,
    "vote": Vote,
    "filter": Filter,
    "filter_vote": FilterVote,
    "select": Select,
    "knockout": Knockout,
    "fuse": Fuse,
    "verify": Verify,
    "route": Route,
    "map_reduce": MapReduce,
}
BUILTIN = ("generate", "vote", "filter_vote", "select", "knockout", "fuse", "verify")


class NetworkError(ValueError):
    """A network definition that cannot work; the message names the file and the field."""


@dataclass(frozen=True)
class Network:
    """A DAG of nodes; ``output`` (default: the last node) must produce a decision."""

    name: str
    nodes: tuple[Node, ...]
    output: str | None = None

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for node in self.nodes:
            if node.id in seen:
                raise NetworkError(f"network {self.name!r}: duplicate node id {node.id!r}")
            for source in node.inputs:
                if source not in seen:
                    raise NetworkError(f"network {self.name!r}: node {node.id!r} reads {source!r}, "
                                       "which is not defined before it")
            seen.add(node.id)
        if not self.nodes:
            raise NetworkError(f"network {self.name!r} has no nodes")
        if self.output is not None and self.output not in seen:
            raise NetworkError(f"network {self.name!r}: output {self.output!r} is not a node")

    @property
    def output_id(self) -> str:
        return self.output or self.nodes[-1].id

    def models(self) -> tuple[str, ...]:
        """Every model the network calls."""
        return tuple(dict.fromkeys(m for node in self.nodes for m in node.models()))

    async def run_item(self, engine: Engine, task: Task, item: Item) -> dict[str, Value]:
        """Every node's value for one item (independent nodes run concurrently)."""
        ctx = ItemContext(engine, task, item)
        running: dict[str, asyncio.Task[Value]] = {}

        async def run(node: Node) -> Value:
            inputs = [await running[s] for s in node.inputs]
            return await node.run(ctx, inputs)

        for node in self.nodes:
            running[node.id] = asyncio.ensure_future(run(node))
        try:
            await asyncio.gather(*running.values())
        finally:
            for t in running.values():
                t.cancel()
        return {k: t.result() for k, t in running.items()}

    def cost(self, sizes: Mapping[str, Expr]) -> Cost:
        """Declared cost per item: all nodes' calls, depth along the longest dependent chain."""
        shapes: dict[str, Shape] = {}
        depth: dict[str, Expr] = {}
        groups: list[Any] = []
        for node in self.nodes:
            own, shapes[node.id] = node.cost(sizes, [shapes[s] for s in node.inputs])
            before = smax(*[depth[s] for s in node.inputs]) if node.inputs else 0
            depth[node.id] = before + own.depth
            groups.extend(own.groups)
        return Cost(tuple(groups), depth[self.output_id])


@dataclass(frozen=True)
class ItemOutcome:
    """One item's result: the decided answer and its exact expected score."""

    item_id: str
    answer: str | None
    score: float
    gold: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """A network's run over a task."""

    network: str
    task: str
    outcomes: tuple[ItemOutcome, ...]
    ledger: Mapping[str, Any]
    declared_calls: int
    elapsed_s: float

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def accuracy(self) -> float:
        return sum(o.score for o in self.outcomes) / self.n if self.n else 0.0

    @property
    def abstain_rate(self) -> float:
        return sum(o.answer is None for o in self.outcomes) / self.n if self.n else 0.0

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """Wilson score interval of the accuracy (95 % by default)."""
        return wilson(self.accuracy, self.n, z)

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.interval()
        return {
            "network": self.network,
            "task": self.task,
            "items": self.n,
            "accuracy": self.accuracy,
            "accuracy_ci95": [lo, hi],
            "abstain_rate": self.abstain_rate,
            "declared_calls": self.declared_calls,
            "elapsed_s": round(self.elapsed_s, 3),
            "ledger": self.ledger,
            "outcomes": [dataclasses.asdict(o) for o in self.outcomes],
        }


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` observed on ``n`` trials.

    Example:
        >>> [round(x, 3) for x in wilson(0.5, 100)]
        [0.404, 0.596]
    """
    if n == 0:
        return 0.0, 1.0
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def item_sizes(item: Item) -> defaultdict[str, Expr]:
    """Numeric sizes of one item for the declared cost (tokens unknown → 0; document words counted)."""
    sizes: defaultdict[str, Expr] = defaultdict(int)
    sizes["document"] = len(str(item.metadata.get("document") or item.question).split())
    return sizes


async def run_network(network: Network, task: Task, engine: Engine) -> RunResult:
    """Run ``network`` on every item of ``task``; returns accuracy, abstentions and the ledger."""
    started = time.perf_counter()

    async def one(item: Item) -> ItemOutcome:
        values = await network.run_item(engine, task, item)
        decision = values[network.output_id]
        if not isinstance(decision, Decision):
            raise NetworkError(f"network {network.name!r}: output {network.output_id!r} does not decide an answer")
        score = decision.score_with(lambda a: task.score(a, item))
        detail = {k: v for k, v in decision.detail.items() if isinstance(v, str | int | float | bool | type(None))}
        return ItemOutcome(item.id, decision.answer, score, item.answer, detail)

    outcomes = await asyncio.gather(*(one(item) for item in task.items))
    declared = sum(int(network.cost(item_sizes(item)).calls) for item in task.items)
    return RunResult(network.name, task.name, tuple(outcomes), engine.ledger.as_dict(), declared,
                     time.perf_counter() - started)


# -- built-in networks ---------------------------------------------------------------------------
def vote_network(model: str, k: int, *, temperature: float = 1.0, permute: bool = False,
                 max_tokens: int | None = None) -> Network:
    """Sample k answers and take the plurality."""
    return Network(f"vote-k{k}", (Sample("generate", model, k, temperature, max_tokens, permute),
                                  Vote("vote", inputs=("generate",))))


def builtin_network(name: str, model: str, *, k: int = 5, judge_model: str | None = None,
                    temperature: float = 1.0, permute: bool = False, max_tokens: int | None = None) -> Network:
    """A named network: ``generate``, ``vote``, ``filter_vote``, ``select``, ``knockout``, ``fuse``, ``verify``."""
    judge = judge_model or model
    sample = Sample("generate", model, k, temperature, max_tokens, permute)
    if name == "generate":
        return Network("generate", (Generate("generate", model, temperature=temperature, max_tokens=max_tokens),))
    if name == "vote":
        return vote_network(model, k, temperature=temperature, permute=permute, max_tokens=max_tokens)
    if name == "filter_vote":
        return Network(f"filter_vote-k{k}", (FilterVote("filter_vote", model, judge, k, temperature,
                                                        max_tokens=max_tokens, permute=permute),))
    if name in ("select", "knockout", "fuse"):
        pick: Node = {"select": Select, "knockout": Knockout, "fuse": Fuse}[name](name, judge, inputs=("generate",))
        return Network(f"{name}-k{k}", (sample, pick))
    if name == "verify":
        return Network("verify", (Generate("generate", model, temperature=temperature, max_tokens=max_tokens),
                                  Verify("verify", judge, inputs=("generate",))))
    raise NetworkError(f"unknown network {name!r}; built-in networks are {', '.join(BUILTIN)}, or give a YAML/TOML file")


# -- declarative files ---------------------------------------------------------------------------
def load_network(path: str | Path, *, default_model: str | None = None) -> Network:
    """Read a network from YAML or TOML. Errors name the file, the node and the field.

    A file has ``name``, optional ``defaults`` (e.g. ``model``) and either ``nodes`` (each with
    ``id``, ``op`` and optional ``inputs``) or ``stages`` (the same, but a stage without ``inputs``
    reads the previous stage), plus an optional ``output``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise NetworkError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        raw = tomllib.loads(text) if p.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise NetworkError(f"{p}: not valid {'TOML' if p.suffix == '.toml' else 'YAML'} ({exc})") from None
    return network_from_dict(raw, source=str(p), default_model=default_model)


def network_from_dict(raw: Any, *, source: str = "<network>", default_model: str | None = None) -> Network:
    """Build a network from parsed YAML/TOML data (see :func:`load_network`)."""
    if not isinstance(raw, Mapping):
        raise NetworkError(f"{source}: expected a mapping with 'nodes' or 'stages'")
    unknown = set(raw) - {"name", "defaults", "nodes", "stages", "output"}
    if unknown:
        raise NetworkError(f"{source}: unknown top-level fields {sorted(unknown)}")
    chained = "stages" in raw
    entries = raw.get("stages" if chained else "nodes")
    if not isinstance(entries, list) or not entries:
        raise NetworkError(f"{source}: 'nodes' (or 'stages') must be a non-empty list")
    defaults = dict(raw.get("defaults") or {})
    if default_model and "model" not in defaults:
        defaults["model"] = default_model
    nodes: list[Node] = []
    for position, entry in enumerate(entries):
        where = f"{source}: {'stages' if chained else 'nodes'}[{position}]"
        if not isinstance(entry, Mapping):
            raise NetworkError(f"{where}: expected a mapping")
        previous = (nodes[-1].id,) if chained and nodes else ()
        nodes.append(_node(dict(entry), defaults, previous, where))
    try:
        return Network(str(raw.get("name") or Path(source).stem), tuple(nodes), raw.get("output"))
    except NetworkError as exc:
        raise NetworkError(f"{source}: {exc}") from None


def _node(entry: dict[str, Any], defaults: Mapping[str, Any], previous: tuple[str, ...], where: str) -> Node:
    op = entry.pop("op", None)
    node_id = entry.get("id")
    if not node_id or not isinstance(node_id, str):
        raise NetworkError(f"{where}: every node needs a string 'id'")
    where = f"{where} ({node_id})"
    if op not in OPS:
        raise NetworkError(f"{where}: unknown op {op!r}; choose one of {', '.join(OPS)}")
    cls = OPS[op]
    allowed = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(entry) - allowed
    if unknown:
        raise NetworkError(f"{where}: unknown fields {sorted(unknown)} for op {op!r}; allowed: {sorted(allowed - {'id'})}")
    kwargs = {k: v for k, v in defaults.items() if k in allowed} | entry
    kwargs["inputs"] = tuple(entry.get("inputs", previous))
    if op == "route":
        specialists = kwargs.get("specialists")
        if not isinstance(specialists, Mapping) or not specialists:
            raise NetworkError(f"{where}: 'specialists' must map names to {{model, system}}")
        try:
            kwargs["specialists"] = {name: Specialist(**(s if isinstance(s, Mapping) else {"model": s}))
                                     for name, s in specialists.items()}
        except TypeError as exc:
            raise NetworkError(f"{where}: bad specialist ({exc})") from None
    for name in ("model", "delegator", "judge_model"):
        if name in allowed and name not in kwargs:
            raise NetworkError(f"{where}: missing '{name}' (set it on the node or in 'defaults')")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"{where}: {exc}") from None


def describe(network: Network) -> str:
    """A one-line-per-node text description."""
    lines = [f"network {network.name}"]
    for node in network.nodes:
        fields_ = {f.name: getattr(node, f.name) for f in dataclasses.fields(node)  # type: ignore[arg-type]
                   if f.name not in ("id", "inputs")}
        shown = ", ".join(f"{k}={v}" for k, v in fields_.items() if v not in (None, {}, ()))
        arrow = f" <- {', '.join(node.inputs)}" if node.inputs else ""
        lines.append(f"  {node.id}: {type(node).__name__}({shown}){arrow}")
    return "\n".join(lines)


def to_json(network: Network) -> str:
    """The network's description as JSON (for reports)."""
    return json.dumps({"name": network.name, "nodes": [
        {"id": n.id, "op": type(n).__name__, "inputs": list(n.inputs)} for n in network.nodes]})


__all__ = [
    "BUILTIN",
    "OPS",
    "ItemOutcome",
    "Network",
    "NetworkError",
    "RunResult",
    "builtin_network",
    "describe",
    "item_sizes",
    "load_network",
    "network_from_dict",
    "run_network",
    "vote_network",
    "wilson",
]
