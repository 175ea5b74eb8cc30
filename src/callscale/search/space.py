"""The search space: stages, their candidate models and sample counts, and configurations.

A :class:`Stage` lists candidate models (:class:`~callscale.records.ModelCard`) and candidate sample
counts; a :class:`Config` assigns one :class:`Choice` ``(model, samples)`` to every stage of a
:class:`Space`. The space prices configurations with a cost model and counts, enumerates, samples
and repairs configurations within a budget (the arithmetic is :mod:`callscale.search.budget`).

Two cost models price one stage (a model drawing ``S`` samples, then fusing them); their formulas
live in :mod:`callscale.costs`:

* :class:`AgentTTSCost` (the default) — AgentTTS's FLOPs-normalised budget, one unit being a
  3B-model call with 128 prompt and 64 decoded tokens: ``B = [α·(N_p + S·N_d) − 128] / 64`` with
  ``α = params / 3e9``.
* :class:`PrimitiveCost` — callscale's LLM-primitive cost ``m·n`` (model parameters times tokens
  processed): ``S`` generations of ``N_p + N_d`` tokens, plus a fusion call that reads the prompt and
  the ``S`` drafts and decodes ``N_d`` tokens (when ``S > 1``).

Example:
    >>> from callscale.records import ModelCard
    >>> small, large = ModelCard("3B", 3_000_000_000), ModelCard("72B", 72_000_000_000)
    >>> space = Space((Stage("retrieval", (small, large), range(1, 4), 2048, 128),
    ...                Stage("qa", (small, large), range(1, 51), 256, 64)))
    >>> config = Config.of(("72B", 1), ("3B", 15))
    >>> space.cost(config)
    Fraction(831, 1)
    >>> space.count(900) == sum(1 for _ in space.enumerate(900))
    True
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

from callscale.costs import agentts_stage_budget, stage_tokens
from callscale.records import ModelCard
from callscale.search.budget import (
    FeasibleSampler,
    Number,
    as_fraction,
    count_within,
    count_within_brute_force,
    enumerate_within,
)


@dataclass(frozen=True)
class Stage:
    """One stage of a multi-stage task: candidate models and sample counts, prompt/decode lengths.

    ``samples`` accepts any iterable of positive integers (kept sorted and unique).

    Example:
        >>> Stage("qa", (ModelCard("3B", 3_000_000_000),), range(1, 4), 256, 64).samples
        (1, 2, 3)
    """

    name: str
    models: tuple[ModelCard, ...]
    samples: tuple[int, ...]
    prompt_tokens: int
    decode_tokens: int

    def __init__(
        self,
        name: str,
        models: Iterable[ModelCard],
        samples: Iterable[int],
        prompt_tokens: int,
        decode_tokens: int,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "models", tuple(models))
        object.__setattr__(self, "samples", tuple(sorted(set(int(s) for s in samples))))
        object.__setattr__(self, "prompt_tokens", int(prompt_tokens))
        object.__setattr__(self, "decode_tokens", int(decode_tokens))
        if not self.name:
            raise ValueError("a stage needs a name")
        if not self.models:
            raise ValueError(f"stage {name!r} needs at least one candidate model")
        if len({m.name for m in self.models}) != len(self.models):
            raise ValueError(f"stage {name!r} has duplicate model names")
        if not self.samples or self.samples[0] < 1:
            raise ValueError(f"stage {name!r} needs sample counts >= 1")

    def model(self, name: str) -> ModelCard:
        """The candidate model called ``name`` (KeyError if it is not a candidate).

        Example:
            >>> Stage("qa", (ModelCard("3B", 3),), (1,), 8, 8).model("3B").params
            3
        """
        for card in self.models:
            if card.name == name:
                return card
        raise KeyError(f"{name!r} is not a candidate model of stage {self.name!r}")

    @property
    def model_names(self) -> tuple[str, ...]:
        """Candidate model names, in the order given."""
        return tuple(m.name for m in self.models)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (used for prompts and fingerprints)."""
        return {
            "name": self.name,
            "models": [{"name": m.name, "params": m.params} for m in self.models],
            "samples": list(self.samples),
            "prompt_tokens": self.prompt_tokens,
            "decode_tokens": self.decode_tokens,
        }


@dataclass(frozen=True, order=True)
class Choice:
    """The model and sample count chosen for one stage.

    Example:
        >>> Choice("3B", 15)
        Choice(model='3B', samples=15)
    """

    model: str
    samples: int


@dataclass(frozen=True)
class Config:
    """One configuration: a :class:`Choice` per stage, in stage order.

    Example:
        >>> Config.of(("72B", 1), ("3B", 15)).key
        '[["72B",1],["3B",15]]'
    """

    choices: tuple[Choice, ...]

    @classmethod
    def of(cls, *pairs: tuple[str, int] | Choice) -> Config:
        """Build from ``(model, samples)`` pairs or :class:`Choice` values."""
        return cls(tuple(p if isinstance(p, Choice) else Choice(str(p[0]), int(p[1])) for p in pairs))

    @property
    def key(self) -> str:
        """Canonical JSON text; equal configurations have equal keys."""
        return json.dumps([[c.model, c.samples] for c in self.choices], separators=(",", ":"))

    def to_json(self) -> str:
        """Same as :attr:`key` (a JSON list of ``[model, samples]`` pairs)."""
        return self.key

    @classmethod
    def from_json(cls, text: str) -> Config:
        """Inverse of :meth:`to_json`.

        Example:
            >>> Config.from_json('[["72B",1],["3B",15]]') == Config.of(("72B", 1), ("3B", 15))
            True
        """
        return cls.of(*[(m, int(s)) for m, s in json.loads(text)])

    def __len__(self) -> int:
        return len(self.choices)

    def __getitem__(self, index: int) -> Choice:
        return self.choices[index]

    def __iter__(self) -> Iterator[Choice]:
        return iter(self.choices)

    def replace(self, index: int, choice: Choice) -> Config:
        """A copy with stage ``index`` set to ``choice``.

        Example:
            >>> Config.of(("a", 1), ("b", 2)).replace(1, Choice("c", 3)).key
            '[["a",1],["c",3]]'
        """
        return Config((*self.choices[:index], choice, *self.choices[index + 1 :]))


# ---------------------------------------------------------------------------------------------
# Cost models: what one stage's choice costs.


def primitive_stage_cost(params: int, prompt_tokens: int, decode_tokens: int, samples: int, *, fusion: bool = True) -> Fraction:
    """LLM-primitive cost ``m·n`` of one stage: ``S`` generations plus one fusion call when ``S > 1``.

    Each generation processes ``N_p + N_d`` tokens; the fusion call reads the prompt and the ``S``
    drafts and decodes ``N_d`` tokens, i.e. ``N_p + S·N_d + N_d``.

    Example:
        >>> primitive_stage_cost(10, 100, 10, 1)
        Fraction(1100, 1)
        >>> primitive_stage_cost(10, 100, 10, 2)  # 2·110 + (100 + 20 + 10), times m = 10
        Fraction(3500, 1)
    """
    return Fraction(params * stage_tokens(prompt_tokens, decode_tokens, samples, fusion=fusion))


@runtime_checkable
class CostModel(Protocol):
    """Prices one stage of a configuration; ``unit`` names what a budget is measured in.

    Example:
        >>> isinstance(AgentTTSCost(), CostModel), isinstance(PrimitiveCost(), CostModel)
        (True, True)
    """

    @property
    def unit(self) -> str: ...

    def stage_cost(self, stage: Stage, model: ModelCard, samples: int) -> Fraction: ...


@dataclass(frozen=True)
class AgentTTSCost:
    """AgentTTS FLOPs-normalised budget (see :func:`callscale.costs.agentts_stage_budget`).

    Example:
        >>> AgentTTSCost().unit
        'agentts'
    """

    @property
    def unit(self) -> str:
        """Budget unit name."""
        return "agentts"

    def stage_cost(self, stage: Stage, model: ModelCard, samples: int) -> Fraction:
        """Budget of ``stage`` run by ``model`` with ``samples`` samples."""
        return agentts_stage_budget(model.params, stage.prompt_tokens, stage.decode_tokens, samples)


@dataclass(frozen=True)
class PrimitiveCost:
    """callscale's LLM-primitive cost ``m·n`` (see :func:`primitive_stage_cost`).

    Example:
        >>> PrimitiveCost().unit
        'primitive'
    """

    fusion: bool = True

    @property
    def unit(self) -> str:
        """Budget unit name."""
        return "primitive"

    def stage_cost(self, stage: Stage, model: ModelCard, samples: int) -> Fraction:
        """Primitive cost of ``stage`` run by ``model`` with ``samples`` samples."""
        return primitive_stage_cost(model.params, stage.prompt_tokens, stage.decode_tokens, samples, fusion=self.fusion)


@dataclass(frozen=True)
class Space:
    """Stages plus the cost model that prices their choices.

    Example:
        >>> stage = Stage("s", (ModelCard("3B", 3_000_000_000),), (1, 2), 256, 64)
        >>> Space((stage,)).size
        2
    """

    stages: tuple[Stage, ...]
    cost_model: CostModel = field(default_factory=AgentTTSCost)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        if not self.stages:
            raise ValueError("a space needs at least one stage")
        if len({s.name for s in self.stages}) != len(self.stages):
            raise ValueError("stage names must be unique")

    # -- options -------------------------------------------------------------------------------
    @cached_property
    def options(self) -> tuple[tuple[Choice, ...], ...]:
        """Every choice of every stage, in a fixed order (models as given, then samples ascending)."""
        return tuple(tuple(Choice(m.name, s) for m in stage.models for s in stage.samples) for stage in self.stages)

    @cached_property
    def option_costs(self) -> tuple[tuple[Fraction, ...], ...]:
        """Exact cost of every option, aligned with :attr:`options`."""
        return tuple(
            tuple(self.cost_model.stage_cost(stage, stage.model(c.model), c.samples) for c in opts)
            for stage, opts in zip(self.stages, self.options, strict=True)
        )

    @cached_property
    def _index(self) -> tuple[dict[Choice, int], ...]:
        return tuple({c: j for j, c in enumerate(opts)} for opts in self.options)

    @property
    def size(self) -> int:
        """Number of configurations ignoring the budget."""
        n = 1
        for opts in self.options:
            n *= len(opts)
        return n

    # -- membership and cost ---------------------------------------------------------------------
    def contains(self, config: Config) -> bool:
        """Whether every choice is a candidate (model and sample count) of its stage.

        Example:
            >>> stage = Stage("s", (ModelCard("3B", 3_000_000_000),), (1, 2), 256, 64)
            >>> Space((stage,)).contains(Config.of(("3B", 3)))
            False
        """
        return len(config) == len(self.stages) and all(c in idx for c, idx in zip(config.choices, self._index, strict=True))

    def stage_cost(self, index: int, choice: Choice) -> Fraction:
        """Exact cost of ``choice`` at stage ``index``."""
        stage = self.stages[index]
        j = self._index[index].get(choice)
        if j is not None:
            return self.option_costs[index][j]
        return self.cost_model.stage_cost(stage, stage.model(choice.model), choice.samples)

    def cost(self, config: Config) -> Fraction:
        """Exact total cost of ``config``."""
        if len(config) != len(self.stages):
            raise ValueError(f"config has {len(config)} stages, space has {len(self.stages)}")
        return sum((self.stage_cost(i, c) for i, c in enumerate(config.choices)), Fraction(0))

    def within(self, config: Config, budget: Number) -> bool:
        """Whether ``config`` is a member of the space and costs at most ``budget``."""
        return self.contains(config) and self.cost(config) <= as_fraction(budget)

    # -- counting, enumeration, sampling ---------------------------------------------------------
    def count(self, budget: Number) -> int:
        """Exact number of configurations within ``budget`` (dynamic programme over stages)."""
        return count_within(self.option_costs, budget)

    def count_brute_force(self, budget: Number) -> int:
        """Reference count by trying every configuration (for tests)."""
        return count_within_brute_force(self.option_costs, budget)

    def enumerate(self, budget: Number | None = None) -> Iterator[Config]:
        """Yield every configuration within ``budget`` (all of them when ``budget`` is None)."""
        limit: Number = self.max_cost() if budget is None else budget
        for idx in enumerate_within(self.option_costs, limit):
            yield Config(tuple(self.options[i][j] for i, j in enumerate(idx)))

    @cached_property
    def _samplers(self) -> dict[Fraction, FeasibleSampler]:
        return {}

    def sample(self, rng: random.Random, budget: Number, k: int = 1) -> list[Config]:
        """``k`` configurations drawn uniformly from those within ``budget`` (``[]`` if none fit)."""
        limit = as_fraction(budget)
        sampler = self._samplers.get(limit)
        if sampler is None:
            sampler = self._samplers[limit] = FeasibleSampler(self.option_costs, limit)
        picks = sampler.sample(rng, k)
        return [Config(tuple(self.options[i][j] for i, j in enumerate(idx))) for idx in picks]

    def min_cost(self) -> Fraction:
        """Cost of the cheapest configuration."""
        return sum((min(c) for c in self.option_costs), Fraction(0))

    def max_cost(self) -> Fraction:
        """Cost of the most expensive configuration.

        Example:
            >>> stage = Stage("s", (ModelCard("3B", 3_000_000_000),), (1, 2), 256, 64)
            >>> Space((stage,)).min_cost(), Space((stage,)).max_cost()
            (Fraction(3, 1), Fraction(4, 1))
        """
        return sum((max(c) for c in self.option_costs), Fraction(0))

    # -- repair and naming -----------------------------------------------------------------------
    def nearest_samples(self, index: int, samples: int) -> int:
        """The candidate sample count of stage ``index`` nearest to ``samples`` (ties: the smaller).

        Example:
            >>> stage = Stage("s", (ModelCard("3B", 3),), (1, 4, 8), 8, 8)
            >>> Space((stage,)).nearest_samples(0, 6), Space((stage,)).nearest_samples(0, 99)
            (4, 8)
        """
        cands = self.stages[index].samples
        return min(cands, key=lambda s: (abs(s - samples), s))

    def repair(self, config: Config, budget: Number) -> Config | None:
        """The nearest valid configuration within ``budget``, or None when none can be reached.

        Sample counts snap to the nearest candidate; unknown models are not guessed (None). While
        over budget, the most expensive stage gives up samples (next smaller candidate); a stage
        already at its fewest samples moves to the next smaller model.

        Example:
            >>> m = (ModelCard("3B", 3_000_000_000), ModelCard("72B", 72_000_000_000))
            >>> space = Space((Stage("r", m, range(1, 4), 2048, 128), Stage("q", m, range(1, 51), 256, 64)))
            >>> space.repair(Config.of(("72B", 3), ("3B", 40)), 900).key
            '[["72B",1],["3B",40]]'
        """
        if len(config) != len(self.stages):
            return None
        choices = []
        for i, c in enumerate(config.choices):
            if c.model not in self.stages[i].model_names:
                return None
            choices.append(Choice(c.model, self.nearest_samples(i, c.samples)))
        limit = as_fraction(budget)
        by_size = [sorted(s.models, key=lambda m: (m.params, m.name)) for s in self.stages]
        while True:
            current = Config(tuple(choices))
            costs = [self.stage_cost(i, c) for i, c in enumerate(choices)]
            if sum(costs, Fraction(0)) <= limit:
                return current
            moved = False
            for i in sorted(range(len(choices)), key=lambda i: -costs[i]):
                c = choices[i]
                lower = [s for s in self.stages[i].samples if s < c.samples]
                if lower:
                    choices[i] = Choice(c.model, lower[-1])
                    moved = True
                    break
                names = [m.name for m in by_size[i]]
                pos = names.index(c.model)
                if pos > 0:
                    choices[i] = Choice(names[pos - 1], c.samples)
                    moved = True
                    break
            if not moved:
                return None

    def named(self, config: Config) -> dict[str, dict[str, Any]]:
        """``{stage name: {"model": ..., "samples": ...}}`` for display and prompts."""
        return {s.name: {"model": c.model, "samples": c.samples} for s, c in zip(self.stages, config, strict=True)}

    def from_named(self, mapping: Mapping[str, Mapping[str, Any]]) -> Config:
        """Inverse of :meth:`named` (KeyError on a missing stage)."""
        return Config.of(*[(str(mapping[s.name]["model"]), int(mapping[s.name]["samples"])) for s in self.stages])

    def describe(self) -> dict[str, Any]:
        """JSON-ready description of stages and cost model."""
        return {"stages": [s.describe() for s in self.stages], "cost_unit": self.cost_model.unit}

    @cached_property
    def fingerprint(self) -> str:
        """Short hash of :meth:`describe`; an archive refuses to resume a search on another space."""
        text = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

