"""Grid search, coarse to fine: every model with sample counts on a log-spaced ladder first,
then the ladder refined level by level until every candidate count is covered.

Level 0 uses each stage's smallest and largest sample count; level ``k`` adds the counts nearest to
``2^j`` for ``j ≤ k``, then the midpoints of what is already in, and so on. Within a level,
configurations come in lexicographic order (stage by stage, models as given, samples ascending),
optionally shuffled by ``seed``. Only configurations within budget are proposed.

Example:
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> bench = AgentTTSBenchmark()
    >>> g = GridSearcher(bench.space, 900)
    >>> [p.config.key for p in g.propose([], 2)]
    ['[["3B",1],["3B",1]]', '[["3B",1],["3B",50]]']
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence

from callscale.search.archive import Trial
from callscale.search.base import Option, Proposal, Searcher, parse_optional_int, tried_keys
from callscale.search.budget import Number
from callscale.search.space import Choice, Config, Space


def sample_ladder(samples: Sequence[int]) -> list[list[int]]:
    """Candidate sample counts split into coarse-to-fine levels (every count appears exactly once).

    Example:
        >>> sample_ladder(range(1, 11))
        [[1, 10], [2], [4], [8], [6], [3, 5, 7, 9]]
    """
    cands = sorted(set(samples))
    placed: set[int] = set()
    levels: list[list[int]] = []

    def add(values: Sequence[int]) -> None:
        new = sorted(v for v in set(values) if v not in placed)
        if new:
            placed.update(new)
            levels.append(new)

    add([cands[0], cands[-1]])
    power = 1
    while power < cands[-1]:
        power *= 2
        add([min(cands, key=lambda s: (abs(s - power), s))])
    while len(placed) < len(cands):  # midpoints of the gaps, widest gaps first
        have = sorted(placed)
        gaps = sorted(itertools.pairwise(have), key=lambda g: -(g[1] - g[0]))
        widest = gaps[0][1] - gaps[0][0]
        mids = []
        for lo, hi in gaps:
            if hi - lo < widest or hi - lo < 2:
                break
            inner = [s for s in cands if lo < s < hi]
            if inner:
                mids.append(min(inner, key=lambda s: (abs(s - (lo + hi) / 2), s)))
        if not mids:
            add([s for s in cands if s not in placed])
        else:
            add(mids)
    return levels


class GridSearcher(Searcher):
    """Coarse-to-fine grid over models × sample-count ladder, within budget.

    ``seed=None`` keeps the lexicographic order within a level; a seed shuffles it.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> next(GridSearcher(agentts_space(), 500).order()).key
        '[["3B",1],["3B",1]]'
    """

    name = "grid"
    options = (Option("seed", None, "shuffle the order within each level with this seed (none: lexicographic)",
                      parse_optional_int),)

    def __init__(self, space: Space, budget: Number, *, seed: int | None = None) -> None:
        super().__init__(space, budget, seed=seed or 0)
        self.shuffle = seed is not None
        self._ladders = [sample_ladder(st.samples) for st in space.stages]

    def order(self) -> Iterator[Config]:
        """Every feasible configuration, in grid order (each exactly once)."""
        depth = max(len(lad) for lad in self._ladders)
        level_of = [{s: k for k, lvl in enumerate(lad) for s in lvl} for lad in self._ladders]
        for level in range(depth):
            per_stage_lo = [
                [c for c in self.space.options[i] if level_of[i][c.samples] <= level] for i in range(len(self.space.stages))
            ]
            batch: list[Config] = []
            for combo in itertools.product(*per_stage_lo):
                if max(level_of[i][c.samples] for i, c in enumerate(combo)) != level:
                    continue
                config = Config(tuple(Choice(c.model, c.samples) for c in combo))
                if self.feasible(config):
                    batch.append(config)
            if self.shuffle:
                random.Random(self.seed * 7919 + level).shuffle(batch)
            yield from batch

    def propose(self, history: Sequence[Trial], n: int = 1) -> list[Proposal]:
        """The next ``n`` untried configurations in grid order."""
        if n <= 0:
            return []
        seen = tried_keys(history)
        out: list[Proposal] = []
        for config in self.order():
            if config.key not in seen:
                out.append(Proposal(config, "grid"))
                if len(out) == n:
                    break
        return out
