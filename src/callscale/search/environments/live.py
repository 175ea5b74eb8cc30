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
from callscale.primitives import Candidates, Decision, Fuse, ItemContext, Node, Sample, Vote
from callscale.records import ModelCard
from callscale.search.environments.base import CurveEstimate, TrialResult
from callscale.search.space import Config, PrimitiveCost, Space, Stage
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
    """:class:`~callscale.search.environments.base.AsyncEnvironment` over a real task (see module docstring)."""

    engine: Engine
    train: Task
    test: Task
    space: Space
    max_tokens: int | None = None

    async def _evaluate(self, config: Config, task: Task, split: str) -> TrialResult:
        network = stage_network(self.space, config, max_tokens=self.max_tokens)
        outputs = [n.id for n in network.nodes if n.id.endswith((".fuse", ".pick"))]

        async def one(item: Item) -> list[float]:
            values = await network.run_item(self.engine, task, item)
            scores = []
            for node_id in outputs:
                decision = values[node_id]
                assert isinstance(decision, Decision)
                scores.append(decision.score_with(lambda a: task.score(a, item)))
            return scores

        with self.engine.tally() as ledger:  # this trial's calls, whatever else runs on the engine
            per_item = await asyncio.gather(*(one(item) for item in task.items))
        stage_scores = tuple(sum(s[j] for s in per_item) / len(per_item) for j in range(len(outputs)))
        total = ledger.total()
        system = total.system.primitive_cost
        spent = total.spent.primitive_cost
        declared = float(self.space.cost(config))
        return TrialResult(score=stage_scores[-1], cost=declared, stage_scores=stage_scores, split=split,
                           n_items=len(task.items), spent_cost=declared * spent / system if system else 0.0,
                           info={"network": network.name, "measured_primitive_cost_per_item": system / len(task.items)})

    async def curve_estimates(self, max_samples: int | None = None) -> list[CurveEstimate]:
        """Per-stage quality against samples, measured from sample pools on the training split.

        For every stage and model, one pool of M samples per item gives the vote accuracy at every
        S ≤ M exactly (averaged over all subsets) — a stand-in for sampling-then-fusing that costs no
        fusion calls. A later stage is measured on the input the previous stage gives with one sample
        from its first model (recorded as ``upstream``). The pools are the ones trials draw from, so
        this spending is reused by every later trial.
        """
        from callscale.primitives.vote import decide
        from callscale.scaling.estimate import item_counts, subset_vote_curves

        items = self.train.items
        upstream: list[Decision | None] = [None] * len(items)
        upstream_quality: float | None = None
        out: list[CurveEstimate] = []
        for i, stage in enumerate(self.space.stages):
            m = max_samples or max(stage.samples)
            shown = [s for s in stage.samples if s <= m]
            first: list[Candidates] = []
            for model in stage.model_names:
                node = Sample(stage.name, model, m, SAMPLING_TEMPERATURE, self.max_tokens, inputs=("upstream",) if i else ())

                pools = await asyncio.gather(*(self._draw(node, item, given)
                                               for item, given in zip(items, upstream, strict=True)))
                if not first:
                    first = list(pools)
                counts = [item_counts(p.answers, item.answer) for p, item in zip(pools, items, strict=True)]
                curve = subset_vote_curves(counts, shown).mean(axis=0)
                out.append(CurveEstimate(i, model, tuple(shown), tuple(float(q) for q in curve), upstream_quality,
                                         len(items)))
            upstream = [decide([p.items[0].answer], f"{item.id}/{stage.name}.pick", p.depth)
                        for p, item in zip(first, items, strict=True)]
            upstream_quality = sum(self._score(d, it) for d, it in zip(upstream, items, strict=True)) / len(items)
        return out

    async def _draw(self, node: Sample, item: Item, upstream: Decision | None) -> Candidates:
        drawn = await node.run(ItemContext(self.engine, self.train, item), [upstream] if upstream is not None else [])
        assert isinstance(drawn, Candidates)
        return drawn

    def _score(self, decision: Decision | None, item: Item) -> float:
        return 0.0 if decision is None else decision.score_with(lambda a: self.train.score(a, item))

    async def evaluate(self, config: Config) -> TrialResult:
        """Run ``config`` on the training split."""
        return await self._evaluate(config, self.train, "train")

    async def evaluate_test(self, config: Config) -> TrialResult:
        """Run ``config`` on the held-out split."""
        return await self._evaluate(config, self.test, "test")
