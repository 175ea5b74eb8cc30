"""A user's own network, searched live: each trial runs one configuration of a
:class:`~callscale.search.network_space.SearchableNetwork` on the engine.

A trial's ``cost`` is the space's price of the configuration per item (the budget's unit); its
``info`` adds the exact declared cost and the cost the ledger measured per item in the same unit
(real token counts), and ``spent_cost`` what was paid now (less when sample pools were reused: a
trial needing at most the samples already drawn for a node makes no new calls).

Example:
    >>> import asyncio
    >>> from callscale.backends.simulated import SimulatedBackend
    >>> from callscale.engine import Engine
    >>> from callscale.primitives.world import simulated_world
    >>> from callscale.records import ModelCard
    >>> from callscale.search.network_space import SearchableNetwork
    >>> from callscale.search.space import Config
    >>> from callscale.tasks import load_task
    >>> task = load_task("arithmetic", 6)
    >>> net = SearchableNetwork.from_dict({"name": "v", "nodes": [
    ...     {"id": "s", "op": "sample", "model": "sim", "k": {"choose": [1, 3]}},
    ...     {"id": "v", "op": "vote", "inputs": ["s"]}]})
    >>> engine = Engine(SimulatedBackend(simulated_world(task)))
    >>> env = NetworkTrials(engine, task, task, net, net.space({"sim": ModelCard("sim", 100)}))
    >>> r = asyncio.run(env.evaluate(Config.of(("sim", 3))))
    >>> r.cost, r.info["declared_cost_per_item"], r.n_items
    (22800.0, 22800.0, 6)
"""

from __future__ import annotations

from dataclasses import dataclass

from callscale.engine import Engine
from callscale.ledger import Tally
from callscale.networks import run_network
from callscale.search.environments.base import TrialResult
from callscale.search.network_space import NetworkCost, SearchableNetwork
from callscale.search.space import Config, Space
from callscale.tasks.items import Task


def measured(tally: Tally, unit: str) -> float | None:
    """A ledger tally in a budget unit (None: dollars with a model whose price is unknown).

    Example:
        >>> t = Tally(); t._add(10, 2, 0, 100, None, 0.0); measured(t, "primitive"), measured(t, "dollars")
        (1200.0, None)
    """
    if unit == "dollars":
        return tally.dollars if tally.priced else None
    return float(tally.flops if unit == "flops" else tally.primitive_cost)


@dataclass
class NetworkTrials:
    """:class:`~callscale.search.environments.base.AsyncEnvironment` over a searchable network (see module docstring)."""

    engine: Engine
    train: Task
    test: Task
    searchable: SearchableNetwork
    space: Space

    @property
    def unit(self) -> str:
        """The budget unit of the space."""
        return self.space.cost_model.unit

    async def _evaluate(self, config: Config, task: Task, split: str) -> TrialResult:
        network = self.searchable.network(config)
        with self.engine.tally() as ledger:  # this trial's calls, whatever else runs on the engine
            result = await run_network(network, task, self.engine)
        after = ledger.total()
        n = max(1, result.n)
        system = measured(after.system, self.unit)
        spent = measured(after.spent, self.unit)
        cost_model = self.space.cost_model
        exact = float(cost_model.exact(config)) if isinstance(cost_model, NetworkCost) else None
        info = {"network": network.name, "declared_cost_per_item": exact,
                "measured_cost_per_item": None if system is None else system / n,
                "calls": after.system.calls, "new_calls": after.spent.calls, "unit": self.unit}
        return TrialResult(score=result.accuracy, cost=float(self.space.cost(config)), split=split, n_items=result.n,
                           spent_cost=None if spent is None else spent / n, info=info)

    async def evaluate(self, config: Config) -> TrialResult:
        """Run ``config`` on the training split."""
        return await self._evaluate(config, self.train, "train")

    async def evaluate_test(self, config: Config) -> TrialResult:
        """Run ``config`` on the held-out split."""
        return await self._evaluate(config, self.test, "test")
