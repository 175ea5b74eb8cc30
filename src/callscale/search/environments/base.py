"""What a search evaluates configurations on.

An :class:`Environment` exposes its :class:`~callscale.search.space.Space` (hence ``stages``) and a
**synchronous** ``evaluate(config) -> TrialResult`` that runs the configuration on the training
split. Environments that can also score a held-out split implement ``evaluate_test``
(:class:`EnvironmentWithTestSplit`).

Why synchronous: a search proposes, evaluates and records one trial (or one small batch) at a
time, and the archive must be written between trials so an interrupted search resumes exactly.
A live environment built on callscale's asyncio engine implements :class:`AsyncEnvironment`
(``async def evaluate``) and is wrapped with :class:`SyncEnvironment`, which runs its coroutines
on one private event loop in a background thread — so loop-bound resources (HTTP clients,
semaphores, the engine's store) live on a single loop for the whole search.

An environment may also report per-stage quality (``TrialResult.stage_scores``, e.g. retrieval
recall then answer accuracy) and per-stage curves measured from its sample pools
(:class:`CurveEstimate`); the model-based allocator uses both when present.

Example:
    >>> from callscale.records import ModelCard
    >>> from callscale.search.space import Config, Space, Stage
    >>> space = Space((Stage("qa", (ModelCard("3B", 3_000_000_000),), range(1, 5), 256, 64),))
    >>> env = FunctionEnvironment(space, lambda c: c[0].samples / 10)
    >>> env.evaluate(Config.of(("3B", 2))).score
    0.2
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar, runtime_checkable

from callscale.search.space import Config, Space, Stage

T = TypeVar("T")


@dataclass(frozen=True)
class TrialResult:
    """Outcome of evaluating one configuration.

    ``score`` is the end-to-end quality (higher is better); ``cost`` the system cost in the space's
    budget unit (what the configuration costs fresh); ``spent_cost`` what was actually spent now
    (less when sample pools were reused); ``stage_scores`` optional per-stage quality in stage order.

    Example:
        >>> TrialResult(score=0.5, cost=831.0, stage_scores=(0.6, 0.5)).stage_scores
        (0.6, 0.5)
    """

    score: float
    cost: float
    stage_scores: tuple[float, ...] = ()
    split: str = "train"
    n_items: int | None = None
    spent_cost: float | None = None
    info: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage_scores", tuple(float(s) for s in self.stage_scores))
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (a read-only mapping is not): trials may run in other processes
        return (TrialResult, (self.score, self.cost, self.stage_scores, self.split, self.n_items, self.spent_cost,
                              dict(self.info)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "score": self.score,
            "cost": self.cost,
            "stage_scores": list(self.stage_scores),
            "split": self.split,
            "n_items": self.n_items,
            "spent_cost": self.spent_cost,
            "info": dict(self.info),
        }


@dataclass(frozen=True)
class CurveEstimate:
    """Measured quality of one stage and model at several sample counts.

    ``upstream`` is the quality of the input the stage was measured on (e.g. the retrieval recall
    the QA curve was measured with); None for the first stage. A live environment computes these
    from its sample pools: one pool of ``M`` samples serves every ``S ≤ M``.

    Example:
        >>> CurveEstimate(stage=0, model="72B", samples=(1, 2), quality=(0.6, 0.64)).points
        ((1, 0.6), (2, 0.64))
    """

    stage: int
    model: str
    samples: tuple[int, ...]
    quality: tuple[float, ...]
    upstream: float | None = None
    n_items: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple(int(s) for s in self.samples))
        object.__setattr__(self, "quality", tuple(float(q) for q in self.quality))
        if len(self.samples) != len(self.quality):
            raise ValueError("samples and quality must have the same length")

    @property
    def points(self) -> tuple[tuple[int, float], ...]:
        """``(samples, quality)`` pairs."""
        return tuple(zip(self.samples, self.quality, strict=True))


@runtime_checkable
class Environment(Protocol):
    """Evaluates configurations of :attr:`space` on the training split (synchronously).

    Example:
        >>> from callscale.search.environments.simulated import AgentTTSBenchmark
        >>> isinstance(AgentTTSBenchmark(), Environment)
        True
    """

    @property
    def space(self) -> Space: ...

    @property
    def stages(self) -> tuple[Stage, ...]: ...

    def evaluate(self, config: Config) -> TrialResult: ...


@runtime_checkable
class EnvironmentWithTestSplit(Environment, Protocol):
    """An environment that can also score a configuration on a held-out test split.

    Example:
        >>> from callscale.search.environments.simulated import AgentTTSBenchmark
        >>> isinstance(AgentTTSBenchmark(), EnvironmentWithTestSplit)
        True
    """

    def evaluate_test(self, config: Config) -> TrialResult: ...


class StagesOfSpace:
    """Base for environments: the protocol's ``stages`` are those of ``space``, which a subclass provides."""

    @property
    def space(self) -> Space:
        raise NotImplementedError

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages of :attr:`space`."""
        return self.space.stages


@runtime_checkable
class AsyncEnvironment(Protocol):
    """The asynchronous form a live, engine-backed environment implements; wrap it with
    :class:`SyncEnvironment` to search over it. ``evaluate_test`` is optional.

    Example:
        >>> class Live:
        ...     space = None
        ...     async def evaluate(self, config):
        ...         ...
        >>> isinstance(Live(), AsyncEnvironment)
        True
    """

    @property
    def space(self) -> Space: ...

    async def evaluate(self, config: Config) -> TrialResult: ...


def evaluate_test(env: Environment, config: Config) -> TrialResult | None:
    """``env.evaluate_test(config)`` when the environment has a test split, else None.

    Example:
        >>> from callscale.records import ModelCard
        >>> space = Space((Stage("qa", (ModelCard("3B", 3),), (1,), 8, 8),))
        >>> evaluate_test(FunctionEnvironment(space, lambda c: 1.0), Config.of(("3B", 1))).split
        'test'
    """
    fn = getattr(env, "evaluate_test", None)
    return fn(config) if callable(fn) else None


class SyncEnvironment(StagesOfSpace):
    """Runs an :class:`AsyncEnvironment` behind the synchronous :class:`Environment` protocol.

    One event loop runs in a daemon thread for the adapter's lifetime; every ``evaluate`` call
    submits the coroutine to it and blocks for the result. Call :meth:`close` (or use ``with``)
    to stop the loop.

    Example:
        >>> from callscale.records import ModelCard
        >>> class Live:
        ...     space = Space((Stage("qa", (ModelCard("3B", 3),), (1, 2), 8, 8),))
        ...     async def evaluate(self, config):
        ...         return TrialResult(score=config[0].samples / 2, cost=1.0)
        >>> with SyncEnvironment(Live()) as env:
        ...     env.evaluate(Config.of(("3B", 2))).score
        1.0
    """

    def __init__(self, inner: AsyncEnvironment, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """``loop``: an event loop already running in another thread to share (not stopped by :meth:`close`)."""
        self.inner = inner
        self._owned = loop is None
        self._loop = loop or asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        if self._owned:
            self._thread = threading.Thread(target=self._loop.run_forever, name="callscale-search-env", daemon=True)
            self._thread.start()

    @property
    def space(self) -> Space:
        """The wrapped environment's space."""
        return self.inner.space

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the adapter's loop and wait for its result."""
        if self._loop.is_closed():
            raise RuntimeError("SyncEnvironment is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def evaluate(self, config: Config) -> TrialResult:
        """Evaluate on the training split."""
        return self.run(self.inner.evaluate(config))

    def evaluate_many(self, configs: Sequence[Config]) -> list[TrialResult | Exception]:
        """Evaluate several configurations at once on the loop (their calls run concurrently); each
        result, or the exception its evaluation raised, in order. An interrupt propagates.

        Example:
            >>> from callscale.records import ModelCard
            >>> class Live:
            ...     space = Space((Stage("qa", (ModelCard("3B", 3),), (1, 2), 8, 8),))
            ...     async def evaluate(self, config):
            ...         return TrialResult(score=config[0].samples / 2, cost=1.0)
            >>> with SyncEnvironment(Live()) as env:
            ...     [r.score for r in env.evaluate_many([Config.of(("3B", 1)), Config.of(("3B", 2))])]
            [0.5, 1.0]
        """
        async def together() -> list[Any]:
            return list(await asyncio.gather(*(self.inner.evaluate(c) for c in configs), return_exceptions=True))

        out: list[TrialResult | Exception] = []
        for outcome in self.run(together()):
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # an interrupt or a cancellation is not a failed trial
            out.append(outcome)
        return out

    def evaluate_test(self, config: Config) -> TrialResult:
        """Evaluate on the test split (AttributeError when the wrapped environment has none)."""
        fn = getattr(self.inner, "evaluate_test", None)
        if fn is None:
            raise AttributeError("the wrapped environment has no evaluate_test")
        result: TrialResult = self.run(fn(config))
        return result

    def close(self) -> None:
        """Stop the loop and join its thread (idempotent; a shared loop is left running)."""
        if not self._owned or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join()
        self._loop.close()

    def __enter__(self) -> SyncEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FunctionEnvironment(StagesOfSpace):
    """An environment from a plain scoring function (a lookup table, a formula, a recorded run).

    ``cost`` defaults to the space's exact cost as a float.

    Example:
        >>> from callscale.records import ModelCard
        >>> space = Space((Stage("qa", (ModelCard("3B", 3_000_000_000),), (1, 2), 256, 64),))
        >>> FunctionEnvironment(space, lambda c: 0.1).evaluate(Config.of(("3B", 1))).cost
        3.0
    """

    def __init__(
        self,
        space: Space,
        score: Callable[[Config], float],
        *,
        test_score: Callable[[Config], float] | None = None,
    ) -> None:
        self._space = space
        self._score = score
        self._test_score = test_score
        self.calls = 0

    @property
    def space(self) -> Space:
        """The space being searched."""
        return self._space

    def evaluate(self, config: Config) -> TrialResult:
        """Score ``config`` with the scoring function."""
        self.calls += 1
        return TrialResult(score=float(self._score(config)), cost=float(self._space.cost(config)))

    def evaluate_test(self, config: Config) -> TrialResult:
        """Score on the test function (the training function when none was given)."""
        fn = self._test_score or self._score
        return TrialResult(score=float(fn(config)), cost=float(self._space.cost(config)), split="test")
