"""Fuse: an LLM writes one final answer from several candidate answers.

Example:
    >>> Fuse("fuse", model="m").cost({"judge_prompt": 30, "answer": 5}, [Shape(count=4)])[0].calls
    1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callscale.primitives.base import Decision, ItemContext, Node, Shape, Value, candidates_of, input_depth, size
from callscale.primitives.facts import fuse_facts
from callscale.primitives.prompts import fuse_prompt
from callscale.records import Request
from callscale.structure import Cost, Expr


@dataclass
class Fuse(Node):
    """One call reading every candidate's text; its reply is parsed with the task's parser."""

    id: str
    model: str
    inputs: tuple[str, ...] = ()
    temperature: float = 1.0
    max_tokens: int = 64
    instruction: str = ""

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        candidates = candidates_of(inputs, self.id)
        depth = input_depth(inputs) + 1
        if not candidates:
            return Decision(None, (None,), depth - 1, detail={"empty": True})
        texts = [c.text for c in candidates]
        prompt = fuse_prompt(ctx.item.question, ctx.item.choices, texts, self.instruction)
        request = Request.chat(self.model, prompt, temperature=self.temperature, max_tokens=self.max_tokens,
                               facts=fuse_facts(ctx.task, ctx.item, texts))
        reply = (await ctx.ask(request, 1, node=self.id, depth=depth))[0]
        answer = ctx.task.parse(reply.text, ctx.item) if reply.ok else None
        return Decision(answer, (answer,), depth, reply.text)

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        n = sum((s.count for s in inputs), 0)
        return Cost.of(self.model, calls=1, prompt_tokens=size(sizes, "judge_prompt") + n * size(sizes, "answer"),
                       completion_tokens=size(sizes, "answer")), Shape(count=1)
