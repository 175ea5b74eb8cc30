"""Route: a delegator that reads only a short description of the item picks a specialist.

The delegator sees ``description_words`` words (the item's ``metadata["description"]`` if it has
one, else the start of the question), so its cost does not grow with the item; the chosen
specialist then answers the full question with its own model and instructions. An unparseable
choice goes to the ``fallback`` specialist and is counted in ``detail["fallback"]``.

Example:
    >>> r = Route("route", delegator="tiny", specialists={"math": Specialist("small"), "law": Specialist("small")})
    >>> r.cost({"route_prompt": 12, "prompt": 100, "answer": 4}, [])[0].calls
    2
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from callscale.primitives.base import Decision, ItemContext, Node, Shape, Value, input_depth, size
from callscale.primitives.facts import route_facts
from callscale.primitives.prompts import route_prompt
from callscale.records import Request
from callscale.structure import Cost, Expr


@dataclass(frozen=True)
class Specialist:
    """A model and, optionally, a system prompt that makes it a specialist."""

    model: str
    system: str | None = None
    temperature: float = 0.0
    max_tokens: int | None = None


def parse_specialist(text: str, names: Sequence[str]) -> str | None:
    """The first specialist name mentioned in ``text`` (case-insensitive, whole word), or None.

    Example:
        >>> parse_specialist("I would pick Physics.", ["math", "physics"])
        'physics'
    """
    lowered = text.lower()
    hits = [(m.start(), n) for n in names for m in [re.search(rf"\b{re.escape(n.lower())}\b", lowered)] if m]
    return min(hits)[1] if hits else None


@dataclass
class Route(Node):
    """Delegate each item to one specialist (see module docstring)."""

    id: str
    delegator: str
    specialists: Mapping[str, Specialist] = field(default_factory=dict)
    description_words: int = 12
    fallback: str | None = None
    delegator_temperature: float = 0.0
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.specialists:
            raise ValueError(f"node {self.id!r}: Route needs at least one specialist")
        if self.fallback is not None and self.fallback not in self.specialists:
            raise ValueError(f"node {self.id!r}: fallback {self.fallback!r} is not a specialist")

    def describe(self, ctx: ItemContext) -> str:
        text = str(ctx.item.metadata.get("description") or ctx.item.question)
        return " ".join(text.split()[: self.description_words])

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        depth = input_depth(inputs) + 1
        names = list(self.specialists)
        description = self.describe(ctx)
        delegate = Request.chat(self.delegator, route_prompt(description, names), temperature=self.delegator_temperature,
                                max_tokens=8, facts=route_facts(ctx.task, ctx.item, description, names))
        reply = (await ctx.ask(delegate, 1, node=f"{self.id}.delegate", depth=depth))[0]
        chosen = parse_specialist(reply.text, names) if reply.ok else None
        fell_back = chosen is None
        name = chosen or self.fallback or names[0]
        spec = self.specialists[name]
        settings: dict[str, Any] = {"temperature": spec.temperature}
        if spec.max_tokens is not None:
            settings["max_tokens"] = spec.max_tokens
        request = ctx.request(spec.model, system=spec.system, role=name, **settings)
        answer = (await ctx.ask(request, 1, node=f"{self.id}.{name}", depth=depth + 1))[0]
        parsed = ctx.task.parse(answer.text, ctx.item) if answer.ok else None
        return Decision(parsed, (parsed,), depth + 1, answer.text, {"specialist": name, "fallback": fell_back})

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        delegate = Cost.of(self.delegator, calls=1, prompt_tokens=size(sizes, "route_prompt"),
                           completion_tokens=size(sizes, "route_answer"))
        # Which specialist answers is data-dependent: the declaration charges one call spread evenly over
        # the specialists' models (exactly one call of that model when they all share it).
        share = Counter(spec.model for spec in self.specialists.values())
        answer = Cost(())
        for model, count in share.items():
            part = Fraction(count, len(self.specialists))
            calls: Expr = 1 if part == 1 else part
            answer = answer.parallel(Cost.of(model, calls=calls, prompt_tokens=calls * size(sizes, "prompt"),
                                             completion_tokens=calls * size(sizes, "answer")))
        return delegate + answer, Shape(count=1)

    def models(self) -> tuple[str, ...]:
        return (self.delegator, *dict.fromkeys(s.model for s in self.specialists.values()))
