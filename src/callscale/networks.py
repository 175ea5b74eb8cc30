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
import functools
import json
import math
import time
import tomllib
import types
import typing
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from callscale.engine import MAX_SAMPLES, Engine
from callscale.primitives import (
    AdaptiveVote,
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
from callscale.primitives.registry import OPS
from callscale.structure import Cost, Expr, smax
from callscale.tasks.items import Item, Task

BUILTIN = ("generate", "vote", "filter_vote", "select", "knockout", "fuse", "verify")
# Field rules in files: every int counts something (≥ 1 unless listed), every float is a temperature (≥ 0, finite).
MODEL_FIELDS = ("model", "delegator", "judge_model")
INT_BOUNDS: dict[tuple[type, str], tuple[int, int | None]] = {(MapReduce, "fan_in"): (2, None), (Generate, "k"): (1, 1),
                                                             (AdaptiveVote, "max"): (1, MAX_SAMPLES),
                                                             (AdaptiveVote, "round"): (1, MAX_SAMPLES)}


class NetworkError(ValueError):
    """A network definition that cannot work; the message names the file, the node and the field."""


@dataclass(frozen=True)
class Kind:
    """What an op's value is (a decided answer, or candidates) and what it reads: any value (a
    decision counts as one candidate) or, with ``reads_decision``, only decided answers."""

    decides: bool
    reads_decision: bool = False
    min_inputs: int = 0
    max_inputs: int | None = None


KINDS: dict[type[Node], Kind] = {
    Generate: Kind(decides=True),
    Sample: Kind(decides=False),
    Vote: Kind(decides=True, min_inputs=1),
    AdaptiveVote: Kind(decides=True),
    Filter: Kind(decides=False, min_inputs=1),
    FilterVote: Kind(decides=True),
    Select: Kind(decides=True, min_inputs=1),
    Knockout: Kind(decides=True, min_inputs=1),
    Fuse: Kind(decides=True, min_inputs=1),
    Verify: Kind(decides=True, reads_decision=True, min_inputs=1, max_inputs=1),
    Route: Kind(decides=True),
    MapReduce: Kind(decides=True),
}
DECIDERS = "e.g. vote, select, knockout or fuse"


def _op(node: Node) -> str:
    """The op name of ``node`` as a file spells it."""
    return next((name for name, cls in OPS.items() if type(node) is cls), type(node).__name__)


def _inputs_problem(node: Node, defined: Mapping[str, Node]) -> str | None:
    """Why ``node``'s inputs (all in ``defined``) are not what its op reads, or None."""
    kind = KINDS.get(type(node))
    if kind is None:
        return None
    count = len(node.inputs)
    if count < kind.min_inputs or (kind.max_inputs is not None and count > kind.max_inputs):
        want = "exactly" if kind.max_inputs == kind.min_inputs else "at least"
        return f"field 'inputs': op {_op(node)!r} reads {want} {kind.min_inputs} node(s), got {count}"
    for source in node.inputs if kind.reads_decision else ():
        if not _decides(defined[source], default=True):
            return (f"field 'inputs': op {_op(node)!r} needs a decided answer, but {source!r} (op "
                    f"{_op(defined[source])!r}) gives candidates; put a node that decides ({DECIDERS}) between them")
    return None


def _decides(node: Node, *, default: bool) -> bool:
    """Whether ``node``'s value is a decided answer (``default`` for node types this module does not know)."""
    kind = KINDS.get(type(node))
    return default if kind is None else kind.decides


def _output_problem(node: Node) -> str | None:
    """Why ``node`` cannot be a network's output, or None."""
    if _decides(node, default=True):
        return None
    return (f"field 'output': op {_op(node)!r} gives candidates, not a decided answer; end the network with a "
            f"node that decides ({DECIDERS})")


@dataclass(frozen=True)
class Network:
    """A DAG of nodes; ``output`` (default: the last node) must produce a decision.

    Each node reads only nodes before it, in the kind its op consumes (checked here)."""

    name: str
    nodes: tuple[Node, ...]
    output: str | None = None

    def __post_init__(self) -> None:
        if not self.nodes:
            raise NetworkError(f"network {self.name!r} has no nodes")
        seen: dict[str, Node] = {}
        for node in self.nodes:
            if node.id in seen:
                raise NetworkError(f"network {self.name!r}: duplicate node id {node.id!r}")
            for source in node.inputs:
                if source not in seen:
                    raise NetworkError(f"network {self.name!r}: node {node.id!r} reads {source!r}, "
                                       "which is not defined before it")
            self._refuse(node.id, _inputs_problem(node, seen))
            seen[node.id] = node
        if self.output is not None and self.output not in seen:
            raise NetworkError(f"network {self.name!r}: output {self.output!r} is not a node")
        self._refuse(self.output_id, _output_problem(seen[self.output_id]))

    def _refuse(self, node_id: str, problem: str | None) -> None:
        """Raise ``problem`` (if any) as a NetworkError naming this network and ``node_id``."""
        if problem:
            raise NetworkError(f"network {self.name!r}: node {node_id!r}: {problem}")

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

    def node_costs(self, sizes: Mapping[str, Expr]) -> dict[str, Cost]:
        """Each node's own declared cost per item (its input sizes from the nodes it reads), by node id."""
        shapes: dict[str, Shape] = {}
        out: dict[str, Cost] = {}
        for node in self.nodes:
            out[node.id], shapes[node.id] = node.cost(sizes, [shapes[s] for s in node.inputs])
        return out

    def cost(self, sizes: Mapping[str, Expr]) -> Cost:
        """Declared cost per item: all nodes' calls, depth along the longest dependent chain."""
        own = self.node_costs(sizes)
        depth: dict[str, Expr] = {}
        for node in self.nodes:
            before = smax(*[depth[s] for s in node.inputs]) if node.inputs else 0
            depth[node.id] = before + own[node.id].depth
        return Cost(tuple(g for node in self.nodes for g in own[node.id].groups), depth[self.output_id])


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

    def to_pandas(self) -> Any:
        """One row per item (id, answer, score, gold) as a ``pandas.DataFrame`` (pandas: an optional extra)."""
        from callscale.export import to_pandas

        return to_pandas({"item": o.item_id, "answer": o.answer, "score": o.score, "gold": o.gold} for o in self.outcomes)

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
    reads the previous stage), plus an optional ``output`` (default: the last node listed). The whole
    file is checked before any call (see :func:`network_from_dict`).
    """
    return network_from_dict(read_network_file(path), source=str(path), default_model=default_model)


def read_network_file(path: str | Path) -> Any:
    """The parsed content of a YAML or TOML network file (a NetworkError naming the file when it
    cannot be read or parsed); what it holds is checked by :func:`network_from_dict`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise NetworkError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        return tomllib.loads(text) if p.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise NetworkError(f"{p}: not valid {'TOML' if p.suffix == '.toml' else 'YAML'} ({exc})") from None


def network_from_dict(raw: Any, *, source: str = "<network>", default_model: str | None = None) -> Network:
    """Build a network from parsed YAML/TOML data (see :func:`load_network`), checking all of it first:
    every field's type and range, that inputs name nodes, form no cycle and are of the kind each op
    reads, and that the output decides an answer. ``nodes`` may be listed in any order."""
    if not isinstance(raw, Mapping):
        raise NetworkError(f"{source}: expected a mapping with 'nodes' or 'stages'")
    unknown = set(raw) - {"name", "defaults", "nodes", "stages", "output"}
    if unknown:
        raise NetworkError(f"{source}: unknown top-level fields {sorted(map(str, unknown))}")
    if "stages" in raw and "nodes" in raw:
        raise NetworkError(f"{source}: give 'nodes' or 'stages', not both")
    chained = "stages" in raw
    entries = raw.get("stages" if chained else "nodes")
    if not isinstance(entries, list) or not entries:
        raise NetworkError(f"{source}: 'nodes' (or 'stages') must be a non-empty list")
    defaults = _defaults(raw.get("defaults"), default_model, source)
    nodes: list[Node] = []
    places: dict[str, str] = {}
    for position, entry in enumerate(entries):
        where = f"{source}: {'stages' if chained else 'nodes'}[{position}]"
        if not isinstance(entry, Mapping):
            raise NetworkError(f"{where}: expected a mapping")
        previous = (nodes[-1].id,) if chained and nodes else ()
        node = _node(dict(entry), defaults, previous, where)
        if node.id in places:
            first = places[node.id].removeprefix(f"{source}: ")
            raise NetworkError(f"{where} ({node.id}): field 'id': duplicate node id {node.id!r} (also {first})")
        places[node.id] = f"{where} ({node.id})"
        nodes.append(node)
    ordered = _ordered(nodes, places)
    output = _output(raw.get("output"), nodes, places, source)
    explicit = raw.get("output") is not None or output != ordered[-1].id  # else Network's default, the last node
    try:
        return Network(str(raw.get("name") or Path(source).stem), tuple(ordered), output if explicit else None)
    except NetworkError as exc:
        raise NetworkError(f"{source}: {exc}") from None


def _defaults(raw: Any, default_model: str | None, source: str) -> dict[str, Any]:
    """The file's ``defaults``: node fields (not ``id``/``inputs``) applied where an op has them."""
    defaults = {} if raw is None else raw
    if not isinstance(defaults, Mapping):
        raise NetworkError(f"{source}: field 'defaults' must be a mapping of node fields, got {defaults!r}")
    known = {f.name for cls in OPS.values() for f in dataclasses.fields(cls)} - {"id", "inputs"}  # type: ignore[arg-type]
    unknown = set(defaults) - known
    if unknown:
        raise NetworkError(f"{source}: field 'defaults': unknown fields {sorted(map(str, unknown))}; "
                           f"allowed: {sorted(known)}")
    out = dict(defaults)
    if default_model and "model" not in out:
        out["model"] = default_model
    return out


def _ordered(nodes: Sequence[Node], places: Mapping[str, str]) -> list[Node]:
    """``nodes`` with each after the nodes it reads (an order that already is stays as it is), and each
    node's inputs of the kind its op reads; an input that is no node, or a cycle, is an error."""
    by_id = {node.id: node for node in nodes}
    done: dict[str, Node] = {}
    path: list[str] = []

    def visit(node: Node) -> None:
        if node.id in done:
            return
        if node.id in path:
            loop = [*path[path.index(node.id):], node.id][::-1]  # in the direction values flow
            raise NetworkError(f"{places[node.id]}: field 'inputs' makes a cycle: {' → '.join(loop)}")
        path.append(node.id)
        for source in node.inputs:
            if source not in by_id:
                raise NetworkError(f"{places[node.id]}: field 'inputs' reads {source!r}, which is not a node "
                                   f"(nodes: {', '.join(by_id)})")
            visit(by_id[source])
        path.pop()
        problem = _inputs_problem(node, done)
        if problem:
            raise NetworkError(f"{places[node.id]}: {problem}")
        done[node.id] = node

    for node in nodes:
        visit(node)
    return list(done.values())


def _output(raw: Any, nodes: Sequence[Node], places: Mapping[str, str], source: str) -> str:
    """The output node's id (default: the last node listed), which must decide an answer."""
    output = nodes[-1].id if raw is None else raw
    if not isinstance(output, str) or output not in places:
        raise NetworkError(f"{source}: field 'output' must name a node, got {output!r}")
    problem = _output_problem(next(node for node in nodes if node.id == output))
    if problem:
        raise NetworkError(f"{places[output]}: {problem}")
    return output


def _node(entry: dict[str, Any], defaults: Mapping[str, Any], previous: tuple[str, ...], where: str) -> Node:
    """One node from its entry in a file, every field checked (``previous``: the inputs a stage reads by default)."""
    op = entry.pop("op", None)
    node_id = entry.get("id")
    if not node_id or not isinstance(node_id, str):
        raise NetworkError(f"{where}: every node needs a string 'id'")
    where = f"{where} ({node_id})"
    if not isinstance(op, str) or op not in OPS:
        raise NetworkError(f"{where}: unknown op {op!r} in field 'op'; choose one of {', '.join(OPS)}")
    cls = OPS[op]
    allowed = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(entry) - allowed
    if unknown:
        raise NetworkError(f"{where}: unknown fields {sorted(map(str, unknown))} for op {op!r}; "
                           f"allowed: {sorted(allowed - {'id'})}")
    kwargs = {k: v for k, v in defaults.items() if k in allowed} | entry
    for name in MODEL_FIELDS:
        if name in allowed and name not in kwargs:
            raise NetworkError(f"{where}: missing '{name}' (set it on the node or in 'defaults')")
    for name, value in kwargs.items():
        if name not in ("inputs", "specialists"):
            _check(cls, name, value, f"{where}: field {name!r}" + ("" if name in entry else " (from 'defaults')"))
    kwargs["inputs"] = _inputs(entry.get("inputs", previous), where)
    if op == "route":
        kwargs["specialists"] = _specialists(kwargs.get("specialists"), kwargs.get("fallback"), where)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"{where}: {exc}") from None


def _inputs(raw: Any, where: str) -> tuple[str, ...]:
    """A node's ``inputs``: a list of node ids (a bare string is an error, not a list of characters)."""
    if isinstance(raw, list | tuple) and all(isinstance(source, str) and source for source in raw):
        return tuple(raw)
    hint = f" (write [{raw}])" if isinstance(raw, str) else ""
    raise NetworkError(f"{where}: field 'inputs' must be a list of node ids, got {raw!r}{hint}")


def _specialists(raw: Any, fallback: str | None, where: str) -> dict[str, Specialist]:
    """Route's ``specialists``: names mapped to a model, or to {model, system, temperature, max_tokens}."""
    if not isinstance(raw, Mapping) or not raw or not all(isinstance(name, str) and name for name in raw):
        raise NetworkError(f"{where}: field 'specialists' must map names to {{model, system}}")
    if fallback is not None and fallback not in raw:
        raise NetworkError(f"{where}: field 'fallback' names {fallback!r}, which is not one of the specialists "
                           f"{sorted(raw)}")
    return {name: _specialist(spec, name, where) for name, spec in raw.items()}


def _specialist(raw: Any, name: str, where: str) -> Specialist:
    """One of Route's specialists: a model name, or a mapping of :class:`Specialist` fields."""
    entry = dict(raw) if isinstance(raw, Mapping) else {"model": raw}
    allowed = {f.name for f in dataclasses.fields(Specialist)}
    if "model" not in entry or set(entry) - allowed:
        raise NetworkError(f"{where}: field 'specialists.{name}' needs 'model' and may have only {sorted(allowed)}, "
                           f"got {sorted(map(str, entry))}")
    for key, value in entry.items():
        _check(Specialist, key, value, f"{where}: field 'specialists.{name}.{key}'")
    return Specialist(**entry)


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """The resolved type of every field of ``cls``."""
    return typing.get_type_hints(cls)


def _check(cls: type, name: str, value: Any, label: str) -> None:
    """Refuse ``value`` for field ``name`` of ``cls`` unless its type (then its range) suits the field;
    the NetworkError starts with ``label``."""
    hint = _field_types(cls)[name]
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kind = next(option for option in options if option is not type(None))
    optional = type(None) in options
    if value is None and optional:
        return
    either = " or null" if optional else ""
    if kind is bool:
        _require(isinstance(value, bool), f"{label} must be true or false{either}", value)
    elif kind is str:
        _require(isinstance(value, str) and (bool(value) or name not in MODEL_FIELDS),
                 f"{label} must be a {'non-empty ' if name in MODEL_FIELDS else ''}string{either}", value)
    elif kind is int:
        _number(value, True, INT_BOUNDS.get((cls, name), (1, MAX_SAMPLES if name == "k" else None)), label, name, either)
    elif kind is float:
        _number(value, False, (0, None), label, name, either)
    elif typing.get_origin(kind) is Mapping:
        _require(isinstance(value, Mapping) and all(isinstance(k, str) for k in value),
                 f"{label} must be a mapping of names to values", value)


def _number(value: Any, integer: bool, bounds: tuple[int, int | None], label: str, name: str, either: str) -> None:
    """Refuse ``value`` unless it is an integer (``integer``) or a finite number, within ``bounds``; bools are no numbers."""
    low, high = bounds
    rule = (f"the integer {low}" if high == low else f"an integer ≥ {low}") if integer else f"a finite number ≥ {low}"
    typed = isinstance(value, int) if integer else isinstance(value, int | float) and math.isfinite(value)
    _require(typed and not isinstance(value, bool), f"{label} must be {rule}{either}", value)
    _require(value >= low, f"{label} is out of range: {name} must be at least {low}", value)
    _require(high is None or value <= high, f"{label} is out of range: {name} must be at most {high}", value)


def _require(ok: bool, message: str, value: Any) -> None:
    """Raise ``message, got value`` as a NetworkError unless ``ok`` (a bool shown as a file spells it)."""
    if not ok:
        raise NetworkError(f"{message}, got {str(value).lower() if isinstance(value, bool) else repr(value)}")


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
    "read_network_file",
    "run_network",
    "vote_network",
    "wilson",
]
