"""Sample pools for scaling analysis: M parsed answers per item, collected through the engine.

A pool is drawn with the same Sample node a ``vote`` network uses, so ``callscale run --network
vote --k K`` for any K ≤ M and ``callscale scale --samples M`` share their calls. The logprobs
route asks once per item for the model's top alternatives for its first token instead
(:func:`top_logprobs`); reading them as an answer distribution is analysis
(:func:`callscale.scaling.measured.letter_distribution`).

Example:
    >>> spec = PoolSpec(model="sim", samples=8, temperature=0.8)
    >>> spec.sample_node().k
    8
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from callscale.engine import Engine
from callscale.primitives import Candidates, ItemContext, Sample
from callscale.primitives.facts import task_request
from callscale.scaling.estimate import PoolItem
from callscale.tasks.items import Task
from callscale.tasks.parsers import LETTERS


@dataclass(frozen=True)
class PoolSpec:
    """How a pool is drawn; every field is part of θ and of the pool's identity."""

    model: str
    samples: int
    temperature: float = 0.8
    max_tokens: int | None = None
    permute: bool = False

    def sample_node(self) -> Sample:
        """The Sample node that draws this pool (node id ``generate``, as in a vote network)."""
        return Sample("generate", self.model, self.samples, self.temperature, self.max_tokens, self.permute)


async def collect_pools(engine: Engine, task: Task, spec: PoolSpec) -> list[PoolItem]:
    """M parsed answers for every item of ``task`` (stored samples are reused, never paid twice)."""
    node = spec.sample_node()

    async def one(index: int) -> PoolItem:
        item = task.items[index]
        drawn = await node.run(ItemContext(engine, task, item), [])
        assert isinstance(drawn, Candidates)
        return PoolItem(item.id, item.answer, tuple(drawn.answers))

    return list(await asyncio.gather(*(one(i) for i in range(len(task.items)))))


@dataclass(frozen=True)
class TopLogprobs:
    """One multiple-choice item's first-token alternatives as (token, logprob) pairs (none: the call
    failed), with its gold letter and its options' letters.

    >>> TopLogprobs("q1", "B", "AB", ((" B", -0.1),)).letters
    'AB'
    """

    id: str
    gold: str
    letters: str
    top: tuple[tuple[str, float], ...]


async def top_logprobs(engine: Engine, task: Task, model: str, *, top: int = 20) -> list[TopLogprobs]:
    """One call per multiple-choice item (temperature 1, one token): its top ``top`` first tokens."""
    if not task.is_multiple_choice:
        raise ValueError(f"task {task.name!r} has free-form answers; the logprobs route needs single-token answers")

    async def one(index: int) -> TopLogprobs:
        item = task.items[index]
        request = task_request(task, item, model, temperature=1.0, max_tokens=1, logprobs=True, top_logprobs=top)
        reply = (await engine.complete(request, 1, node="logprobs"))[0]
        letters = LETTERS[: len(item.choices or ())]
        pairs = tuple(reply.logprobs[0].top) if reply.ok and reply.logprobs else ()
        return TopLogprobs(item.id, item.answer, letters, pairs)

    return list(await asyncio.gather(*(one(i) for i in range(len(task.items)))))
