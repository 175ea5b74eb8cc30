"""Generate (one answer) and Sample (k answers from one pool, or one per option permutation).

Example:
    >>> Sample("gen", model="m", k=5).cost({"prompt": 10, "answer": 2}, [])[0].calls
    5
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscale.primitives.base import (
    Candidate,
    Candidates,
    Decision,
    ItemContext,
    Node,
    Shape,
    Value,
    ask_each,
    input_depth,
    size,
)
from callscale.records import Message, Request
from callscale.structure import Cost, Expr


def _with_context(prompt: str, inputs: Sequence[Value]) -> str:
    notes = [v.text or (v.answer or "") for v in inputs if isinstance(v, Decision)]
    notes += [c.text for v in inputs if isinstance(v, Candidates) for c in v.items]
    if not notes:
        return prompt
    return prompt + "\n\nNotes from earlier steps:\n" + "\n".join(f"- {n.strip()}" for n in notes)


@dataclass
class Sample(Node):
    """``k`` samples of the task's prompt. With ``permute``, sample i shows the options in the order
    of permutation seed i (its own pool), turning letter bias into noise. Inputs, if any, are
    appended to the prompt as notes (a later stage of a pipeline)."""

    id: str
    model: str
    k: int = 1
    temperature: float = 1.0
    max_tokens: int | None = None
    permute: bool = False
    sampling: Mapping[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"node {self.id!r}: k must be at least 1, got {self.k}")

    def requests(self, ctx: ItemContext, inputs: Sequence[Value]) -> list[tuple[Request, int | None]]:
        settings = dict(self.sampling)
        settings["temperature"] = self.temperature
        if self.max_tokens is not None:
            settings["max_tokens"] = self.max_tokens
        seeds: list[int | None] = list(range(self.k)) if self.permute and ctx.item.choices else [None]
        out = []
        for seed in seeds:
            r = ctx.request(self.model, permutation_seed=seed, **settings)
            if inputs:
                assert r.messages is not None
                last = r.messages[-1]
                noted = Message(last.role, _with_context(last.content, inputs))
                r = dataclasses.replace(r, messages=(*r.messages[:-1], noted))  # keeps the facts
            out.append((r, seed))
        return out

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        depth = input_depth(inputs) + 1
        asks = self.requests(ctx, inputs)
        if len(asks) == 1:
            request, seed = asks[0]
            completions = await ctx.ask(request, self.k, node=self.id, depth=depth)
            seeds = [seed] * self.k
        else:
            # Two seeds can show the same order; the repeat must be a fresh draw, not the same sample again.
            completions = await ask_each(ctx, [r for r, _ in asks], node=self.id, depth=depth)
            seeds = [s for _, s in asks]
        items = tuple(
            Candidate(c.text, ctx.task.parse(c.text, ctx.item, permutation_seed=s) if c.ok else None, i, self.id)
            for i, (c, s) in enumerate(zip(completions, seeds, strict=True))
        )
        return Candidates(items, depth)

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        k = self.k
        return Cost.of(self.model, calls=k, prompt_tokens=k * size(sizes, "prompt"),
                       completion_tokens=k * size(sizes, "answer")), Shape(count=k)


@dataclass
class Generate(Sample):
    """One answer (a Sample of one, decided)."""

    k: int = 1

    def __post_init__(self) -> None:
        if self.k != 1:
            raise ValueError(f"node {self.id!r}: Generate makes exactly one call; use Sample for k > 1")

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        out = await super().run(ctx, inputs)
        assert isinstance(out, Candidates)
        only = out.items[0]
        return Decision(only.answer, (only.answer,), out.depth, only.text)

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        return super().cost(sizes, inputs)[0], Shape(count=1)
