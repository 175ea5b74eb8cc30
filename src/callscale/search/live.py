"""A multi-stage task run live on an engine: the environment searches evaluate on real calls.

Each stage samples S answers with its model (repeated sampling, temperature 0.9) and, when S > 1,
fuses them with one more call by the same model; a later stage reads the earlier stage's fused
answer as notes. Every trial runs through the engine and its store, so a trial needing at most
the samples already drawn for a stage makes no new calls: a sample pool of M serves every S ≤ M.

Example:
    >>> from callscale.records import ModelCard
    >>> space = draft_and_answer_space([ModelCard("m", 100)], samples=(1, 2, 4))
    >>> [n.id for n in stage_network(space, Config.of(("m", 2), ("m", 1))).nodes]
    ['draft', 'draft.fuse', 'answer', 'answer.pick']
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from callscale.engine import Engine
from callscale.networks import Network
from callscale.primitives import Decision, Fuse, Node, Sample, Vote
from callscale.records import ModelCard
from callscale.search.budget import PrimitiveCost
from callscale.search.environment import TrialResult
from callscale.search.space import Config, Space, Stage
from callscale.tasks.items import Item, Task

SAMPLING_TEMPERATURE = 0.9


def draft_and_answer_space(models: Sequence[ModelCard], samples: Sequence[int] = (1, 2, 4, 8), *,
                           prompt_tokens: int = 40, decode_tokens: int = 12) -> Space:
    """Two stages — ``draft`` then ``answer`` (which reads the draft) — priced in primitive cost m·n."""
    stages = (Stage("draft", models, samples, prompt_tokens, decode_tokens),
              Stage("answer", models, samples, prompt_tokens + decode_tokens, decode_tokens))
    return Space(stages, PrimitiveCost())


def stage_network(space: Space, config: Config, *, max_tokens: int | None = None) -> Network:
    """The network of ``config``: per stage, Sample(S) then Fuse (S > 1) or pass-through (S = 1)."""
    nodes: list[Node] = []
    previous: tuple[str, ...] = ()
    for stage, choice in zip(space.stages, config, strict=True):
        nodes.append(Sample(stage.name, choice.model, choice.samples, SAMPLING_TEMPERATURE, max_tokens, inputs=previous))
        if choice.samples > 1:
            nodes.append(Fuse(f"{stage.name}.fuse", choice.model, inputs=(stage.name,), temperature=0.0,
                              max_tokens=max_tokens or 32))
            previous = (f"{stage.name}.fuse",)
        else:
            nodes.append(Vote(f"{stage.name}.pick", inputs=(stage.name,)))
            previous = (f"{stage.name}.pick",)
    return Network("+".join(f"{c.model}x{c.samples}" for c in config), tuple(nodes))


@dataclass
class LiveStages:
    """:class:`~callscale.search.environment.AsyncEnvironment` over a real task (see module docstring)."""

    engine: Engine
    train: Task
    test: Task
    space: Space
    max_tokens: int | None = None

    async def _evaluate(self, config: Config, task: Task, split: str) -> TrialResult:
        network = stage_network(self.space, config, max_tokens=self.max_tokens)
        before = self.engine.ledger.total()
        before_spent, before_system = before.spent.primitive_cost, before.system.primitive_cost
        outputs = [n.id for n in network.nodes if n.id.endswith((".fuse", ".pick"))]

        async def one(item: Item) -> list[float]:
            values = await network.run_item(self.engine, task, item)
            scores = []
            for node_id in outputs:
                decision = values[node_id]
                assert isinstance(decision, Decision)
                scores.append(decision.score_with(lambda a: task.score(a, item)))
            return scores

        per_item = await asyncio.gather(*(one(item) for item in task.items))
        stage_scores = tuple(sum(s[j] for s in per_item) / len(per_item) for j in range(len(outputs)))
        total = self.engine.ledger.total()
        system = total.system.primitive_cost - before_system
        spent = total.spent.primitive_cost - before_spent
        declared = float(self.space.cost(config))
        return TrialResult(score=stage_scores[-1], cost=declared, stage_scores=stage_scores, split=split,
                           n_items=len(task.items), spent_cost=declared * spent / system if system else 0.0,
                           info={"network": network.name, "measured_primitive_cost_per_item": system / len(task.items)})

    async def evaluate(self, config: Config) -> TrialResult:
        """Run ``config`` on the training split."""
        return await self._evaluate(config, self.train, "train")

    async def evaluate_test(self, config: Config) -> TrialResult:
        """Run ``config`` on the held-out split."""
        return await self._evaluate(config, self.test, "test")
