"""Plurality vote, with the tie rule made explicit and exact.

Abstentions (unparseable answers) cast no vote; if every candidate abstains the decision is an
abstention. When several answers share the top count, all of them are ``tied``: the decision's
expected score is their mean (uniformly random tie-breaking, exactly), and the single displayed
``answer`` is picked among them by a hash of the item and node, so reruns agree.

Example:
    >>> decide(["A", "B", None, "B", "A"], "item-1/vote").tied
    ('A', 'B')
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callscale.primitives.base import Decision, ItemContext, Node, Shape, Value, candidates_of, input_depth
from callscale.structure import Cost, Expr


def decide(answers: Sequence[str | None], salt: str, depth: int = 0) -> Decision:
    """The plurality decision over ``answers`` (see module docstring)."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return Decision(None, (None,), depth, detail={"counts": {}})
    top = max(counts.values())
    tied = tuple(sorted(a for a, c in counts.items() if c == top))
    pick = int.from_bytes(hashlib.blake2b(salt.encode(), digest_size=8).digest(), "big") % len(tied)
    return Decision(tied[pick], tied, depth, tied[pick], detail={"counts": dict(counts)})


@dataclass
class Vote(Node):
    """Plurality over the candidates of its inputs; no calls."""

    id: str
    inputs: tuple[str, ...] = ()

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        answers = [c.answer for c in candidates_of(inputs, self.id)]
        return decide(answers, f"{ctx.item.id}/{self.id}", input_depth(inputs))

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        return Cost(), Shape(count=1)
