"""Verify: an LLM says yes or no to one decided answer.

The decision passes through with ``detail["verified"]`` set (True, False, or None when the reply
is unparseable); with ``abstain_if_rejected`` a rejected answer becomes an abstention (selective
answering).

Example:
    >>> Verify("check", model="j").cost({"judge_prompt": 20}, [Shape()])[0].calls
    1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callscale.primitives.base import Decision, ItemContext, JudgeNode, Shape, Value, input_depth, size
from callscale.primitives.facts import verify_facts
from callscale.primitives.prompts import verify_prompt
from callscale.records import Request
from callscale.structure import Cost, Expr
from callscale.tasks.parsers import parse_yes_no


@dataclass
class Verify(JudgeNode):
    """One yes/no judgement of the (single) decision it receives."""

    abstain_if_rejected: bool = False

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        decisions = [v for v in inputs if isinstance(v, Decision)]
        if len(decisions) != 1:
            raise ValueError(f"node {self.id!r}: Verify takes exactly one decided input")
        decision = decisions[0]
        depth = input_depth(inputs) + 1
        prompt = verify_prompt(ctx.item.question, ctx.item.choices, decision.answer)
        request = Request.chat(self.model, prompt, temperature=self.temperature, max_tokens=self.judge_tokens,
                               facts=verify_facts(ctx.task, ctx.item, decision.answer))
        reply = (await ctx.ask(request, 1, node=self.id, depth=depth))[0]
        verdict = parse_yes_no(reply.text) if reply.ok else None
        verified = None if verdict is None else verdict == "yes"
        if verified is False and self.abstain_if_rejected:
            return Decision(None, (None,), depth, decision.text, {"verified": False})
        return Decision(decision.answer, decision.tied, depth, decision.text, {**decision.detail, "verified": verified})

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        return Cost.of(self.model, calls=1, prompt_tokens=size(sizes, "judge_prompt"),
                       completion_tokens=self.judge_tokens), Shape(count=1)
