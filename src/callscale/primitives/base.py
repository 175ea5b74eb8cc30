"""What flows between primitives, the per-item context they run in, and the Node interface.

A node turns input *values* into an output value: :class:`Candidates` (several answers, e.g. from
sampling) or a :class:`Decision` (one answer, possibly a tie). Values carry the depth of the chain
of dependent calls that produced them, so the ledger can report the critical path.

Example:
    >>> Decision(answer="B", tied=("B", "C"), depth=1).score_with(lambda a: 1.0 if a == "B" else 0.0)
    0.5
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscale.engine import Engine
from callscale.primitives.facts import task_request
from callscale.records import Completion, Request
from callscale.structure import Cost, Expr
from callscale.tasks.items import Item, Task


@dataclass(frozen=True)
class Candidate:
    """One candidate answer: the raw text and its canonical parse (``None`` = abstain)."""

    text: str
    answer: str | None
    index: int = 0
    source: str = ""

    @property
    def shown(self) -> str:
        """What a judge is shown: the canonical answer, or the raw text when it did not parse."""
        return self.answer if self.answer is not None else self.text


@dataclass(frozen=True)
class Candidates:
    """Several candidates and the depth of the calls that made them."""

    items: tuple[Candidate, ...]
    depth: int = 0

    @property
    def answers(self) -> list[str | None]:
        return [c.answer for c in self.items]


@dataclass(frozen=True)
class Decision:
    """A final answer. ``tied`` lists every answer sharing the win; its score averages over them,
    which is the exact expected score under uniformly random tie-breaking."""

    answer: str | None
    tied: tuple[str | None, ...] = ()
    depth: int = 0
    text: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def score_with(self, score: Callable[[str | None], float]) -> float:
        """Expected score of this decision under the tie rule."""
        tied = self.tied or (self.answer,)
        return sum(score(a) for a in tied) / len(tied)


Value = Candidates | Decision


@dataclass(frozen=True)
class Shape:
    """What a node's output looks like to the cost declaration: how many candidates it holds."""

    count: Expr = 1


@dataclass
class ItemContext:
    """Everything a node needs to work on one item."""

    engine: Engine
    task: Task
    item: Item

    def request(self, model: str, *, permutation_seed: int | None = None, system: str | None = None,
                role: str | None = None, **sampling: Any) -> Request:
        """The task's request for this item, carrying its facts (see :func:`~callscale.primitives.facts.task_request`)."""
        return task_request(self.task, self.item, model, permutation_seed=permutation_seed, system=system, role=role,
                            **sampling)

    async def ask(self, request: Request, k: int, *, node: str, depth: int) -> list[Completion]:
        """Samples 0…k−1 of ``request`` through the engine, labelled with ``node`` and ``depth``."""
        return await self.engine.complete(request, k, node=node, depth=depth)


class Node(ABC):
    """One step of a network. Subclasses declare their call structure in :meth:`cost`."""

    id: str
    inputs: tuple[str, ...] = ()

    @abstractmethod
    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        """Compute this node's value for one item."""

    @abstractmethod
    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        """Declared calls, tokens and depth of this node (not counting its inputs), and its output shape.

        ``sizes`` maps size names to numbers or sympy symbols: ``prompt`` (tokens in a generation
        prompt), ``answer`` (tokens in one answer), plus any a node documents.
        """

    def models(self) -> tuple[str, ...]:
        """Models this node calls."""
        model = getattr(self, "model", None)
        return (model,) if model else ()


@dataclass
class JudgeNode(Node):
    """Fields every judging node shares: its model, sampling temperature and reply length."""

    id: str
    model: str
    inputs: tuple[str, ...] = ()
    temperature: float = 1.0
    judge_tokens: int = 4


def input_depth(inputs: Sequence[Value]) -> int:
    """Depth of the deepest input."""
    return max((v.depth for v in inputs), default=0)


def candidates_of(inputs: Sequence[Value], node: str) -> tuple[Candidate, ...]:
    """All candidates of the inputs (a decision counts as one candidate); possibly none."""
    out: list[Candidate] = []
    for v in inputs:
        if isinstance(v, Candidates):
            out.extend(v.items)
        else:
            out.append(Candidate(v.text or (v.answer or ""), v.answer, 0, node))
    return tuple(out)


def size(sizes: Mapping[str, Expr], name: str) -> Expr:
    """``sizes[name]``, or a sympy symbol of that name when it is not given."""
    if name in sizes:
        return sizes[name]
    import sympy

    return sympy.Symbol(name, positive=True)


async def ask_each(ctx: ItemContext, requests: Sequence[Request], *, node: str, depth: int) -> list[Completion]:
    """One completion per request, in order. The j-th repeat of an identical request gets sample j
    of its pool, so repeated judgements are independent draws and every request is one call."""
    occurrences: dict[str, list[int]] = {}
    for position, request in enumerate(requests):
        occurrences.setdefault(request.identity_json, []).append(position)
    firsts = [requests[positions[0]] for positions in occurrences.values()]
    pools = await ctx.engine.complete_many([(r, len(p)) for r, p in zip(firsts, occurrences.values(), strict=True)],
                                           node=node, depth=depth)
    out: list[Completion | None] = [None] * len(requests)
    for positions, pool in zip(occurrences.values(), pools, strict=True):
        for j, position in enumerate(positions):
            out[position] = pool[j]
    return [c for c in out if c is not None]
