"""Measured cost growth, on plain data: fit how measured costs grow with a size and set them against the declared ones.

Everything here takes numbers and records (sizes, measured and declared measures per size), never
an engine, so it analyses live runs (:mod:`callscale.asymptotic.measurement`, the examples) and a
user's recorded rows alike.

* :func:`loglog_slope` — least-squares slope of log cost on log size with a t-interval.
* :func:`fit_classes` — which of the candidate classes (1, log n, n, n log n, n², n³, 2^n, n·2^n)
  fits best: each is fitted as c·f(n) + d (c > 0, relative least squares; d absorbs lower-order
  terms), ranked by the relative RMS error; the simpler class wins a near tie.
* :func:`check_growth` — all of that for one measure, next to the declared (symbolic) values and
  growth class: exact agreement, the declared curve's own slope over the same sizes, and whether
  the best class is the declared one.
* :class:`SizeRow` and :class:`Analysis` — the records of a study (one row per size), with
  :func:`growth_checks` fitting every decomposition and the gain from the rows; records
  serialize themselves with ``to_dict()``.

Example:
    >>> fit = loglog_slope([2, 4, 8, 16], [3 * n**2 for n in (2, 4, 8, 16)])
    >>> round(fit.slope, 6)
    2.0
    >>> fit_classes([2, 4, 8, 16, 32], [n * 2**n for n in (2, 4, 8, 16, 32)])[0].growth.label()
    'n·2^n'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callscale.asymptotic.symbolic import Growth
from callscale.costs import METRICS

CANDIDATES: tuple[Growth, ...] = (
    Growth(),
    Growth(log_power=1),
    Growth(power=1),
    Growth(power=1, log_power=1),
    Growth(power=2),
    Growth(power=3),
    Growth(base=2),
    Growth(base=2, power=1),
)
"""Candidate growth classes, simplest first: 1, log n, n, n log n, n², n³, 2^n, n·2^n."""


# -- fitting -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit log y = intercept + slope·log n, with a ``confidence`` t-interval on the slope."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    r2: float
    points: int
    confidence: float = 0.95

    def contains(self, value: float, tolerance: float = 1e-9) -> bool:
        """Whether ``value`` lies in the interval widened by ``tolerance`` (default: rounding only)."""
        return self.ci_low - tolerance <= value <= self.ci_high + tolerance

    def to_dict(self) -> dict[str, Any]:
        return {"slope": self.slope, "ci": [self.ci_low, self.ci_high], "r2": self.r2, "points": self.points,
                "confidence": self.confidence}


def loglog_slope(sizes: Sequence[float], values: Sequence[float], confidence: float = 0.95, *,
                 log_x: bool = True) -> SlopeFit:
    """Slope of ln(values) on ln(sizes) with a Student-t confidence interval (infinite with two points).

    With ``log_x=False`` it is the slope of log2(values) on the sizes themselves: the rate of an
    exponential in doublings per unit of size (1 for 2^n).

    Example:
        >>> f = loglog_slope([1, 2, 3, 4], [2**k for k in (1, 2, 3, 4)], log_x=False)
        >>> round(f.slope, 6)
        1.0
    """
    import numpy as np
    from scipy import stats

    x = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError("need at least two (size, value) pairs")
    if np.any(y <= 0) or (log_x and np.any(x <= 0)):
        raise ValueError("sizes and values must be positive for a log-log fit")
    lx = np.log(x) if log_x else x
    ly = np.log(y) if log_x else np.log2(y)
    if np.ptp(lx) == 0:
        raise ValueError("need at least two different sizes")
    fit = stats.linregress(lx, ly)
    n = len(x)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 2) * fit.stderr) if n > 2 else math.inf
    return SlopeFit(float(fit.slope), float(fit.intercept), float(fit.slope) - half, float(fit.slope) + half,
                    float(fit.rvalue**2), n, confidence)


@dataclass(frozen=True)
class ClassFit:
    """One candidate class fitted as ``scale·f(n) + offset``; ``rms`` is the relative RMS error."""

    growth: Growth
    scale: float
    offset: float
    rms: float

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.growth.label(), "scale": self.scale, "offset": self.offset, "rms": self.rms}


def fit_classes(sizes: Sequence[float], values: Sequence[float],
                candidates: Sequence[Growth] = CANDIDATES, tie: float = 0.02) -> tuple[ClassFit, ...]:
    """Every candidate fitted to the points, best first (a simpler class wins within ``tie`` relative RMS).

    Example:
        >>> ns = [4, 8, 16, 32, 64]
        >>> fit_classes(ns, [n * math.log(n) + 5 for n in ns])[0].growth.label()
        'n log n'
    """
    import numpy as np
    from scipy.optimize import lsq_linear

    x = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    if np.any(y <= 0):
        raise ValueError("values must be positive")
    fits: list[tuple[int, ClassFit]] = []
    for order, g in enumerate(candidates):
        with np.errstate(all="ignore"):
            logf = g.log_value(x)
        if not np.all(np.isfinite(logf)):
            continue
        f = np.exp(logf - logf.max())  # scaled to at most 1, for conditioning
        if np.ptp(f) == 0 and g.key() != Growth().key():
            continue
        design = np.column_stack([f / y, 1.0 / y])  # relative residuals: (c·f + d)/y − 1
        coef = lsq_linear(design, np.ones_like(y), bounds=([0.0, -np.inf], [np.inf, np.inf])).x
        if coef[0] <= 0:
            continue
        residual = design @ coef - 1.0
        rms = float(np.sqrt(np.mean(residual**2)))
        scale = float(coef[0] * math.exp(-float(logf.max())))
        fits.append((order, ClassFit(g, scale, float(coef[1]), rms)))
    if not fits:
        return ()
    best = min(f.rms for _, f in fits)
    first = min((o, i) for i, (o, f) in enumerate(fits) if f.rms <= best + tie)[1]
    ranked = sorted((f for i, (_, f) in enumerate(fits) if i != first), key=lambda f: f.rms)
    return (fits[first][1], *ranked)


@dataclass(frozen=True)
class GrowthCheck:
    """Measured growth of one measure next to the declared one.

    ``slope`` is the log-log fit of the measured values (for exponential growth: log2 value on size,
    doublings per unit); ``declared_slope`` the same fit of the declared values over the same sizes;
    ``best`` the best-fitting class among :data:`CANDIDATES` and the declared one;
    ``declared_growth`` the symbolic class; ``max_relative_error`` the largest |measured − declared| / declared.
    """

    metric: str
    sizes: tuple[float, ...]
    measured: tuple[float, ...]
    declared: tuple[float, ...] | None
    slope: SlopeFit
    declared_slope: float | None
    classes: tuple[ClassFit, ...]
    declared_growth: Growth | None
    log_x: bool = True

    @property
    def best(self) -> Growth | None:
        return self.classes[0].growth if self.classes else None

    @property
    def exact(self) -> bool:
        """Whether measured and declared agree at every size (to 1e-9 relative)."""
        return self.max_relative_error is not None and self.max_relative_error <= 1e-9

    @property
    def max_relative_error(self) -> float | None:
        if self.declared is None:
            return None
        return max(abs(m - d) / abs(d) if d else abs(m) for m, d in zip(self.measured, self.declared, strict=True))

    @property
    def class_agrees(self) -> bool | None:
        """Whether the best-fitting class is the declared growth class (None when either is unknown)."""
        if self.best is None or self.declared_growth is None:
            return None
        return self.best.same(self.declared_growth)

    @property
    def slope_agrees(self) -> bool | None:
        """Whether the declared curve's slope lies in the measured slope's interval (±0.02)."""
        if self.declared_slope is None:
            return None
        return self.slope.contains(self.declared_slope, 0.02)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "sizes": list(self.sizes),
            "measured": list(self.measured),
            "declared": list(self.declared) if self.declared is not None else None,
            "fit": "log-log" if self.log_x else "log2-linear",
            "slope": self.slope.to_dict(),
            "declared_slope": self.declared_slope,
            "best_class": self.best.label() if self.best else None,
            "classes": [c.to_dict() for c in self.classes],
            "declared_growth": self.declared_growth.label() if self.declared_growth else None,
            "class_agrees": self.class_agrees,
            "slope_agrees": self.slope_agrees,
            "exact": self.exact,
            "max_relative_error": self.max_relative_error,
        }


def check_growth(metric: str, sizes: Sequence[float], measured: Sequence[float],
                 declared: Sequence[float] | None = None, declared_growth: Growth | None = None,
                 confidence: float = 0.95) -> GrowthCheck:
    """Fit the measured growth of ``metric`` and set it against the declared values and class.

    Exponential declared growth is fitted log2-linearly (log2 value on size), polynomial growth log-log.

    Example:
        >>> c = check_growth("calls", [2, 4, 8], [4, 16, 64], [4, 16, 64], Growth(power=2))
        >>> c.exact, round(c.slope.slope, 6), c.class_agrees
        (True, 2.0, True)
    """
    log_x = not (declared_growth is not None and declared_growth.exponential)
    slope = loglog_slope(sizes, measured, confidence, log_x=log_x)
    declared_slope = None
    if declared is not None and all(d > 0 for d in declared):
        declared_slope = loglog_slope(sizes, declared, confidence, log_x=log_x).slope
    candidates = CANDIDATES
    if declared_growth is not None and not any(declared_growth.same(c) for c in CANDIDATES):
        candidates = (*CANDIDATES, declared_growth)
    classes = fit_classes(sizes, measured, candidates) if len(sizes) >= 3 else ()
    return GrowthCheck(metric, tuple(float(s) for s in sizes), tuple(float(m) for m in measured),
                       tuple(float(d) for d in declared) if declared is not None else None,
                       slope, declared_slope, classes, declared_growth, log_x)


# -- analyses ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SizeRow:
    """Every decomposition at one size: measured and declared measures, and what each run reported.

    ``declared`` may lack a measure the declaration cannot give exactly (e.g. tokens of a network file).
    """

    size: int
    sizes: Mapping[str, Any]
    measured: Mapping[str, Mapping[str, float]]
    declared: Mapping[str, Mapping[str, float]]
    detail: Mapping[str, Mapping[str, Any]]

    def gain(self, metric: str, baseline: str, improved: str, which: str = "measured") -> float:
        """Cost of ``baseline`` over ``improved`` in ``metric`` (``which``: measured or declared)."""
        table = self.measured if which == "measured" else self.declared
        return table[baseline][metric] / table[improved][metric]

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "sizes": dict(self.sizes), "measured": {k: dict(v) for k, v in self.measured.items()},
                "declared": {k: dict(v) for k, v in self.declared.items()},
                "detail": {k: dict(v) for k, v in self.detail.items()}}


def growth_checks(rows: Sequence[SizeRow], names: Sequence[str], metric: str,
                  declared_growth: Mapping[str, Growth | None] | None = None) -> dict[str, GrowthCheck]:
    """A :class:`GrowthCheck` of ``metric`` per decomposition over the rows and, with two
    decompositions, one for ``"gain"`` (the first over the second).

    Declared values take part when every row declares ``metric``; ``declared_growth`` gives the
    symbolic class per decomposition and for ``"gain"`` (missing: unknown).

    Example:
        >>> rows = [SizeRow(k, {"k": k}, {"a": {"calls": 2 * k}, "b": {"calls": 2}},
        ...                 {"a": {"calls": 2 * k}, "b": {"calls": 2}}, {}) for k in (2, 4, 8)]
        >>> checks = growth_checks(rows, ["a", "b"], "calls")
        >>> list(checks), round(checks["gain"].slope.slope, 6), checks["gain"].exact
        (['a', 'b', 'gain'], 1.0, True)
    """
    growths = declared_growth or {}
    xs = [float(r.size) for r in rows]
    declares = all(metric in r.declared[d] for r in rows for d in names)
    checks = {d: check_growth(metric, xs, [r.measured[d][metric] for r in rows],
                              [r.declared[d][metric] for r in rows] if declares else None, growths.get(d))
              for d in names}
    if len(names) == 2:
        b, i = names
        checks["gain"] = check_growth(metric, xs, [r.gain(metric, b, i) for r in rows],
                                      [r.gain(metric, b, i, "declared") for r in rows] if declares else None,
                                      growths.get("gain"))
    return checks


@dataclass(frozen=True)
class Analysis:
    """Decompositions measured over sizes of ``vary``: rows, growth checks and the symbolic side.

    ``checks`` has one :class:`GrowthCheck` per decomposition and, with two of them, one for
    ``"gain"`` (the first over the second). ``exact`` says whether every declared measure equals
    the measured one at every size; ``symbolic`` holds expressions and Θ terms (None without sympy).
    """

    example: str
    title: str
    paper: str
    vary: str
    fixed: Mapping[str, Any]
    metric: str
    backend: str
    seeds: int
    decompositions: tuple[str, ...]
    rows: tuple[SizeRow, ...]
    checks: Mapping[str, GrowthCheck]
    symbolic: Mapping[str, Any] | None
    notes: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return self.decompositions

    def mismatches(self) -> list[tuple[int, str, str, float, float]]:
        """(size, decomposition, measure, measured, declared) wherever they differ."""
        out = []
        for row in self.rows:
            for d, declared in row.declared.items():
                for m, want in declared.items():
                    got = row.measured[d].get(m)
                    if m in METRICS and got is not None and abs(got - want) > 1e-9 * max(1.0, abs(want)):
                        out.append((row.size, d, m, got, want))
        return out

    @property
    def exact(self) -> bool:
        return not self.mismatches()

    def to_dict(self) -> dict[str, Any]:
        return {
            "example": self.example,
            "title": self.title,
            "paper": self.paper,
            "vary": self.vary,
            "fixed": dict(self.fixed),
            "metric": self.metric,
            "backend": self.backend,
            "seeds": self.seeds,
            "decompositions": list(self.decompositions),
            "exact": self.exact,
            "rows": [r.to_dict() for r in self.rows],
            "checks": {k: c.to_dict() for k, c in self.checks.items()},
            "symbolic": self.symbolic,
            "notes": self.notes,
        }


__all__ = [
    "CANDIDATES",
    "Analysis",
    "ClassFit",
    "GrowthCheck",
    "SizeRow",
    "SlopeFit",
    "check_growth",
    "fit_classes",
    "growth_checks",
    "loglog_slope",
]
