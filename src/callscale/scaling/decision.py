"""The decision a user came for — how many calls to make, what they will get — and whether the
samples settle it, from a predicted curve and its bootstrap replicates.

The decision is *settled* when the best K's interval over the replicates spans at most a factor of
:data:`SETTLED_RATIO` (e.g. 5–15), or when the smallest K whose predicted accuracy is within ``tol``
of the best is within ``tol`` of the best in at least :data:`SETTLED_PROBABILITY` of the replicates
(a flat top: where exactly the best K lies no longer matters); then the advice is that K, with its
accuracy interval. Otherwise the advice says so and gives what
*is* settled: the accuracy interval at the K values a user would consider, the probability that
more calls lose accuracy (the replicate's curve falls by more than ``tol`` after its peak), and the
smallest K within ``tol`` of the best with the probability that it is. A curve still rising at the end of
the predicted range (its last K is the best, or in most replicates doubling the calls up to the end
still gains more than ``tol``) is never called settled: the advice is that more calls keep helping.

Example:
    >>> import numpy as np
    >>> from callscale.scaling.predict import CurveDraws
    >>> ks = np.array([1, 3, 5, 9, 15])
    >>> mean = np.array([0.60, 0.66, 0.67, 0.67, 0.67])
    >>> reps = np.array([mean + d for d in (-0.01, 0.0, 0.01)])
    >>> d = decide(CurveDraws(ks, mean, reps), samples=16)
    >>> d.settled, d.k, d.sentence
    (True, 5, 'Use 5 calls per item: 67.0 % accurate (66–68 %); more calls do not help on this task.')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from callscale.scaling.predict import CurveDraws

SETTLED_RATIO = 3.0
SETTLED_PROBABILITY = 0.8
WHAT_IF_K = (1, 5, 10, 30, 100)
TOLERANCE = 0.005


@dataclass(frozen=True)
class WhatIf:
    """Predicted accuracy at ``k`` calls per item, with its interval."""

    k: int
    accuracy: float
    lo: float
    hi: float


@dataclass(frozen=True)
class Decision:
    """What to do, and how sure the samples make it (see module docstring)."""

    settled: bool
    k: int | None
    accuracy: float | None
    lo: float | None
    hi: float | None
    k_star: int
    k_star_interval: tuple[int, int]
    k_within: int
    p_within: float
    p_falls: float
    samples: int
    level: float
    tol: float
    what_if: tuple[WhatIf, ...] = field(default_factory=tuple)
    rising: bool = False
    sentence: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        out = asdict(self)
        out["k_star_interval"] = list(self.k_star_interval)
        out["what_if"] = [asdict(w) for w in self.what_if]
        return out


def _nearest(ks: np.ndarray, k: int) -> int:
    """Index of the largest grid K not above ``k`` (the first when ``k`` is below the grid)."""
    below = np.nonzero(ks <= k)[0]
    return int(below[-1]) if below.size else 0


def decide(draws: CurveDraws, samples: int, *, level: float = 0.9, tol: float = TOLERANCE,
           what_if: Sequence[int] = WHAT_IF_K) -> Decision:
    """The decision for the curve ``draws`` (its mean and bootstrap replicates at ``draws.k``), made
    from ``samples`` samples per item."""
    ks, mean, reps = np.asarray(draws.k), np.asarray(draws.mean, dtype=float), np.asarray(draws.replicates, dtype=float)
    if reps.size == 0:
        reps = mean[None, :]
    summary = draws.summary(level)
    k_lo, k_hi = max(1, summary.k_star_lo), max(1, summary.k_star_hi)
    within = np.nonzero(mean >= mean.max() - tol)[0]
    w = int(within[0]) if within.size else int(np.argmax(mean))
    p_within = float(np.mean(reps[:, w] >= reps.max(axis=1) - tol))
    settled = math.log(k_hi / k_lo) <= math.log(SETTLED_RATIO) or p_within >= SETTLED_PROBABILITY
    # Still rising at the end of the range — the last K is the best, or in most replicates doubling the
    # calls up to it still gains more than ``tol`` — then more calls may help, whichever K is within
    # ``tol`` of the best.
    half = _nearest(ks, int(ks[-1]) // 2)
    p_rise = float(np.mean(reps[:, -1] - reps[:, half] > tol))
    rising = len(ks) > 1 and (w == len(ks) - 1 or p_rise >= SETTLED_PROBABILITY)
    settled = settled and not rising
    peaks = reps.argmax(axis=1)
    p_falls = float(np.mean([reps[i, -1] < reps[i, peaks[i]] - tol for i in range(reps.shape[0])]))
    tail = (1.0 - level) / 2.0
    lo_all, hi_all = np.quantile(reps, [tail, 1.0 - tail], axis=0)
    shown = sorted({int(ks[_nearest(ks, k)]) for k in what_if if k <= ks[-1]})
    rows = tuple(WhatIf(k, float(mean[i]), float(lo_all[i]), float(hi_all[i]))
                 for k in shown for i in [int(np.nonzero(ks == k)[0][0])])
    k_w = int(ks[w])
    decision = Decision(
        settled=settled, k=k_w if settled else None,
        accuracy=float(mean[w]) if settled else None, lo=float(lo_all[w]) if settled else None,
        hi=float(hi_all[w]) if settled else None, k_star=summary.k_star, k_star_interval=(k_lo, k_hi),
        k_within=k_w, p_within=p_within, p_falls=p_falls, samples=samples, level=level, tol=tol, what_if=rows,
        rising=rising)
    said = sentence(decision)
    if rising:
        end = len(ks) - 1
        said = (f"More calls keep helping up to {int(ks[end])} calls per item, the end of the predicted range: "
                f"{100 * mean[end]:.1f} % accurate there ({_pct(lo_all[end])}–{_pct(hi_all[end])} %); predict further, or "
                "weigh the accuracy against the calls in the table.")
    return Decision(**{**decision.__dict__, "sentence": said})


def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def sentence(d: Decision) -> str:
    """The decision in plain words (one sentence)."""
    if d.settled and d.k is not None and d.accuracy is not None and d.lo is not None and d.hi is not None:
        head = (f"Use {d.k} call{'s' if d.k != 1 else ''} per item: {100 * d.accuracy:.1f} % accurate "
                f"({_pct(d.lo)}–{_pct(d.hi)} %)")
        if d.p_falls >= 0.5:
            return f"{head}; more calls lose accuracy on this task (probability {d.p_falls:.0%})."
        if d.k_within <= d.k_star_interval[0] or d.k_star == d.k or d.p_within >= SETTLED_PROBABILITY:
            return f"{head}; more calls do not help on this task."
        return f"{head}; the best K is {d.k_star} ({d.k_star_interval[0]}–{d.k_star_interval[1]})."
    pick = next((w for w in reversed(d.what_if) if w.k <= 30), d.what_if[-1] if d.what_if else None)
    shown = f": accuracy at {pick.k} calls is between {_pct(pick.lo)} % and {_pct(pick.hi)} %" if pick else ""
    falls = f"; more calls may lose accuracy (probability {d.p_falls:.0%})" if d.p_falls >= 0.2 else ""
    return (f"Not settled by {d.samples} samples per item{shown}{falls}; the best K lies between "
            f"{d.k_star_interval[0]} and {d.k_star_interval[1]} — more samples per item would settle it "
            "(scale --more N draws them where they count).")
