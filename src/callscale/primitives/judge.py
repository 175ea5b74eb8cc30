"""An LLM picks among candidates: the whole list at once (Select) or pairwise knock-out (Knockout).

An unparseable pick is an abstention for Select; in a knock-out match the first candidate goes
through (and the match is counted in ``detail["unparsed"]``).

Example:
    >>> Knockout("ko", model="j").cost({"judge_prompt": 30}, [Shape(count=8)])[0].depth
    3
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callscale.primitives.base import (
    Candidate,
    Decision,
    ItemContext,
    JudgeNode,
    Shape,
    Value,
    ask_each,
    candidates_of,
    input_depth,
    size,
)
from callscale.primitives.facts import select_facts
from callscale.primitives.prompts import select_prompt
from callscale.records import Request
from callscale.structure import Cost, Expr, ceil_log, is_symbolic, sceil, slog


def parse_pick(text: str, n: int) -> int | None:
    """The 0-based candidate number in a judge's reply, or None.

    Example:
        >>> parse_pick("Candidate 2 is right.", 3), parse_pick("none", 3), parse_pick("7", 3)
        (1, None, None)
    """
    for match in re.finditer(r"\d+", text):
        value = int(match.group())
        if 1 <= value <= n:
            return value - 1
        return None
    return None


@dataclass
class Select(JudgeNode):
    """One call showing every candidate; the judge names the correct one."""

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        candidates = candidates_of(inputs, self.id)
        depth = input_depth(inputs) + 1
        if not candidates:
            return Decision(None, (None,), depth - 1, detail={"empty": True})
        shown = [c.shown for c in candidates]
        prompt = select_prompt(ctx.item.question, ctx.item.choices, shown)
        request = Request.chat(self.model, prompt, temperature=self.temperature, max_tokens=self.judge_tokens,
                               facts=select_facts(ctx.task, ctx.item, shown))
        reply = (await ctx.ask(request, 1, node=self.id, depth=depth))[0]
        pick = parse_pick(reply.text, len(candidates)) if reply.ok else None
        if pick is None:
            return Decision(None, (None,), depth, reply.text, {"unparsed": 1})
        chosen = candidates[pick]
        return Decision(chosen.answer, (chosen.answer,), depth, chosen.text, {"pick": pick})

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        n = sum((s.count for s in inputs), 0)
        return Cost.of(self.model, calls=1, prompt_tokens=size(sizes, "judge_prompt") + n * size(sizes, "answer"),
                       completion_tokens=self.judge_tokens), Shape(count=1)


@dataclass
class Knockout(JudgeNode):
    """Pairwise tournament: n−1 matches of two candidates each, ⌈log₂ n⌉ rounds deep."""

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        alive: list[Candidate] = list(candidates_of(inputs, self.id))
        depth = input_depth(inputs)
        if not alive:
            return Decision(None, (None,), depth, detail={"empty": True})
        unparsed = 0
        while len(alive) > 1:
            depth += 1
            pairs = [(alive[i], alive[i + 1]) for i in range(0, len(alive) - 1, 2)]
            requests = [
                Request.chat(self.model, select_prompt(ctx.item.question, ctx.item.choices, [a.shown, b.shown]),
                             temperature=self.temperature, max_tokens=self.judge_tokens,
                             facts=select_facts(ctx.task, ctx.item, [a.shown, b.shown]))
                for a, b in pairs
            ]
            replies = await ask_each(ctx, requests, node=self.id, depth=depth)
            winners = []
            for (a, b), reply in zip(pairs, replies, strict=True):
                pick = parse_pick(reply.text, 2) if reply.ok else None
                unparsed += pick is None
                winners.append(b if pick == 1 else a)
            if len(alive) % 2:
                winners.append(alive[-1])
            alive = winners
        champion = alive[0]
        return Decision(champion.answer, (champion.answer,), depth, champion.text, {"unparsed": unparsed})

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        n = sum((s.count for s in inputs), 0)
        depth = sceil(slog(n, 2)) if is_symbolic(n) else ceil_log(n, 2)
        return Cost.of(self.model, calls=n - 1, prompt_tokens=(n - 1) * (size(sizes, "judge_prompt") + 2 * size(sizes, "answer")),
                       completion_tokens=(n - 1) * self.judge_tokens, depth=depth), Shape(count=1)
