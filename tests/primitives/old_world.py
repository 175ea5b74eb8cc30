"""The simulated world as it was before requests carried facts: it recovered the item and the step from
the prompt text. Kept as the oracle the facts-based world must agree with, distribution for distribution."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from callscale.backends.base import BackendError
from callscale.primitives.prompts import FUSE_TAIL, ROUTE_HEAD, SELECT_TAIL, VERIFY_TAIL, question_block
from callscale.records import Request
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import LETTERS


@dataclass
class StringWorld:
    """The string-matching world (see module docstring)."""

    task: Task
    answers: Mapping[str, Mapping[str, float]]
    tpr: float = 0.8
    fpr: float = 0.2
    select_skill: float = 0.5
    route_skill: float = 0.9
    permutations: int = 64
    _by_prompt: dict[str, tuple[Item, int | None]] = field(default_factory=dict, init=False, repr=False)
    _by_block: dict[str, Item] = field(default_factory=dict, init=False, repr=False)
    _prefixes: dict[int, dict[str, Item]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for item in self.task.items:
            if item.id not in self.answers:
                raise ValueError(f"simulated world has no answer distribution for item {item.id!r}")
            seeds: list[int | None] = [None, *range(self.permutations)] if item.choices else [None]
            for seed in seeds:
                self._by_prompt.setdefault(self.task.prompt(item, seed), (item, seed))
            self._by_block[question_block(item.question, item.choices)] = item

    def __call__(self, request: Request) -> Mapping[str, float]:
        text = request.messages[-1].content if request.messages else request.prompt or ""
        if text.startswith(ROUTE_HEAD):
            return self._route(text)
        if text.endswith(VERIFY_TAIL):
            return self._verify(text)
        if text.endswith(SELECT_TAIL):
            return self._select(text)
        if FUSE_TAIL in text:
            return self._fuse(text)
        base = text.split("\n\nNotes from earlier steps:")[0]
        if base not in self._by_prompt:
            raise BackendError(f"simulated world does not know the prompt {text[:60]!r}")
        item, seed = self._by_prompt[base]
        return self._render(item, seed)

    def correct(self, item: Item, shown: str) -> bool:
        """Whether a judge prompt's shown answer (``B. Paris`` or ``4``) is the gold answer."""
        if item.choices:
            return shown.split(".", 1)[0].strip() == item.answer
        return self.task.score(shown.strip(), item) >= 1.0

    def _render(self, item: Item, seed: int | None) -> dict[str, float]:
        dist = self.answers[item.id]
        if not item.choices or seed is None:
            return dict(dist)
        out: dict[str, float] = {}
        for answer, p in dist.items():
            shown = self.task.display_letter(answer, item, seed) if answer in LETTERS[: len(item.choices)] else answer
            out[shown] = out.get(shown, 0.0) + p
        return out

    def _item_of(self, text: str, tail_marker: str) -> Item:
        block = text.split(tail_marker)[0].rstrip("\n")
        if block not in self._by_block:
            raise BackendError(f"simulated world does not know the question in {text[:60]!r}")
        return self._by_block[block]

    def _verify(self, text: str) -> dict[str, float]:
        item = self._item_of(text, "\nProposed answer:")
        shown = text.split("\nProposed answer: ", 1)[1].rsplit("\n", 1)[0]
        p = self.tpr if self.correct(item, shown) else self.fpr
        return {"yes": p, "no": 1.0 - p}

    def _listed(self, text: str, header: str) -> tuple[Item, list[str]]:
        item = self._item_of(text, f"\n{header}")
        body = text.split(f"\n{header}\n", 1)[1].rsplit("\n", 1)[0]
        return item, [re.sub(r"^(\d+\.|-) ", "", line) for line in body.split("\n")]

    def _select(self, text: str) -> dict[str, float]:
        item, shown = self._listed(text, "Candidate answers:")
        n = len(shown)
        right = [i for i, s in enumerate(shown) if self.correct(item, s)]
        dist = {str(i + 1): (1.0 - self.select_skill) / n if right else 1.0 / n for i in range(n)}
        for i in right:
            dist[str(i + 1)] += self.select_skill / len(right)
        return dist

    def _fuse(self, text: str) -> dict[str, float]:
        item, shown = self._listed(text, "Candidate answers from several attempts:")
        parsed = [self.task.parse(s, item) for s in shown]
        counts = Counter(a for a in parsed if a is not None)
        if not counts:
            return {"I cannot tell.": 1.0}
        top = max(counts.values())
        tied = sorted(a for a, c in counts.items() if c == top)
        return {f"Answer: {a}": 1.0 / len(tied) for a in tied}

    def _by_description(self, description: str) -> Item | None:
        """The item whose description (or question) starts with the words a delegator was shown."""
        words = len(description.split())
        if words not in self._prefixes:
            self._prefixes[words] = {
                " ".join(str(it.metadata.get("description") or it.question).split()[:words]): it for it in self.task.items
            }
        return self._prefixes[words].get(" ".join(description.split()))

    def _route(self, text: str) -> dict[str, float]:
        names = text.split("\nSpecialists: ", 1)[1].split("\n", 1)[0].split(", ")
        description = text.split("\nRequest: ", 1)[1].rsplit("\n", 1)[0]
        item = self._by_description(description)
        domain = str(item.metadata.get("domain", "")) if item else ""
        if domain not in names:
            return dict.fromkeys(names, 1.0 / len(names))
        others = [n for n in names if n != domain]
        dist = dict.fromkeys(others, (1.0 - self.route_skill) / max(1, len(others)))
        dist[domain] = self.route_skill if others else 1.0
        return dist
