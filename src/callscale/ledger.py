"""Cost accounting: calls, tokens, forward passes, primitive cost m·n, FLOPs, dollars, latency, depth.

Two views of every run: *spent* counts only the calls made now; *system* counts what the system
costs fresh, cache hits included (analysis uses system cost). Tallies are kept per (node, model) and
updated in place, so memory stays flat however many calls a run makes.

Example:
    >>> from callscale.records import Completion, ModelCard, Usage
    >>> ledger = Ledger()
    >>> ledger.record("vote", ModelCard("m", params=100), Completion("A", 0, Usage(10, 2)), depth=1)
    >>> ledger.total().system.primitive_cost
    1200
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from callscale.costs import flops, primitive_cost
from callscale.records import Completion, ModelCard


def _cost(card: ModelCard, completion: Completion) -> tuple[int, int, int, int, float | None, float]:
    """The arguments of :meth:`Tally._add` for one successful completion."""
    usage = completion.usage
    return (usage.prompt_tokens, usage.completion_tokens, usage.forward_passes, card.params, card.dollars(usage),
            completion.latency_s)


@dataclass
class Tally:
    """Running sums for one slice of a run (mutable on purpose: it is an accumulator)."""

    calls: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    forward_passes: int = 0
    primitive_cost: int = 0
    flops: float = 0.0
    dollars: float = 0.0
    priced: bool = True
    latency_s: float = 0.0

    def add(self, card: ModelCard, completion: Completion) -> None:
        """Count one completion made by the model ``card``."""
        if completion.error is not None:
            self.failed += 1
            return
        self._add(*_cost(card, completion))

    def _add(self, prompt: int, completion: int, passes: int, params: int, dollars: float | None, latency_s: float) -> None:
        total = prompt + completion
        self.calls += 1
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.forward_passes += passes
        self.primitive_cost += primitive_cost(params, prompt, completion)
        self.flops += flops(params, total)
        if dollars is None:
            self.priced = False
        else:
            self.dollars += dollars
        self.latency_s += latency_s

    def merge(self, other: Tally) -> None:
        """Add ``other`` into this tally."""
        for f in fields(self):
            if f.name == "priced":
                self.priced = self.priced and other.priced
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "priced"}
        out["dollars"] = self.dollars if self.priced else None
        return out


@dataclass
class Line:
    """Spent and system tallies of one (node, model) slice, with its cache hits and depth."""

    node: str
    model: str
    spent: Tally = field(default_factory=Tally)
    system: Tally = field(default_factory=Tally)
    cache_hits: int = 0
    depth: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "model": self.model,
            "cache_hits": self.cache_hits,
            "depth": self.depth,
            "spent": self.spent.as_dict(),
            "system": self.system.as_dict(),
        }


class Ledger:
    """Accumulates costs per (node, model); see the module docstring."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, str], Line] = {}

    def record(self, node: str, card: ModelCard, completion: Completion, depth: int = 1) -> None:
        """Count ``completion`` under ``node``; ``depth`` is its position on the chain of dependent calls."""
        line = self._lines.get((node, card.name))
        if line is None:
            line = self._lines[(node, card.name)] = Line(node, card.name)
        if completion.error is not None:
            line.spent.failed += 1
        else:
            cost = _cost(card, completion)
            line.system._add(*cost)
            if completion.cached:
                line.cache_hits += 1
            else:
                line.spent._add(*cost)
        if depth > line.depth:
            line.depth = depth

    def lines(self) -> list[Line]:
        """Per (node, model) lines in first-seen order."""
        return list(self._lines.values())

    def nodes(self) -> dict[str, Line]:
        """Lines merged per node (over models)."""
        return {name: _merged(name, "*", [ln for ln in self._lines.values() if ln.node == name])
                for name in dict.fromkeys(n for n, _ in self._lines)}

    def total(self) -> Line:
        """Everything merged; its ``depth`` is the critical-path depth of the run."""
        return _merged("total", "*", self._lines.values())

    @property
    def depth(self) -> int:
        return max((ln.depth for ln in self._lines.values()), default=0)

    def merge(self, other: Ledger) -> None:
        """Add another ledger's lines into this one."""
        for line in other.lines():
            mine = self._lines.setdefault((line.node, line.model), Line(line.node, line.model))
            mine.spent.merge(line.spent)
            mine.system.merge(line.system)
            mine.cache_hits += line.cache_hits
            mine.depth = max(mine.depth, line.depth)

    def as_dict(self) -> dict[str, Any]:
        return {"lines": [ln.as_dict() for ln in self.lines()], "total": self.total().as_dict(), "depth": self.depth}


def _merged(node: str, model: str, lines: Iterable[Line]) -> Line:
    out = Line(node, model)
    for line in lines:
        out.spent.merge(line.spent)
        out.system.merge(line.system)
        out.cache_hits += line.cache_hits
        out.depth = max(out.depth, line.depth)
    return out
