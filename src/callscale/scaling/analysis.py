"""The vote-scaling analysis of one task's sample pools, as one record every view renders.

:func:`analyze_pools` works on plain data (parsed answers per item): the measured curve for every
K ≤ M by exact subset averaging, its easy/hard breakdown and coverage (:mod:`~callscale.scaling.measured`);
every registered law (:mod:`callscale.scaling.laws`) fitted on the first few samples per item, with
its best K and its error on the measured curve; for the primary law (ours) the best K predicted from
every sample, the same fit on each further block of samples, and the likelihood range: how much of the
curve those few samples determine at all, whatever the prior (:mod:`callscale.scaling.bounds`); and
the adaptive-voting frontier of the same pools (:func:`~callscale.scaling.adaptive_pools.adaptive_frontier`
on the default rule grid, estimated over :data:`FRONTIER_ORDERS` random orders per item): no new calls.

The record serialises itself once (:meth:`VoteScaling.to_dict`); :func:`summary_of` drops the
per-K curves from that dict for ``callscale scale --json`` and the terminal.

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", ("4", "5", "4", "4", "5", "4")) for i in range(20)]
    >>> r = analyze_pools("demo", pools, fit_on=3, predict_to=9, n_boot=10)
    >>> round(r.measured[0], 6), [law.name for law in r.laws]
    (0.666667, ['ours', 'chen', 'coverage', 'beta', 'beta_coverage'])
    >>> d = summary_of(r.to_dict())
    >>> round(d["accuracy_k1"], 6), "measured" in d, sorted(d["laws"]["chen"])[:3]
    (0.666667, False, ['error', 'k_star', 'k_star_interval'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from callscale.executors.local import Mapper
from callscale.scaling.adaptive_pools import adaptive_frontier
from callscale.scaling.bounds import likelihood_range
from callscale.scaling.decision import decide
from callscale.scaling.estimate import PoolItem, item_counts
from callscale.scaling.grid import EXTEND_MAX
from callscale.scaling.laws import CannotFit, ScalingLaw, ShrinkageLaw, get_law, law_names, prediction_ks
from callscale.scaling.measured import logprob_curve, measure_pools
from callscale.scaling.prior import fit_answer_prior
from callscale.scaling.theory import DIRECT_MAX, AnswerDistribution

IntArray = NDArray[np.int64]

__all__ = [
    "ENOUGH",
    "FRONTIER_ORDERS",
    "PRIMARY_LAW",
    "RANGE_K",
    "LawResult",
    "VoteScaling",
    "analyze_pools",
    "block_predictions",
    "fit_every_sample",
    "k_enough",
    "range_ks",
    "summary_of",
]

PRIMARY_LAW = "ours"
"""The law whose prior the likelihood range uses and whose best K the summary leads with."""
RANGE_K = (1, 3, 9, 31, 101, 301, 1001)
ENOUGH = 0.005
FRONTIER_ORDERS = 64
"""Random orders per item over which the adaptive-voting frontier of :func:`analyze_pools` is estimated
(fewer on pools of more than 300 items × 32 samples, down to 8: its cost grows with items × samples × orders)."""


def k_enough(ks: ArrayLike, curve: ArrayLike, within: float = ENOUGH) -> int:
    """The fewest calls whose accuracy is within ``within`` of the curve's best (a flat curve's argmax
    can sit far out for a negligible gain; this is the K worth paying for).

    >>> k_enough([1, 3, 5, 101], [0.50, 0.59, 0.604, 0.605])
    5
    """
    k, f = np.asarray(ks), np.asarray(curve, dtype=float)
    return int(k[np.flatnonzero(f >= f.max() - within)[0]])


def range_ks(samples: int, horizon: int) -> list[int]:
    """The K at which the likelihood range is computed: odd, roughly log-spaced, plus the pool size.

    >>> range_ks(32, 400)
    [1, 3, 9, 31, 32, 101, 301]
    """
    return sorted({k for k in RANGE_K if k <= horizon} | {samples})


CURVE = {"curve": True}
"""Metadata of a field holding values per K: serialised in full, dropped from summaries."""


def _curve_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls) if f.metadata.get("curve"))


@dataclass(frozen=True)
class LawResult:
    """One law's prediction for a task: its curve at ``k``, its band where it has one, its best K (vote
    laws) with its interval where it has one (band and interval at ``level``), its mean absolute error
    on the measured curve over K ≤ M (vote laws) and its fitted ``params``; ``error`` says why it could
    not be fitted."""

    name: str
    label: str
    target: str
    k: list[int] = field(default_factory=list, metadata=CURVE)
    curve: list[float] = field(default_factory=list, metadata=CURVE)
    lo: list[float] = field(default_factory=list, metadata=CURVE)
    hi: list[float] = field(default_factory=list, metadata=CURVE)
    k_star: int | None = None
    k_star_interval: list[int] = field(default_factory=list)
    level: float | None = None
    mae: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class VoteScaling:
    """Everything the report shows for one task (lists, so it serialises as JSON)."""

    name: str
    items: int
    samples: int
    fit_on: int
    k: list[int] = field(default_factory=list, metadata=CURVE)
    measured: list[float] = field(default_factory=list, metadata=CURVE)
    measured_lo: list[float] = field(default_factory=list, metadata=CURVE)
    measured_hi: list[float] = field(default_factory=list, metadata=CURVE)
    easy: list[float] = field(default_factory=list, metadata=CURVE)
    hard: list[float] = field(default_factory=list, metadata=CURVE)
    easy_fraction: float = 0.0
    hard_fraction: float = 0.0
    k_star_measured: int = 1
    k_star_measured_interval: list[int] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list, metadata=CURVE)
    logprob_curve: list[float] | None = field(default=None, metadata=CURVE)
    predicted_k: list[int] = field(default_factory=list, metadata=CURVE)
    laws: tuple[LawResult, ...] = ()
    primary: str = PRIMARY_LAW
    k_enough_predicted: int | None = None
    k_star_loss: float | None = None
    likelihood_range: Mapping[str, Any] = field(default_factory=dict)
    prior_penalty: float | None = None
    prior_bands: list[float] = field(default_factory=list)
    prior_base: list[float] | None = None
    blocks: list[dict[str, float]] = field(default_factory=list)
    predicted_all: list[float] = field(default_factory=list, metadata=CURVE)
    predicted_all_lo: list[float] = field(default_factory=list, metadata=CURVE)
    predicted_all_hi: list[float] = field(default_factory=list, metadata=CURVE)
    k_star_all: int | None = None
    k_star_all_interval: list[int] = field(default_factory=list)
    mae_all: float | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    calls: Mapping[str, Any] = field(default_factory=dict)
    decision: Mapping[str, Any] = field(default_factory=dict)
    frontier: Mapping[str, Any] | None = None

    def law(self, name: str) -> LawResult:
        """The result of the law registered as ``name``."""
        return next(r for r in self.laws if r.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready values: every field (``laws`` keyed by name), then the
        accuracy at K = 1 and K = M, then the keys earlier versions named the laws' results by:
        ``k_star_predicted``/``k_star_interval`` (the primary law), ``mae_<law>`` and ``k_star_<law>``
        (the other vote laws), ``<law>_law`` (the parameters of coverage laws)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "laws"}
        out["laws"] = {r.name: r.to_dict() for r in self.laws}
        out["accuracy_k1"] = self.measured[0]
        out["accuracy_kM"] = self.measured[-1]
        main = self.law(self.primary)
        out["k_star_predicted"], out["k_star_interval"] = main.k_star, list(main.k_star_interval)
        for r in self.laws:
            if r.target == "vote":
                out[f"mae_{r.name}"] = r.mae
                if r.name != self.primary:
                    out[f"k_star_{r.name}"] = r.k_star
            else:
                out[f"{r.name}_law"] = dict(r.params)
        return out


_RECORD_CURVES = _curve_names(VoteScaling)
_LAW_CURVES = _curve_names(LawResult)


def summary_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """A :meth:`VoteScaling.to_dict` without its per-K curves (what ``scale --json`` prints).

    >>> summary = summary_of({"name": "t", "k": [1], "measured": [0.5], "laws": {"chen": {"k_star": 3, "k": [1],
    ...                                                                                  "curve": [0.5]}}})
    >>> summary["laws"], summary["curves"]["measured"]["1"]["value"]
    ({'chen': {'k_star': 3}}, 0.5)
    """
    out = {k: v for k, v in record.items() if k not in _RECORD_CURVES}
    if "laws" in out:
        out["laws"] = {n: {k: v for k, v in law.items() if k not in _LAW_CURVES} for n, law in out["laws"].items()}
    if record.get("measured"):
        out["curves"] = curves_of(record)
    return out


def curves_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The curves of a :meth:`VoteScaling.to_dict` keyed by K: ``measured`` (with its band) and each
    law's prediction with its band (``lower``/``upper``; null where a law has none).

    >>> curves_of({"k": [1, 2], "measured": [0.5, 0.6], "measured_lo": [0.4, 0.5], "measured_hi": [0.6, 0.7],
    ...            "laws": {"chen": {"k": [1, 3], "curve": [0.5, 0.7], "lo": [], "hi": []}}})["laws"]["chen"]["3"]
    {'value': 0.7, 'lower': None, 'upper': None}
    """
    def band(ks: Sequence[int], values: Sequence[float], lo: Sequence[float], hi: Sequence[float]) -> dict[str, Any]:
        return {str(k): {"value": v, "lower": lo[i] if i < len(lo) else None, "upper": hi[i] if i < len(hi) else None}
                for i, (k, v) in enumerate(zip(ks, values, strict=False))}

    measured = band(record.get("k", []), record.get("measured", []), record.get("measured_lo", []),
                    record.get("measured_hi", []))
    laws = {name: band(law.get("k", []), law.get("curve", []), law.get("lo", []), law.get("hi", []))
            for name, law in (record.get("laws") or {}).items() if law.get("curve")}
    return {"measured": measured, "laws": laws}


def _plain(value: Any) -> Any:
    """Tuples, arrays and mappings as lists and dicts (copies), numpy scalars as Python numbers."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _mae(predicted: ArrayLike, measured: ArrayLike) -> float:
    """Mean absolute difference of a predicted curve from the measured one at the same K."""
    return float(np.abs(np.asarray(predicted) - np.asarray(measured)).mean())


def law_result(name: str, law: ScalingLaw, ks: ArrayLike, measured: ArrayLike) -> LawResult:
    """A fitted law's curve at ``ks`` (with its band where it has one); for a vote law also its best K
    among ``ks`` and its error on the ``measured`` curve at K = 1..M (the first M of ``ks``).

    >>> from callscale.scaling.laws import ChenLaw
    >>> law = ChenLaw().fit([PoolItem("a", "4", ("4", "5", "4")), PoolItem("b", "4", ("5", "5", "4"))])
    >>> r = law_result("chen", law, [1, 2, 3, 9], [0.5, 0.5, 0.5])
    >>> r.k_star in (1, 2, 3, 9), r.mae is not None, r.lo
    (True, True, [])
    """
    k = np.atleast_1d(np.asarray(ks))
    curve = law.predict(k)
    lo, hi = law.band(k) if law.has_band else ([], [])
    if law.target != "vote":
        return LawResult(name, law.label, law.target, k.tolist(), curve.tolist(), params=law.params())
    best = law.best_k(k)
    seen = np.asarray(measured, dtype=float)
    return LawResult(
        name, law.label, law.target, k.tolist(), curve.tolist(), _plain(lo), _plain(hi), best.k,
        [] if best.interval is None else list(best.interval), law.level if law.has_band else None,
        _mae(curve[: seen.size], seen), law.params(),
    )


def _fit_laws(
    pools: Sequence[PoolItem], names: Sequence[str], fit_on: int, measured: ArrayLike, predicted_k: IntArray,
    *, n_boot: int, seed: int, mapper: Mapper | None = None,
) -> tuple[dict[str, ScalingLaw], list[LawResult]]:
    """Every law in ``names`` fitted (vote laws on the first ``fit_on`` samples, coverage laws on all)
    and its result; a law that cannot fit these pools is reported with its reason."""
    fitted: dict[str, ScalingLaw] = {}
    results = []
    seen = np.asarray(measured)
    for name in names:
        cls = get_law(name)
        vote = cls.target == "vote"
        extra: dict[str, Any] = {"mapper": mapper} if mapper is not None and issubclass(cls, ShrinkageLaw) else {}
        law = cls(fit_on=fit_on if vote else None, seed=seed, n_boot=n_boot, **extra)
        try:
            law.fit(pools)
        except CannotFit as exc:
            results.append(LawResult(name, cls.label, cls.target, error=str(exc)))
            continue
        fitted[name] = law
        results.append(law_result(name, law, predicted_k if vote else np.arange(1, seen.size + 1), seen))
    return fitted, results


def block_predictions(
    pools: Sequence[PoolItem], fit_on: int, measured: ArrayLike, predicted_k: IntArray,
    laws: Mapping[str, ScalingLaw], primary: str = PRIMARY_LAW,
) -> list[dict[str, float]]:
    """Every vote law fitted again on each further disjoint block of ``fit_on`` samples per item.

    Which samples came first is chance, so one fit is one noisy draw; fitting on samples
    ``b·fit_on … (b+1)·fit_on − 1`` for every block b shows how much the predicted curve and best K
    depend on it. Per block: its first sample ``offset``, each law's MAE against the measured curve over
    K ≤ M (``mae_<law>``) and the primary law's predicted best K (``k_star``). ``laws`` are the fits on
    the first block: what they chose by themselves (our smoothing penalty, by cross-validation) is kept,
    so the blocks differ in their samples only.

    >>> from callscale.scaling.laws import ChenLaw
    >>> pools = [PoolItem(str(i), "A", tuple("AB"[(i * j) % 3 == 0] for j in range(10))) for i in range(12)]
    >>> first = {"chen": ChenLaw(fit_on=5).fit(pools)}
    >>> [b["offset"] for b in block_predictions(pools, 5, np.full(10, 0.5), np.arange(1, 11), first, "chen")]
    [0, 5]
    """
    curve = np.asarray(measured, dtype=float)
    m = curve.size
    within = predicted_k <= m
    out = []
    for offset in range(0, m - fit_on + 1, fit_on):
        row: dict[str, Any] = {"offset": offset}
        best: dict[str, int] = {}
        for name, law in laws.items():
            if law.target != "vote":
                continue
            again = law.clone(offset=offset, n_boot=0, **law.fitted_options())
            try:
                again.fit(pools)
            except CannotFit:
                row[f"mae_{name}"] = None
                continue
            row[f"mae_{name}"] = _mae(again.predict(predicted_k)[within], curve)
            if name == primary:
                best["k_star"] = again.best_k(predicted_k).k
        out.append(row | best)
    return out


def _check_pools(name: str, pools: Sequence[PoolItem], fit_on: int) -> int:
    """The pool size M shared by every item; a clear ``ValueError`` for pools that cannot be analysed."""
    if not pools:
        raise ValueError(f"{name}: no items in the pool")
    m = min(len(p.answers) for p in pools)
    if m < 2:
        raise ValueError(f"{name}: pools need at least 2 samples per item, got {m}")
    if not 1 <= fit_on <= m:
        raise ValueError(f"{name}: --fit-on must lie between 1 and the pool size {m}, got {fit_on}")
    return m


def analyze_pools(
    name: str,
    pools: Sequence[PoolItem],
    *,
    fit_on: int = 5,
    predict_to: int = 100,
    n_boot: int = 200,
    logprob_distributions: Sequence[AnswerDistribution] | None = None,
    settings: Mapping[str, Any] | None = None,
    calls: Mapping[str, Any] | None = None,
    seed: int = 0,
    laws: Sequence[str] | None = None,
    primary: str = PRIMARY_LAW,
    frontier: bool = True,
    mapper: Mapper | None = None,
) -> VoteScaling:
    """Measured, explained and predicted vote scaling of one task's pools (see module docstring);
    ``laws`` are the registered laws to fit (default: all), ``primary`` the one the summary leads with;
    ``frontier`` adds the adaptive-voting frontier (:meth:`~callscale.scaling.adaptive_pools.AdaptiveFrontier.to_dict`);
    ``mapper`` runs the independent fits of our law (bootstrap replicates, cross-validation folds) —
    e.g. :func:`~callscale.executors.ray.ray_map` on a cluster; the numbers are the same wherever they run."""
    m = _check_pools(name, pools, fit_on)
    seen = measure_pools(pools, m, seed=seed)
    horizon = max(m, min(predict_to, EXTEND_MAX))
    predicted_k = prediction_ks(horizon, dense=max(DIRECT_MAX, m))  # measured K = 1..M line up
    names = [primary, *(n for n in (law_names() if laws is None else laws) if n != primary)]
    fitted, results = _fit_laws(pools, names, fit_on, seen.mean, predicted_k, n_boot=n_boot, seed=seed, mapper=mapper)
    if primary not in fitted:
        raise ValueError(f"{name}: the primary law {primary!r} cannot be fitted: {results[0].error}")
    main, main_result = fitted[primary], results[0]
    # One prior for both, so the range reuses the prediction's exact curves.
    prior = main.prior_ if isinstance(main, ShrinkageLaw) else fit_answer_prior(main.counts_)
    identified = likelihood_range(main.counts_, range_ks(m, horizon), prior=prior, level=0.95)
    # Beyond the sampled K the best prediction uses every sample paid for, not only the first few.
    ragged = any(len(p.answers) > m for p in pools)
    everything = fit_every_sample(main, pools) if (fit_on < m or ragged) and horizon > m else None
    k_star = main_result.k_star
    assert k_star is not None
    return VoteScaling(
        name=name, items=len(pools), samples=m, fit_on=fit_on,
        k=seen.k.tolist(), measured=seen.mean.tolist(),
        measured_lo=seen.band.lo.tolist(), measured_hi=seen.band.hi.tolist(),
        easy=seen.easy.tolist(), hard=seen.hard.tolist(),
        easy_fraction=seen.easy_fraction, hard_fraction=seen.hard_fraction,
        k_star_measured=seen.k_star, k_star_measured_interval=[seen.band.k_star_lo, seen.band.k_star_hi],
        coverage=seen.coverage.tolist(),
        logprob_curve=[float(v) for v in logprob_curve(logprob_distributions, m)] if logprob_distributions else None,
        predicted_k=predicted_k.tolist(), laws=tuple(results), primary=primary,
        k_enough_predicted=k_enough(predicted_k, main_result.curve),
        k_star_loss=float(seen.mean.max() - seen.mean[k_star - 1]) if k_star <= m else None,
        likelihood_range={"level": identified.level, "k": identified.k.tolist(), "lo": identified.lo.tolist(),
                          "hi": identified.hi.tolist()},
        prior_penalty=prior.penalty, prior_bands=list(prior.band_edges),
        prior_base=None if prior.base_law is None else [float(x) for x in prior.base_law],
        blocks=block_predictions(pools, fit_on, seen.mean, predicted_k, fitted, primary),
        **_all_samples(everything, predicted_k, seen.mean),
        settings=dict(settings or {}), calls=dict(calls or {}),
        decision=_decision(everything or main, predicted_k, m if everything is not None else fit_on),
        frontier=adaptive_frontier(pools, name=name, orders=_frontier_orders(len(pools), m), seed=seed).to_dict()
        if frontier else None,
    )


def fit_every_sample(law: ScalingLaw, pools: Sequence[PoolItem]) -> ScalingLaw:
    """``law`` fitted again on every sample of every item: pools of unequal sizes (more samples drawn for
    some items) each count all of their own, not only the smallest pool's size."""
    again = law.clone(fit_on=None)
    if len({len(p.answers) for p in pools}) == 1:
        return again.fit(pools)
    again.counts_ = [item_counts(p.answers, p.gold) for p in pools]
    again._fit(again.counts_)
    return again


def _frontier_orders(items: int, samples: int) -> int:
    """:data:`FRONTIER_ORDERS`, fewer (at least 8) beyond 300 items × 32 samples."""
    return max(8, min(FRONTIER_ORDERS, FRONTIER_ORDERS * 300 * 32 // max(1, items * samples)))


def _decision(law: ScalingLaw, predicted_k: IntArray, samples: int) -> dict[str, Any]:
    """The decision sentence and what backs it, from the law's bootstrap replicates (ours only)."""
    if not isinstance(law, ShrinkageLaw):
        return {}
    return decide(law.draws(predicted_k), samples).to_dict()


def _all_samples(law: ScalingLaw | None, predicted_k: IntArray, measured: ArrayLike) -> dict[str, Any]:
    """The record's fields of the primary law fitted on every sample (none when there is nothing beyond)."""
    if law is None:
        return {}
    result = law_result("all samples", law, predicted_k, measured)
    return {
        "predicted_all": result.curve, "predicted_all_lo": result.lo, "predicted_all_hi": result.hi,
        "k_star_all": result.k_star, "k_star_all_interval": result.k_star_interval,
        # In-sample misfit: where the prior's family cannot follow the measured curve, distrust its extrapolation.
        "mae_all": result.mae,
    }
