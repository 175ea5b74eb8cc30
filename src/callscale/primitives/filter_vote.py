"""Filter (an LLM judges each candidate; keep those judged correct) and Filter-Vote.

Filter-Vote generates K answers, asks the judge about each (K more calls), and votes over the kept
ones — over all of them if none is kept. Repeated identical judgements draw independent samples
from the judge's pool, so the filter's decisions are independent as the analysis assumes.

Example:
    >>> FilterVote("fv", model="m", judge_model="j", k=4).cost({"prompt": 10, "answer": 2, "judge_prompt": 20}, [])[0].calls
    8
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callscale.primitives.base import (
    Candidates,
    Decision,
    ItemContext,
    JudgeNode,
    Node,
    Shape,
    Value,
    ask_each,
    candidates_of,
    input_depth,
    size,
)
from callscale.primitives.facts import verify_facts
from callscale.primitives.generate import Sample
from callscale.primitives.prompts import verify_prompt
from callscale.primitives.vote import decide
from callscale.records import Request
from callscale.structure import Cost, Expr
from callscale.tasks.parsers import parse_yes_no


@dataclass
class Filter(JudgeNode):
    """Keep the candidates a judge model calls correct; with ``fallback_all``, keep all if none passes.

    One judge call per candidate (``judge_tokens`` answer tokens each)."""

    fallback_all: bool = True

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        candidates = candidates_of(inputs, self.id)
        depth = input_depth(inputs) + 1
        choices = ctx.item.choices
        requests = [
            Request.chat(self.model, verify_prompt(ctx.item.question, choices, c.shown),
                         temperature=self.temperature, max_tokens=self.judge_tokens,
                         facts=verify_facts(ctx.task, ctx.item, c.shown))
            for c in candidates
        ]
        verdicts = await ask_each(ctx, requests, node=self.id, depth=depth)
        kept = tuple(c for c, v in zip(candidates, verdicts, strict=True) if v.ok and parse_yes_no(v.text) == "yes")
        if not kept and self.fallback_all:
            kept = candidates
        return Candidates(kept, depth)

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        n = sum((s.count for s in inputs), 0)
        return Cost.of(self.model, calls=n, prompt_tokens=n * size(sizes, "judge_prompt"),
                       completion_tokens=n * self.judge_tokens), Shape(count=n)


@dataclass
class FilterVote(Node):
    """Sample ``k`` answers with ``model``, filter them with ``judge_model``, vote (see module docstring)."""

    id: str
    model: str
    judge_model: str
    k: int = 5
    temperature: float = 1.0
    judge_temperature: float = 1.0
    max_tokens: int | None = None
    permute: bool = False
    inputs: tuple[str, ...] = ()

    def _parts(self) -> tuple[Sample, Filter]:
        return (Sample(f"{self.id}.generate", self.model, self.k, self.temperature, self.max_tokens, self.permute,
                       inputs=self.inputs),
                Filter(f"{self.id}.filter", self.judge_model, temperature=self.judge_temperature))

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        sample, judge = self._parts()
        generated = await sample.run(ctx, inputs)
        kept = await judge.run(ctx, [generated])
        assert isinstance(kept, Candidates)
        decision = decide(kept.answers, f"{ctx.item.id}/{self.id}", kept.depth)
        return Decision(decision.answer, decision.tied, decision.depth, decision.text,
                        {**decision.detail, "kept": len(kept.items)})

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        sample, judge = self._parts()
        generated, shape = sample.cost(sizes, inputs)
        judged, _ = judge.cost(sizes, [shape])
        return generated + judged, Shape(count=1)

    def models(self) -> tuple[str, ...]:
        return (self.model, self.judge_model)
