"""Adaptive vote: sample an item until its vote is settled by a stopping rule, then stop.

``AdaptiveVote("av", "m", rule="ahead:3", max=32)`` draws samples 0, 1, 2, … of the item's pool in
rounds and stops as soon as the rule (:func:`~callscale.scaling.adaptive.parse_rule`: ``ahead:k`` or
``posterior:q``) stops, or at the cap. Each round asks for the fewest samples that could end the vote
(:func:`~callscale.scaling.adaptive.votes_to_stop`; at least ``round`` of them when given), so without
``round`` it never draws past the stopping point and its calls per item are exactly the rule's stopping
time, as the exact theory (:func:`~callscale.scaling.adaptive.adaptive_vote`) counts them. A stopped
rule's answer is its leader; at the cap it is the plurality of the votes drawn, ties as :class:`Vote`
breaks them. Abstentions (unparseable answers) cost a call and cast no vote.

Because it reads the pool in sample order it shares every sample with fixed-K runs on the same pool: a
vote over K samples run first leaves nothing to call for an adaptive vote capped at K, and the other way
round. The ledger counts each sample the node reads once (a later round reads the earlier samples
again from the engine; their second count is taken back). The decision's detail says how many calls the
item took (``calls``), in how many rounds, and whether the rule or the cap ended it.

The declared cost (:meth:`AdaptiveVote.cost`) is the expected number of calls under the answer
distribution given as the size ``answer_probs`` (probabilities per call, the correct or most likely
answer first; the rest abstains), or the cap — the most it can draw — without one. :meth:`AdaptiveVote.theory`
gives the whole distribution of calls and the accuracy for a distribution.

Example:
    >>> node = AdaptiveVote("av", "m", rule="ahead:2", max=8)
    >>> node.cap, round(node.cost({"answer_probs": (0.8, 0.2)}, [])[0].calls, 4), node.cost({}, [])[0].calls
    (8, 2.9103, 8)
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from callscale.engine import MAX_SAMPLES
from callscale.primitives.base import Decision, ItemContext, Node, Shape, Value, input_depth, size
from callscale.primitives.generate import Sample
from callscale.primitives.vote import decide
from callscale.records import Completion, Request
from callscale.structure import Cost, Expr

if TYPE_CHECKING:
    from callscale.scaling.adaptive import AdaptiveResult, Rule

DEFAULT_MAX = 32
"""The cap of a rule given without one (neither ``,max:N`` in the rule nor ``max``)."""


@dataclass
class AdaptiveVote(Node):
    """Sample with ``model`` until ``rule`` stops (at most ``max`` calls), then decide (module docstring).

    ``rule`` may carry its own cap (``ahead:3,max:16``); ``max`` then must agree with it or be left out.
    Inputs, if any, are appended to the prompt as notes, as :class:`~callscale.primitives.Sample` does.
    """

    id: str
    model: str
    rule: str = "ahead:3"
    max: int | None = None
    round: int | None = None
    temperature: float = 1.0
    max_tokens: int | None = None
    sampling: Mapping[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from callscale.scaling.adaptive import parse_rule

        try:
            parsed = parse_rule(self.rule if isinstance(self.rule, str) else str(self.rule))
        except ValueError as exc:
            raise ValueError(f"field 'rule': {exc}") from None
        for name, value in (("max", self.max), ("round", self.round)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 1 <= value <= MAX_SAMPLES):
                raise ValueError(f"field {name!r} must be a whole number from 1 to {MAX_SAMPLES:,}, got {value!r}")
        if parsed.max_calls is not None and self.max is not None and parsed.max_calls != self.max:
            raise ValueError(f"field 'max': {self.max} disagrees with the cap in rule {parsed.spec!r}; give one of them")
        cap = parsed.max_calls or self.max or DEFAULT_MAX
        if cap > MAX_SAMPLES:
            raise ValueError(f"field 'rule': the cap must be at most {MAX_SAMPLES:,}, got {cap}")
        self.rule = parsed.spec
        self._rule: Rule = dataclasses.replace(parsed, max_calls=cap)

    @property
    def cap(self) -> int:
        """The most calls one item may take."""
        cap = self._rule.max_calls
        assert cap is not None
        return cap

    @property
    def stopping_rule(self) -> Rule:
        """The rule with its cap (:mod:`callscale.scaling.adaptive`)."""
        return self._rule

    def theory(self, probs: Sequence[float], abstain: float | None = None) -> AdaptiveResult:
        """Exact accuracy, expected calls and distribution of calls per item when each call answers by
        ``probs`` (correct first; read by :func:`~callscale.scaling.adaptive.split_distribution`)."""
        from callscale.scaling.adaptive import adaptive_vote

        return adaptive_vote(self._rule, probs, abstain)

    def _request(self, ctx: ItemContext, inputs: Sequence[Value]) -> Request:
        """The same request a :class:`Sample` of these settings makes: the pools are shared."""
        sample = Sample(self.id, self.model, 1, self.temperature, self.max_tokens, False, self.sampling, self.inputs)
        return sample.requests(ctx, inputs)[0][0]

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        from callscale.scaling.adaptive import stop_point, votes_to_stop

        request = self._request(ctx, inputs)
        base = input_depth(inputs)
        drawn: list[Completion] = []
        answers: list[str | None] = []
        rounds, stop = 0, None
        while stop is None and len(drawn) < self.cap:
            need = votes_to_stop(self._rule, list(Counter(a for a in answers if a is not None).values()))
            n = min(self.cap, len(drawn) + max(need, self.round or 1, 1))
            rounds += 1
            got = await ctx.engine.complete(request, n, node=self.id, depth=base + rounds, start=len(drawn))
            answers += [ctx.task.parse(c.text, ctx.item) if c.ok else None for c in got[len(drawn):]]
            drawn = got
            stop = stop_point(self._rule, answers)
        used = answers[:stop] if stop is not None else answers
        d = decide(used, f"{ctx.item.id}/{self.id}", base + rounds)
        detail = {**d.detail, "calls": len(drawn), "rounds": rounds, "ended": "rule" if stop is not None else "cap"}
        return Decision(d.answer, d.tied, d.depth, d.text, detail)

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        """Expected calls under ``sizes["answer_probs"]`` when given, else the cap; tokens per call as
        :class:`Sample` declares them. Depth 1: the first round (each further round adds one on the ledger)."""
        probs = sizes.get("answer_probs") if "answer_probs" in sizes else None
        calls: Expr = self.cap if probs is None else self.theory(probs).expected_calls
        return Cost.of(self.model, calls=calls, prompt_tokens=calls * size(sizes, "prompt"),
                       completion_tokens=calls * size(sizes, "answer")), Shape(count=1)
