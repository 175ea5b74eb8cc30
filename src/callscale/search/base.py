"""The searcher interface, the options searchers declare, and the search loop.

A :class:`Searcher` is built for one space and budget and answers one question:
``propose(history, n) -> list[Proposal]`` — given the trials so far (from the archive), which
configurations to evaluate next. Searchers derive everything from ``history`` and their seed
(random generators are re-seeded from the number of trials seen), so a search resumed from its
archive continues as if it had never stopped. This is Optuna's ask/tell with the archive as the
only memory. Every searcher declares the keyword options it accepts (:class:`Option`), which is
what the registry (:mod:`callscale.search.searchers`) and the command line read.

:func:`run_search` drives a searcher against an
:class:`~callscale.search.environments.base.Environment`, recording every trial in an
:class:`~callscale.search.archive.Archive` before and after it runs.

Example:
    >>> from callscale.search.searchers.random import RandomSearcher
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> bench = AgentTTSBenchmark()
    >>> result = run_search(bench, RandomSearcher(bench.space, 900, seed=1), n_trials=5)
    >>> len(result.trials), all(bench.space.within(t.config, 900) for t in result.trials)
    (5, True)
"""

from __future__ import annotations

import random
import uuid
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from callscale.executors.local import Mapper
from callscale.search.archive import FAILED, FINISHED, Archive, Trial, best_trial
from callscale.search.budget import Number, as_fraction
from callscale.search.environments.base import Environment, TrialResult, evaluate_test
from callscale.search.space import Config, Space


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of an :class:`Option` that must be given."""


def parse_bool(text: str) -> bool:
    """``true/false``, ``yes/no``, ``on/off``, ``1/0`` (any case).

    Example:
        >>> parse_bool("Yes"), parse_bool("0")
        (True, False)
    """
    value = text.strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_optional_int(text: str) -> int | None:
    """An integer, or None for ``none``.

    Example:
        >>> parse_optional_int("3"), parse_optional_int("none")
        (3, None)
    """
    return None if text.strip().lower() in ("none", "") else int(text)


def parse_ints(text: str) -> tuple[int, ...]:
    """Comma-separated integers (empty text: none).

    Example:
        >>> parse_ints("1,3")
        (1, 3)
    """
    return tuple(int(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Option:
    """One keyword option a searcher accepts, as declared for the registry and the command line.

    ``default`` is what the searcher uses when the option is not given (:data:`REQUIRED`: it must
    be given); ``parse`` turns command-line text into a value — None for options only Python code
    can give (an LLM callable, curve estimates).

    Example:
        >>> opt = Option("n_startup_trials", 10, "random trials first", int)
        >>> opt.from_text("4"), opt.settable, Option("llm").required
        (4, True, True)
    """

    name: str
    default: Any = REQUIRED
    help: str = ""
    parse: Callable[[str], Any] | None = None

    @property
    def required(self) -> bool:
        """Whether the option has no default."""
        return self.default is REQUIRED

    @property
    def settable(self) -> bool:
        """Whether the option can be given as text (on the command line)."""
        return self.parse is not None

    def from_text(self, text: str) -> Any:
        """The value of ``text`` (ValueError naming the option when it does not parse or cannot be set)."""
        if self.parse is None:
            raise ValueError(f"option {self.name!r} is set from Python only, not from text")
        try:
            return self.parse(text)
        except ValueError as exc:
            raise ValueError(f"option {self.name!r}: cannot read {text!r} ({exc})") from None

    def describe(self) -> str:
        """``name=default`` (or ``name (required)``), with the help text.

        Example:
            >>> Option("seed", 0, "random seed", int).describe()
            'seed=0: random seed'
        """
        head = f"{self.name} (required)" if self.required else f"{self.name}={self.default!r}"
        return head + (f": {self.help}" if self.help else "") + ("" if self.settable else " [Python only]")


SEED = Option("seed", 0, "random seed (a search is reproducible and resumable)", int)
"""The seed every searcher takes."""


@dataclass(frozen=True)
class Proposal:
    """A configuration a searcher wants evaluated, with the reasoning (guideline) behind it.

    Example:
        >>> Proposal(Config.of(("3B", 1)), "start small").guideline
        'start small'
    """

    config: Config
    guideline: str = ""


class Searcher(ABC):
    """Base class of all searchers: a space, a budget, a seed, and :meth:`propose`.

    Subclasses implement :meth:`propose`; they must only return configurations within budget
    (:meth:`feasible` checks) and should avoid configurations already in ``history``. A subclass
    taking more keyword options than ``seed`` lists them in :attr:`options`.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> class Cheapest(Searcher):
        ...     name = "cheapest"
        ...     def propose(self, history, n=1):
        ...         return [Proposal(c) for c in self.random_unseen(history, n)]
        >>> Cheapest(agentts_space(), 900).feasible(Config.of(("72B", 1), ("3B", 15)))
        True
    """

    name: ClassVar[str] = "searcher"
    options: ClassVar[tuple[Option, ...]] = (SEED,)
    """The keyword options the constructor accepts beyond ``space`` and ``budget``."""

    def __init__(self, space: Space, budget: Number, *, seed: int = 0) -> None:
        self.space = space
        self.budget = as_fraction(budget)
        self.seed = int(seed)
        if space.min_cost() > self.budget:
            raise ValueError(f"no configuration fits budget {float(self.budget):g}")

    @abstractmethod
    def propose(self, history: Sequence[Trial], n: int = 1) -> list[Proposal]:
        """Up to ``n`` new configurations to evaluate, given the trials so far."""

    # -- helpers for subclasses ------------------------------------------------------------------
    def feasible(self, config: Config) -> bool:
        """Whether ``config`` belongs to the space and fits the budget."""
        return self.space.within(config, self.budget)

    def rng(self, history: Sequence[Trial], salt: int = 0) -> random.Random:
        """A generator seeded from the searcher seed and the length of ``history`` (resumable)."""
        return random.Random(zlib.crc32(f"{self.name}:{self.seed}:{len(history)}:{salt}".encode()))

    def random_unseen(self, history: Sequence[Trial], n: int, exclude: set[str] | None = None) -> list[Config]:
        """Up to ``n`` distinct uniformly drawn feasible configurations not in ``history``/``exclude``."""
        out: list[Config] = []
        if n <= 0:
            return out
        seen = tried_keys(history) | (exclude or set())
        rng = self.rng(history, salt=7)
        for _ in range(20):
            for c in self.space.sample(rng, self.budget, k=max(4 * n, 8)):
                if c.key not in seen:
                    seen.add(c.key)
                    out.append(c)
                    if len(out) == n:
                        return out
        for c in self.space.enumerate(self.budget):  # nearly exhausted space: scan
            if c.key not in seen:
                seen.add(c.key)
                out.append(c)
                if len(out) == n:
                    break
        return out


def tried_keys(history: Sequence[Trial]) -> set[str]:
    """Keys of every configuration in ``history`` (whatever the status).

    Example:
        >>> tried_keys([Trial("s", 1, Config.of(("3B", 1)), "finished", score=0.1)])
        {'[["3B",1]]'}
    """
    return {t.config.key for t in history}


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`run_search`: every trial of the search, the best one, its test score.

    Example:
        >>> from callscale.search.searchers.random import RandomSearcher
        >>> from callscale.search.environments.simulated import AgentTTSBenchmark
        >>> bench = AgentTTSBenchmark()
        >>> res = run_search(bench, RandomSearcher(bench.space, 900), n_trials=2, test=True)
        >>> len(res.scores), res.test.split
        (2, 'test')
    """

    search_id: str
    searcher: str
    budget: float
    trials: tuple[Trial, ...]
    best: Trial | None
    test: TrialResult | None = None
    skipped: int = 0

    @property
    def scores(self) -> list[float]:
        """Scores of finished trials in order."""
        return [t.score for t in self.trials if t.done and t.score is not None]


def run_search(
    env: Environment,
    searcher: Searcher,
    *,
    n_trials: int = 50,
    archive: Archive | None = None,
    search_id: str | None = None,
    batch_size: int = 1,
    test: bool = False,
    on_trial: Callable[[Trial], None] | None = None,
    stop: Callable[[Sequence[Trial]], bool] | None = None,
    mapper: Mapper | None = None,
) -> SearchResult:
    """Run ``searcher`` on ``env`` until the search holds ``n_trials`` finished or failed trials.

    ``batch_size`` trials are proposed at a time (before any of them is scored) and evaluated
    together: at once on an environment that runs them concurrently (``evaluate_many``, e.g. a live
    one — their calls share the engine, and under the Ray executor its workers), else through
    ``mapper`` (e.g. :func:`callscale.executors.ray.ray_map`: one Ray task per trial), else in turn.
    Trials are numbered and recorded in proposal order whatever finishes first, so a fixed seed gives
    the same search wherever the trials run.

    Every trial is recorded ``running`` before evaluation and ``finished``/``failed`` after.
    Given an archive that already holds trials of ``search_id``, the search resumes: trials left
    ``running`` by an interruption are evaluated again under their numbers, then new trials
    continue the numbering; configurations already finished are never evaluated again.
    Proposals outside the space or budget are skipped (counted in ``SearchResult.skipped``).
    An exception from ``evaluate`` marks the trial failed and the search goes on; interrupts
    (KeyboardInterrupt, SystemExit) leave it ``running`` and propagate.

    ``stop(trials)``, when given, is asked after every trial and ends the search early when true
    (e.g. a target score reached). With ``test=True`` and an environment that has a test split, the
    best configuration is also scored on it.

    Example:
        >>> from callscale.search.searchers.grid import GridSearcher
        >>> from callscale.search.environments.simulated import AgentTTSBenchmark
        >>> bench = AgentTTSBenchmark()
        >>> run_search(bench, GridSearcher(bench.space, 500), n_trials=3, search_id="g").search_id
        'g'
    """
    if searcher.space.fingerprint != env.space.fingerprint:
        raise ValueError("the searcher and the environment have different spaces")
    archive = archive if archive is not None else Archive(":memory:")
    search_id = search_id or uuid.uuid4().hex[:12]
    archive.open_search(
        search_id,
        space_fingerprint=env.space.fingerprint,
        budget=float(searcher.budget),
        searcher=searcher.name,
    )

    def evaluate(trials: list[Trial]) -> None:
        for done in _evaluate(env, archive, search_id, trials, mapper):
            if on_trial is not None:
                on_trial(done)

    pending = [archive.restart(search_id, trial.number) for trial in archive.pending(search_id)]
    for start in range(0, len(pending), max(1, batch_size)):
        evaluate(pending[start:start + max(1, batch_size)])
    skipped = _search_loop(searcher, archive, search_id, evaluate, n_trials=n_trials, batch_size=batch_size, stop=stop)
    return _conclude(env, searcher, archive, search_id, skipped, test=test)


@dataclass(frozen=True)
class _Attempt:
    """``env.evaluate`` with its exception returned, not raised (picklable, for a mapper's workers)."""

    env: Environment

    def __call__(self, config: Config) -> TrialResult | Exception:
        try:
            return self.env.evaluate(config)
        except Exception as exc:  # recorded by the caller, never silently dropped
            return exc


def _outcomes(env: Environment, configs: list[Config], mapper: Mapper | None) -> list[TrialResult | Exception]:
    """Each configuration's result or the exception its evaluation raised, in order."""
    many = getattr(env, "evaluate_many", None)
    if len(configs) > 1 and many is not None:
        return list(many(configs))
    if len(configs) > 1 and mapper is not None:
        return list(mapper(_Attempt(env), configs))
    return [_Attempt(env)(c) for c in configs]


def _evaluate(env: Environment, archive: Archive, search_id: str, trials: list[Trial],
              mapper: Mapper | None = None) -> list[Trial]:
    """Evaluate recorded trials together and record how each went, in order (an exception marks it failed)."""
    done = []
    for trial, outcome in zip(trials, _outcomes(env, [t.config for t in trials], mapper), strict=True):
        if isinstance(outcome, Exception):
            done.append(archive.fail(search_id, trial.number, f"{type(outcome).__name__}: {outcome}"))
        else:
            done.append(archive.finish(search_id, trial.number, outcome))
    return done


def _search_loop(
    searcher: Searcher,
    archive: Archive,
    search_id: str,
    evaluate: Callable[[list[Trial]], None],
    *,
    n_trials: int,
    batch_size: int,
    stop: Callable[[Sequence[Trial]], bool] | None,
) -> int:
    """Propose a batch and evaluate it, until ``n_trials`` are done, ``stop`` says so (asked after every
    batch) or the searcher runs dry; returns how many proposals were skipped."""
    skipped = 0
    idle_rounds = 0
    while True:
        history = archive.trials(search_id)
        done_count = sum(1 for t in history if t.status in (FINISHED, FAILED))
        if done_count >= n_trials or (stop is not None and history and stop(history)):
            break
        want = min(batch_size, n_trials - done_count)
        seen = tried_keys(history)
        batch: list[Trial] = []
        for proposal in searcher.propose(history, want):
            if len(batch) >= want:
                break
            if proposal.config.key in seen or not searcher.feasible(proposal.config):
                skipped += 1
                continue
            seen.add(proposal.config.key)
            batch.append(archive.begin(search_id, proposal.config, proposal.guideline))
        if batch:
            evaluate(batch)
        if not batch:
            idle_rounds += 1
            if idle_rounds >= 3:  # exhausted space or a searcher with nothing new to offer
                break
        else:
            idle_rounds = 0
    return skipped


def _conclude(env: Environment, searcher: Searcher, archive: Archive, search_id: str, skipped: int, *,
              test: bool) -> SearchResult:
    """The search's result: its trials, the best one, and (``test``) the best one's test score."""
    trials = tuple(archive.trials(search_id))
    best = best_trial(trials)
    test_result = None
    if test and best is not None:
        test_result = evaluate_test(env, best.config)
        if test_result is not None:
            best = archive.set_test_score(search_id, best.number, test_result.score)
            trials = tuple(archive.trials(search_id))
    return SearchResult(search_id, searcher.name, float(searcher.budget), trials, best, test_result, skipped)


# ---------------------------------------------------------------------------------------------
# Scoring a search against a known optimum (simulated benchmarks).


def incumbent_configs(trials: Sequence[Trial]) -> list[Config | None]:
    """After each trial, the configuration a searcher would report (best observed so far).

    Example:
        >>> ts = [Trial("s", 1, Config.of(("a", 1)), "finished", score=0.2, cost=1.0),
        ...       Trial("s", 2, Config.of(("a", 2)), "finished", score=0.1, cost=1.0)]
        >>> [c.key for c in incumbent_configs(ts)]
        ['[["a",1]]', '[["a",1]]']
    """
    out: list[Config | None] = []
    seen: list[Trial] = []
    for t in trials:
        seen.append(t)
        best = best_trial(seen)
        out.append(best.config if best is not None else None)
    return out


def regret_curve(trials: Sequence[Trial], true_score: Callable[[Config], float], optimum: float) -> list[float]:
    """Regret ``optimum − true_score(incumbent)`` after each trial (``optimum`` before any finish).

    Example:
        >>> ts = [Trial("s", 1, Config.of(("a", 1)), "finished", score=0.2, cost=1.0)]
        >>> regret_curve(ts, lambda c: 0.2, 0.5)
        [0.3]
    """
    return [optimum - true_score(c) if c is not None else optimum for c in incumbent_configs(trials)]


def regret_to_best_found(trials: Sequence[Trial]) -> list[float]:
    """Regret against the best score any trial found (when the true optimum is unknown, as on a live task):
    ``best found − best observed so far`` after each trial.

    Example:
        >>> ts = [Trial("s", 1, Config.of(("a", 1)), "finished", score=0.2),
        ...       Trial("s", 2, Config.of(("a", 2)), "finished", score=0.5)]
        >>> regret_to_best_found(ts)
        [0.3, 0.0]
    """
    top = max((t.score for t in trials if t.done and t.score is not None), default=0.0)
    running = 0.0
    curve = []
    for t in trials:
        running = max(running, t.score or 0.0)
        curve.append(top - running)
    return curve


def trials_to_find(trials: Sequence[Trial], optimal_keys: set[str] | str) -> int | None:
    """1-based index of the first trial whose configuration is optimal, or None if never.

    Example:
        >>> ts = [Trial("s", 1, Config.of(("a", 1)), "finished", score=0.2)]
        >>> trials_to_find(ts, '[["a",1]]'), trials_to_find(ts, {'[["b",1]]'})
        (1, None)
    """
    keys = {optimal_keys} if isinstance(optimal_keys, str) else optimal_keys
    for i, t in enumerate(trials, start=1):
        if t.config.key in keys:
            return i
    return None
