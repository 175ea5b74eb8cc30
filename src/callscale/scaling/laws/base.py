"""The interface every scaling law follows (scikit-learn style): options in the constructor,
``fit(pools) → self``, then ``predict(ks)``, ``band(ks, level)`` and ``best_k()``.

A law predicts either the accuracy of majority vote over K calls (``target = "vote"``) or the share of
items some call answers correctly (``target = "coverage"``, pass@k). It is fitted on a window of each
item's samples: ``fit_on`` samples from ``offset`` (default: all of them).

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> class Flat(ScalingLaw):
    ...     label = "flat"
    ...     def _fit(self, counts): self.level_ = sum(c.correct / c.n for c in counts) / len(counts)
    ...     def predict(self, ks): return np.full(np.size(ks), self.level_)
    >>> law = Flat(fit_on=2).fit([PoolItem("a", "4", ("4", "5", "5")), PoolItem("b", "1", ("1", "1", "1"))])
    >>> law.predict([1, 9]).tolist(), law.best_k([1, 9])
    ([0.75, 0.75], BestK(k=1, lo=None, hi=None, level=None))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from callscale.scaling.estimate import ItemCounts, PoolItem, item_counts
from callscale.scaling.theory import DIRECT_MAX

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["DEFAULT_HORIZON", "BestK", "CannotFit", "ScalingLaw", "prediction_ks", "window_counts"]

DEFAULT_HORIZON = 1000
"""The largest K :meth:`ScalingLaw.best_k` considers when not given the K to choose among."""


def prediction_ks(horizon: int, dense: int = DIRECT_MAX) -> IntArray:
    """Every K up to ``dense`` (150: where the vote formula is exact), then ~40 log-spaced odd K up to ``horizon``.

    >>> prediction_ks(1000)[[0, 149, 150, -1]].tolist()
    [1, 150, 151, 1000]
    """
    full = np.arange(1, min(horizon, dense) + 1)
    if horizon <= dense:
        return full
    sparse = np.unique(np.geomspace(dense + 1, horizon, 40).astype(np.int64) | 1)
    sparse = sparse[(sparse > dense) & (sparse < horizon)]
    return np.concatenate([full, sparse, [horizon]])


class CannotFit(ValueError):
    """These pools do not hold what the law needs (e.g. a coverage law without two partial coverages)."""


@dataclass(frozen=True)
class BestK:
    """The K a law predicts best, with its interval at ``level`` where the law has one.

    >>> BestK(9, 3, 31, 0.9).interval
    (3, 31)
    """

    k: int
    lo: int | None = None
    hi: int | None = None
    level: float | None = None

    @property
    def interval(self) -> tuple[int, int] | None:
        """(lo, hi), or ``None`` for a law without one."""
        return None if self.lo is None or self.hi is None else (self.lo, self.hi)


def window_counts(pools: Sequence[PoolItem], fit_on: int | None = None, offset: int = 0) -> list[ItemCounts]:
    """Each item's answer counts in its samples ``offset … offset + fit_on − 1`` (``None``: up to the
    smallest pool's size).

    >>> window_counts([PoolItem("a", "4", ("4", "5", "4", "6"))], 2, offset=1)
    [ItemCounts(correct=1, wrong=(1,), abstain=0)]
    """
    if not pools:
        raise ValueError("no items in the pool")
    m = min(len(p.answers) for p in pools)
    n = m - offset if fit_on is None else fit_on
    if offset < 0 or n < 1 or offset + n > m:
        raise ValueError(f"samples {offset}…{offset + n - 1} are not in pools of {m} samples per item")
    return [item_counts(p.answers[offset : offset + n], p.gold) for p in pools]


class ScalingLaw(ABC):
    """A law of accuracy against the number of calls K; subclasses set the class attributes and
    implement ``_fit`` and ``predict`` (and ``band``/``best_k`` when they have intervals).

    ``label`` names the law in reports, ``short`` in table columns; ``has_band`` says whether
    :meth:`band` is more than the curve itself.
    """

    label: ClassVar[str] = ""
    short: ClassVar[str] = ""
    target: ClassVar[str] = "vote"
    has_band: ClassVar[bool] = False
    BAND_SCALE: ClassVar[float] = 1.0
    """The calibration factor on the band's half-widths (measured by ``bench/scaling_prediction.py``)."""

    def __init__(self, *, fit_on: int | None = None, offset: int = 0, seed: int = 0, n_boot: int = 0,
                 level: float = 0.9, band_scale: float | None = None) -> None:
        self.fit_on = fit_on
        self.offset = offset
        self.seed = seed
        self.n_boot = n_boot
        self.level = level
        self.band_scale = band_scale

    def options(self) -> dict[str, Any]:
        """The constructor's options (for :meth:`clone`)."""
        return {"fit_on": self.fit_on, "offset": self.offset, "seed": self.seed, "n_boot": self.n_boot,
                "level": self.level, "band_scale": self.band_scale}

    @property
    def scale(self) -> float:
        """The factor the band's half-widths are multiplied by: ``band_scale``, else the class's
        calibrated ``BAND_SCALE`` (1.0: the raw band)."""
        return type(self).BAND_SCALE if self.band_scale is None else float(self.band_scale)

    def widen(self, mean: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """The raw band (lo, hi) around ``mean`` with each half-width times :attr:`scale`, within [0, 1].

        >>> class Half(ScalingLaw):
        ...     _fit = predict = None
        >>> [v.round(6).tolist() for v in Half(band_scale=2.0).widen([0.5], [0.4], [0.55])]
        [[0.3], [0.6]]
        """
        m, low, high = (np.asarray(v, dtype=float) for v in (mean, lo, hi))
        c = self.scale
        return (np.clip(m - c * np.maximum(m - low, 0.0), 0.0, 1.0),
                np.clip(m + c * np.maximum(high - m, 0.0), 0.0, 1.0))

    def clone(self, **changes: Any) -> Self:
        """An unfitted law with the same options but ``changes``."""
        return type(self)(**{**self.options(), **changes})

    def fitted_options(self) -> dict[str, Any]:
        """Options that pin what this fit chose, to refit on other samples of the same items alike
        (e.g. a smoothing chosen by cross-validation); none by default."""
        return {}

    def params(self) -> dict[str, Any]:
        """The fitted parameters worth reporting (plain numbers and lists); none by default."""
        return {}

    def fit(self, pools: Sequence[PoolItem]) -> Self:
        """Fit on the window of samples the options choose from every item's pool; returns the law."""
        self.counts_ = window_counts(pools, self.fit_on, self.offset)
        self._fit(self.counts_)
        return self

    @abstractmethod
    def _fit(self, counts: Sequence[ItemCounts]) -> None:
        """Fit on the items' answer counts."""

    @abstractmethod
    def predict(self, ks: ArrayLike) -> FloatArray:
        """The predicted accuracy (or coverage) at each K."""

    def band(self, ks: ArrayLike, level: float | None = None) -> tuple[FloatArray, FloatArray]:
        """Pointwise (lower, upper) band at ``level`` (default: the law's); the curve itself for a law
        without one."""
        mean = self.predict(ks)
        return mean, mean.copy()

    def best_k(self, ks: ArrayLike | None = None, *, level: float | None = None,
               among: ArrayLike | None = None) -> BestK:
        """The K with the highest prediction among ``among`` (default: every K of ``ks``, itself by
        default :func:`prediction_ks` up to ``DEFAULT_HORIZON``); no interval by default."""
        k = prediction_ks(DEFAULT_HORIZON) if ks is None else np.atleast_1d(np.asarray(ks)).astype(np.int64)
        curve = self.predict(k)
        idx = np.flatnonzero(np.isin(k, k if among is None else np.asarray(among)))
        if idx.size == 0:
            raise ValueError("the candidate K must be among ks")
        return BestK(int(k[idx[int(np.argmax(curve[idx]))]]))
