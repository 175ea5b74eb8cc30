"""Helpers for primitive and network tests: a task of identical free-form items on the simulated world."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.primitives.vote import decide
from callscale.primitives.world import TaskWorld
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import parse_number


def number_task(n: int, *, domain: str | None = None) -> Task:
    items = tuple(
        Item(id=f"q{i}", question=f"What is {i} + {i}?", answer=str(2 * i),
             metadata={"domain": domain} if domain else {})
        for i in range(n)
    )
    return Task("sums", items, "{question} Answer with a number.", parser=parse_number)


def world_engine(task: Task, dist: Callable[[Item], Mapping[str, float]], **world: float) -> tuple[Engine, TaskWorld]:
    w = TaskWorld(task, {it.id: dist(it) for it in task.items}, **world)  # type: ignore[arg-type]
    return Engine(SimulatedBackend(w, completion_tokens=3)), w


def gold_mix(p_gold: float, wrong: Mapping[str, float], abstain: float = 0.0) -> Callable[[Item], dict[str, float]]:
    """Answer distribution: gold with p_gold, wrong answers (offsets from gold) and gibberish (abstain)."""

    def dist(item: Item) -> dict[str, float]:
        out = {item.answer: p_gold}
        for offset, p in wrong.items():
            out[str(int(item.answer) + int(offset))] = p
        if abstain:
            out["no idea"] = abstain
        return out

    return dist


def exact_vote(probs: Mapping[str, float], k: int, gold: str = "G") -> float:
    """Brute force over all k-draw sequences: expected score of plurality with the tie rule."""
    labels = list(probs)
    total = 0.0
    for seq in itertools.product(labels, repeat=k):
        p = math.prod(probs[s] for s in seq)
        d = decide([None if s == "abstain" else s for s in seq], "x")
        total += p * sum(a == gold for a in d.tied) / len(d.tied)
    return total


def tolerance(p: float, n: int) -> float:
    return 4 * math.sqrt(max(p * (1 - p), 1e-4) / n)
