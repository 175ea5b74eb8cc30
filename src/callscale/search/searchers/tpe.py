"""Optuna's TPE sampler as a searcher (optional dependency: ``pip install callscale[tpe]``).

Each stage contributes a categorical model parameter and an integer sample parameter. The study
is rebuilt from the archive on every call (so a resumed search continues from what was recorded),
plus the infeasible points this searcher has already been told about. An over-budget suggestion
is never evaluated: it is recorded in the study as infeasible — a budget constraint Optuna's
constrained TPE learns from, with the worst score seen — and TPE is asked again. A suggestion
already evaluated is told its recorded score and TPE is asked again. After ``max_retries``
unusable suggestions the searcher falls back to a random feasible configuration (counted in
:attr:`TPESearcher.stats`).

Example:
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> bench = AgentTTSBenchmark()
    >>> p = TPESearcher(bench.space, 900, seed=0).propose([], 1)[0]
    >>> bench.space.within(p.config, 900)
    True
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from callscale.search.archive import Trial
from callscale.search.base import SEED, Option, Proposal, Searcher, parse_bool, tried_keys
from callscale.search.budget import Number
from callscale.search.space import Choice, Config, Space


def _optuna() -> ModuleType:
    try:
        module = importlib.import_module("optuna")
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "TPESearcher needs Optuna, an optional dependency: pip install 'callscale[tpe]' (or optuna>=4)"
        ) from exc
    module.logging.set_verbosity(module.logging.WARNING)
    return module


@dataclass(frozen=True)
class TPEStats:
    """How TPE's suggestions were used.

    Example:
        >>> TPEStats(suggested=5, infeasible=1, duplicates=0, fallbacks=0).infeasible
        1
    """

    suggested: int
    infeasible: int
    duplicates: int
    fallbacks: int


class TPESearcher(Searcher):
    """Tree-structured Parzen estimator (Optuna) over per-stage model and sample count.

    ``n_startup_trials`` random trials (Optuna's default 10) precede the density model.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> tpe = TPESearcher(agentts_space(), 500, seed=1)
        >>> len(tpe.propose([], 2)), tpe.stats.fallbacks
        (2, 0)
    """

    name = "tpe"
    options = (
        SEED,
        Option("n_startup_trials", 10, "random trials before the density model", int),
        Option("max_retries", 64, "unusable suggestions (over budget, repeated) before a random fallback", int),
        Option("multivariate", True, "model the parameters jointly", parse_bool),
    )

    def __init__(
        self,
        space: Space,
        budget: Number,
        *,
        seed: int = 0,
        n_startup_trials: int = 10,
        max_retries: int = 64,
        multivariate: bool = True,
    ) -> None:
        super().__init__(space, budget, seed=seed)
        self.optuna = _optuna()
        self.n_startup_trials = n_startup_trials
        self.max_retries = max_retries
        self.multivariate = multivariate
        self._infeasible: list[tuple[dict[str, Any], float]] = []
        self._suggested = self._n_infeasible = self._duplicates = self._fallbacks = 0
        dist = self.optuna.distributions
        self._distributions: dict[str, Any] = {}
        for i, st in enumerate(space.stages):
            self._distributions[f"{i}:{st.name}:model"] = dist.CategoricalDistribution(list(st.model_names))
            self._distributions[f"{i}:{st.name}:samples"] = dist.IntDistribution(st.samples[0], st.samples[-1])
        self._new_constraints = "constraints" in inspect.signature(self.optuna.trial.create_trial).parameters

    @property
    def stats(self) -> TPEStats:
        """Counts of suggestions, infeasible ones, duplicates and random fallbacks."""
        return TPEStats(self._suggested, self._n_infeasible, self._duplicates, self._fallbacks)

    # -- conversions ---------------------------------------------------------------------------------
    def _params(self, config: Config) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, (st, c) in enumerate(zip(self.space.stages, config, strict=True)):
            out[f"{i}:{st.name}:model"] = c.model
            out[f"{i}:{st.name}:samples"] = c.samples
        return out

    def _config(self, params: dict[str, Any]) -> Config:
        return Config(
            tuple(
                Choice(str(params[f"{i}:{st.name}:model"]), int(params[f"{i}:{st.name}:samples"]))
                for i, st in enumerate(self.space.stages)
            )
        )

    def _frozen(self, params: dict[str, Any], value: float, violation: float) -> Any:
        optuna = self.optuna
        kwargs: dict[str, Any] = {"params": params, "distributions": self._distributions, "value": value}
        if self._new_constraints:
            kwargs["constraints"] = {"budget": violation}
        else:  # Optuna 4: the constrained TPE reads this system attribute
            kwargs["system_attrs"] = {"constraints": (violation,)}
        return optuna.trial.create_trial(**kwargs)

    def _study(self, history: Sequence[Trial], salt: int) -> Any:
        optuna = self.optuna
        kwargs: dict[str, Any] = {
            "seed": (self.seed * 1_000_003 + len(history) * 101 + salt) % (2**31),
            "n_startup_trials": self.n_startup_trials,
            "multivariate": self.multivariate,
        }
        if not self._new_constraints:
            kwargs["constraints_func"] = lambda t: t.system_attrs.get("constraints", (0.0,))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sampler = optuna.samplers.TPESampler(**kwargs)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        done = [t for t in history if t.done and t.score is not None]
        worst = min((float(t.score or 0.0) for t in done), default=0.0)
        for t in done:
            if self.space.contains(t.config):
                study.add_trial(self._frozen(self._params(t.config), float(t.score or 0.0), 0.0))
        for params, violation in self._infeasible:
            study.add_trial(self._frozen(params, worst, violation))
        return study

    # -- proposing ------------------------------------------------------------------------------------
    def propose(self, history: Sequence[Trial], n: int = 1) -> list[Proposal]:
        """Up to ``n`` feasible, untried configurations suggested by TPE."""
        if n <= 0:
            return []
        seen = tried_keys(history)
        scores = {t.config.key: float(t.score or 0.0) for t in history if t.done}
        study = self._study(history, 0)
        worst = min(scores.values(), default=0.0)
        out: list[Proposal] = []
        retries = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while len(out) < n and retries < self.max_retries:
                trial = study.ask(self._distributions)
                self._suggested += 1
                config = self._config(trial.params)
                if not self.feasible(config):
                    violation = float(self.space.cost(config) - self.budget)
                    self._infeasible.append((dict(trial.params), violation))
                    self._n_infeasible += 1
                    self._tell(study, trial, worst, violation)
                    retries += 1
                elif config.key in seen:
                    self._duplicates += 1
                    self._tell(study, trial, scores.get(config.key, worst), 0.0)
                    retries += 1
                else:
                    seen.add(config.key)
                    out.append(Proposal(config, "TPE suggestion"))
                    # constant liar: later asks in this batch treat this point as mediocre
                    self._tell(study, trial, worst, 0.0)
        if len(out) < n:
            extra = self.random_unseen(history, n - len(out), seen)
            self._fallbacks += len(extra)
            out.extend(Proposal(c, "random fallback after unusable TPE suggestions") for c in extra)
        return out

    def _tell(self, study: Any, trial: Any, value: float, violation: float) -> None:
        if self._new_constraints:
            trial.set_constraint("budget", violation)
        else:
            trial.set_system_attr("constraints", (violation,))
        study.tell(trial, value)
