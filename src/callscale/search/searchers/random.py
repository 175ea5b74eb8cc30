"""Random search: configurations drawn uniformly from those within budget, never repeating.

Example:
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> bench = AgentTTSBenchmark()
    >>> proposals = RandomSearcher(bench.space, 900, seed=3).propose([], 4)
    >>> len({p.config.key for p in proposals}), all(bench.space.within(p.config, 900) for p in proposals)
    (4, True)
"""

from __future__ import annotations

from collections.abc import Sequence

from callscale.search.archive import Trial
from callscale.search.base import Proposal, Searcher


class RandomSearcher(Searcher):
    """Uniform sampling over the budget-feasible configurations (exactly uniform, via DP counts).

    Reproducible and resumable: the generator is seeded from ``seed`` and the number of trials so far.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> a = RandomSearcher(agentts_space(), 900, seed=1).propose([], 2)
        >>> b = RandomSearcher(agentts_space(), 900, seed=1).propose([], 2)
        >>> a == b
        True
    """

    name = "random"

    def propose(self, history: Sequence[Trial], n: int = 1) -> list[Proposal]:
        """``n`` distinct untried feasible configurations, uniformly at random."""
        return [Proposal(c, "uniform random") for c in self.random_unseen(history, n)]
