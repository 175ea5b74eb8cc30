"""The vote-scaling analysis of sample pools, and its report (HTML + PNG plots + JSON).

``analyze_pools`` works on plain data (parsed answers per item): the measured curve for every
K ≤ M by exact subset averaging, its easy/hard breakdown, coverage (pass@k) and its law, and
predictions fitted on the first few samples per item — ours (shrinkage toward a prior fitted
across items, through the exact vote formula, with bootstrap bands) and Chen et al.'s law — with
the best K of each next to the measured one, and the likelihood range: how much of the curve those
few samples determine at all, whatever the prior (:mod:`callscale.scaling.bounds`).

Example:
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", ("4", "5", "4", "4", "5", "4")) for i in range(20)]
    >>> r = analyze_pools("demo", pools, fit_on=3, predict_to=9, n_boot=10)
    >>> round(r.measured[0], 6)
    0.666667
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from callscale.scaling.bounds import likelihood_range
from callscale.scaling.estimate import (
    PoolItem,
    coverage_curve,
    difficulty_split,
    item_counts,
    subset_vote_curves,
)
from callscale.scaling.fit import EXTEND_MAX, fit_answer_prior, fit_chen_law_pool, fit_coverage_law, predict_vote_curve
from callscale.scaling.theory import DIRECT_MAX, AnswerDistribution, vote_accuracy_curves

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

RANGE_K = (1, 3, 9, 31, 101, 301, 1001)


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


ENOUGH = 0.005


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


@dataclass(frozen=True)
class VoteScaling:
    """Everything the report shows for one task (lists, so it serialises as JSON)."""

    name: str
    items: int
    samples: int
    fit_on: int
    k: list[int]
    measured: list[float]
    easy: list[float]
    hard: list[float]
    easy_fraction: float
    hard_fraction: float
    k_star_measured: int
    predicted_k: list[int]
    predicted: list[float]
    predicted_lo: list[float]
    predicted_hi: list[float]
    k_star_predicted: int
    k_star_interval: list[int]
    k_enough_predicted: int
    chen: list[float]
    k_star_chen: int
    mae_ours: float
    mae_chen: float
    coverage: list[float]
    coverage_law: dict[str, float]
    logprob_curve: list[float] | None = None
    range_k: list[int] = field(default_factory=list)
    range_lo: list[float] = field(default_factory=list)
    range_hi: list[float] = field(default_factory=list)
    range_level: float = 0.95
    prior_penalty: float | None = None
    prior_bands: list[float] = field(default_factory=list)
    prior_base: list[float] | None = None
    k_star_loss: float | None = None
    measured_lo: list[float] = field(default_factory=list)
    measured_hi: list[float] = field(default_factory=list)
    k_star_measured_interval: list[int] = field(default_factory=list)
    blocks: list[dict[str, float]] = field(default_factory=list)
    predicted_all: list[float] = field(default_factory=list)
    predicted_all_lo: list[float] = field(default_factory=list)
    predicted_all_hi: list[float] = field(default_factory=list)
    k_star_all: int | None = None
    k_star_all_interval: list[int] = field(default_factory=list)
    mae_all: float | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    calls: Mapping[str, Any] = field(default_factory=dict)


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
) -> VoteScaling:
    """Measured, explained and predicted vote scaling of one task's pools (see module docstring)."""
    if not pools:
        raise ValueError(f"{name}: no items in the pool")
    m = min(len(p.answers) for p in pools)
    if m < 2:
        raise ValueError(f"{name}: pools need at least 2 samples per item, got {m}")
    if not 1 <= fit_on <= m:
        raise ValueError(f"{name}: --fit-on must lie between 1 and the pool size {m}, got {fit_on}")
    counts = [item_counts(p.answers[:m], p.gold) for p in pools]
    ks = np.arange(1, m + 1)
    per_item = subset_vote_curves(counts, ks)
    measured = per_item.mean(axis=0)
    measured_band = measured_uncertainty(per_item, ks, seed=seed)
    split = difficulty_split(counts)
    easy = per_item[split.easy].mean(axis=0) if split.easy.any() else np.zeros_like(measured)
    hard = per_item[split.hard].mean(axis=0) if split.hard.any() else np.zeros_like(measured)

    early = [item_counts(p.answers[:fit_on], p.gold) for p in pools]
    horizon = max(m, min(predict_to, EXTEND_MAX))
    predicted_k = prediction_ks(horizon, dense=max(DIRECT_MAX, m))  # measured K = 1..M line up
    prior = fit_answer_prior(early)  # one fit for both, so the range reuses the prediction's exact curves
    ours = predict_vote_curve(early, predicted_k, prior=prior, n_boot=n_boot, seed=seed)
    identified = likelihood_range(early, range_ks(m, horizon), prior=prior, level=0.95)
    chen_fit = fit_chen_law_pool(early)
    chen = chen_fit.predict(predicted_k)
    within = slice(0, m)
    # Beyond the sampled K the best prediction uses every sample paid for, not only the first few.
    everything = (
        predict_vote_curve(counts, predicted_k, n_boot=n_boot, seed=seed) if fit_on < m and horizon > m else None
    )
    coverage = coverage_curve(counts, ks)
    law = fit_coverage_law(ks[np.isfinite(coverage) & (coverage > 0)], coverage[np.isfinite(coverage) & (coverage > 0)]) \
        if (coverage > 0).sum() >= 2 else None
    logprob_curve = None
    if logprob_distributions:
        d = list(logprob_distributions)
        width = max(1, max(len(x.p_wrong) for x in d))
        wrong = np.zeros((len(d), width))
        for i, x in enumerate(d):
            wrong[i, : len(x.p_wrong)] = x.p_wrong
        curves = vote_accuracy_curves([x.p_correct for x in d], wrong, m, p_abstain=[x.p_abstain for x in d],
                                      p_diffuse=[x.p_diffuse for x in d])
        logprob_curve = [float(v) for v in curves.mean(axis=0)]
    return VoteScaling(
        name=name,
        items=len(pools),
        samples=m,
        fit_on=fit_on,
        k=ks.tolist(),
        measured=measured.tolist(),
        easy=easy.tolist(),
        hard=hard.tolist(),
        easy_fraction=float(split.easy.mean()),
        hard_fraction=float(split.hard.mean()),
        k_star_measured=int(ks[int(np.argmax(measured))]),
        predicted_k=predicted_k.tolist(),
        predicted=ours.mean.tolist(),
        predicted_lo=ours.lo.tolist(),
        predicted_hi=ours.hi.tolist(),
        k_star_predicted=int(ours.k_star),
        k_star_interval=[int(ours.k_star_lo), int(ours.k_star_hi)],
        k_enough_predicted=k_enough(predicted_k, ours.mean),
        chen=chen.tolist(),
        k_star_chen=int(predicted_k[int(np.argmax(chen))]),
        mae_ours=_mae(ours.mean[within], measured),
        mae_chen=_mae(chen[within], measured),
        coverage=coverage.tolist(),
        coverage_law={"a": law.a, "b": law.b} if law else {},
        logprob_curve=logprob_curve,
        range_k=identified.k.tolist(),
        range_lo=identified.lo.tolist(),
        range_hi=identified.hi.tolist(),
        range_level=identified.level,
        prior_penalty=prior.penalty,
        prior_bands=list(prior.band_edges),
        prior_base=None if prior.base_law is None else [float(x) for x in prior.base_law],
        k_star_loss=float(measured.max() - measured[ours.k_star - 1]) if ours.k_star <= m else None,
        measured_lo=measured_band.lo.tolist(),
        measured_hi=measured_band.hi.tolist(),
        k_star_measured_interval=[measured_band.k_star_lo, measured_band.k_star_hi],
        blocks=block_predictions(pools, fit_on, measured, predicted_k, prior.penalty),
        predicted_all=[] if everything is None else everything.mean.tolist(),
        predicted_all_lo=[] if everything is None else everything.lo.tolist(),
        predicted_all_hi=[] if everything is None else everything.hi.tolist(),
        k_star_all=None if everything is None else int(everything.k_star),
        k_star_all_interval=[] if everything is None else [int(everything.k_star_lo), int(everything.k_star_hi)],
        # In-sample misfit: where the prior's family cannot follow the measured curve, distrust its extrapolation.
        mae_all=None if everything is None else _mae(everything.mean[within], measured),
        settings=dict(settings or {}),
        calls=dict(calls or {}),
    )


def _mae(predicted: ArrayLike, measured: ArrayLike) -> float:
    """Mean absolute difference of a predicted curve from the measured one at the same K."""
    return float(np.abs(np.asarray(predicted) - np.asarray(measured)).mean())


@dataclass(frozen=True)
class MeasuredBand:
    """How sure the measured curve is about the task: ``level`` intervals over item resamples."""

    lo: FloatArray
    hi: FloatArray
    k_star_lo: int
    k_star_hi: int
    level: float


def measured_uncertainty(
    per_item: ArrayLike,
    ks: ArrayLike,
    *,
    n_boot: int = 400,
    level: float = 0.9,
    seed: int = 0,
    k_star_candidates: ArrayLike | None = None,
) -> MeasuredBand:
    """Intervals for the measured curve and its best K when the items are a sample of the task's.

    ``per_item`` holds each item's exact subset-average curve (items × K). Items are resampled with
    replacement; since each item's curve carries its own samples' noise, the band covers both where
    the items fall and how their few samples fell. A prediction inside the band agrees with the task's
    curve as far as these items can tell. The best K is the argmax over ``k_star_candidates``
    (default: all of ``ks``).

    >>> band = measured_uncertainty(np.array([[0.0, 0.0], [1.0, 1.0]] * 10), [1, 2], n_boot=200)
    >>> bool(band.lo[0] < 0.5 < band.hi[0]), band.k_star_lo
    (True, 1)
    """
    curves = np.asarray(per_item, dtype=float)
    k = np.asarray(ks)
    draws = np.random.default_rng(seed).integers(0, curves.shape[0], size=(n_boot, curves.shape[0]))
    means = np.stack([curves[d].mean(axis=0) for d in draws])
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail], axis=0)
    cand = np.flatnonzero(np.isin(k, k if k_star_candidates is None else np.asarray(k_star_candidates)))
    if cand.size == 0:
        raise ValueError("k_star_candidates must be among ks")
    stars = k[cand[np.argmax(means[:, cand], axis=1)]]
    k_lo, k_hi = np.quantile(stars, [tail, 1.0 - tail], method="inverted_cdf")
    return MeasuredBand(np.asarray(lo), np.asarray(hi), int(k_lo), int(k_hi), level)


def block_predictions(
    pools: Sequence[PoolItem], fit_on: int, measured: ArrayLike, predicted_k: IntArray, penalty: float
) -> list[dict[str, float]]:
    """The prediction made again from each further disjoint block of ``fit_on`` samples per item.

    Which samples came first is chance, so one fit is one noisy draw; fitting on samples
    ``b·fit_on … (b+1)·fit_on − 1`` for every block b shows how much the predicted curve and best K
    depend on it. Per block: its first sample ``offset``, the MAE against the measured curve over
    K ≤ M (ours and Chen's law) and our predicted best K. The smoothing ``penalty`` is the one the
    first block's cross-validation chose, so the blocks differ in their samples only.

    >>> pools = [PoolItem(str(i), "A", tuple("AB"[(i * j) % 3 == 0] for j in range(10))) for i in range(12)]
    >>> [b["offset"] for b in block_predictions(pools, 5, np.full(10, 0.5), np.arange(1, 11), 0.03)]
    [0, 5]
    """
    curve = np.asarray(measured, dtype=float)
    m = curve.size
    within = predicted_k <= m
    out = []
    for offset in range(0, m - fit_on + 1, fit_on):
        counts = [item_counts(p.answers[offset : offset + fit_on], p.gold) for p in pools]
        ours = predict_vote_curve(counts, predicted_k, prior=fit_answer_prior(counts, penalty=penalty), n_boot=0)
        chen = fit_chen_law_pool(counts).predict(predicted_k)
        out.append({
            "offset": offset,
            "mae_ours": _mae(ours.mean[within], curve),
            "mae_chen": _mae(chen[within], curve),
            "k_star": int(ours.k_star),
        })
    return out


# -- rendering ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def _figure(out: Path, name: str, files: dict[str, str], key: str, **axes: Any) -> Iterator[Any]:
    """A fresh axes; on exit it is labelled, saved as ``name`` under ``out`` and recorded in ``files``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    try:
        yield ax
        ax.set(**axes)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        files[key] = name
    finally:
        plt.close(fig)


def _plots(result: VoteScaling, out: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    k = np.array(result.k)
    label = {"xlabel": "number of calls K", "ylabel": "vote accuracy"}
    with _figure(out, f"{result.name}_measured.png", files, "measured", title=f"{result.name}: measured", **label) as ax:
        if result.measured_lo:
            ax.fill_between(k, result.measured_lo, result.measured_hi, alpha=0.2, color="C0",
                            label="90 % over item resamples")
        ax.plot(k, result.measured, "o-", ms=3, label="all items (measured)")
        if result.easy_fraction:
            ax.plot(k, result.easy, "s--", ms=2, label=f"easy items ({result.easy_fraction:.0%})")
        if result.hard_fraction:
            ax.plot(k, result.hard, "v--", ms=2, label=f"hard items ({result.hard_fraction:.0%})")
        if result.logprob_curve:
            ax.plot(k, result.logprob_curve, ":", label="exact, from one logprobs call per item")
        ax.axvline(result.k_star_measured, color="grey", lw=0.8)
    with _figure(out, f"{result.name}_predicted.png", files, "predicted", xscale="log",
                 title=f"{result.name}: predicted vs measured", **label) as ax:
        pk = np.array(result.predicted_k)
        ax.fill_between(pk, result.predicted_lo, result.predicted_hi, alpha=0.25,
                        label="ours, 90 % band (under its smooth prior)")
        ax.plot(pk, result.predicted, "-", label=f"ours (fit on {result.fit_on} samples/item)")
        ax.plot(pk, result.chen, "--", label="Chen et al.'s law")
        if result.range_k:
            rk, lo, hi = (np.array(v) for v in (result.range_k, result.range_lo, result.range_hi))
            ax.errorbar(rk, (lo + hi) / 2, yerr=(hi - lo) / 2, fmt="none", ecolor="C2", capsize=3,
                        label=f"range any prior fitting {result.fit_on} samples allows ({result.range_level:.0%})")
        if result.predicted_all:
            ax.fill_between(pk, result.predicted_all_lo, result.predicted_all_hi, alpha=0.2, color="C4")
            ax.plot(pk, result.predicted_all, "-", color="C4",
                    label=f"ours, fit on all {result.samples} samples/item (90 % band)")
        ax.plot(k, result.measured, "ko", ms=3, label=f"measured ({result.samples} samples/item)")
        ax.axvline(result.k_star_predicted, color="C0", lw=0.8)
        ax.axvline(result.k_star_measured, color="k", lw=0.8, ls=":")
    with _figure(out, f"{result.name}_coverage.png", files, "coverage", xscale="log", xlabel="k",
                 ylabel="fraction of items", title=f"{result.name}: coverage vs vote") as ax:
        ax.plot(k, result.coverage, "o-", ms=3, label="coverage (pass@k, unbiased)")
        if result.coverage_law:
            law = result.coverage_law
            ax.plot(k, np.exp(law["a"] * k ** law["b"]), "--", label="coverage law exp(a·k^b)")
        ax.plot(k, result.measured, "s-", ms=3, label="majority vote")
    return files


def write_report(results: Sequence[VoteScaling], out: str | Path, title: str = "Vote scaling") -> Path:
    """Write ``index.html``, one PNG per plot and ``summary.json`` into ``out``; returns the HTML path."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    sections = []
    for r in results:
        files = _plots(r, directory)
        interval = f"{r.k_star_interval[0]}–{r.k_star_interval[1]}"
        rows = [
            ("items × samples", f"{r.items} × {r.samples}"),
            ("accuracy at K=1 → K=M", f"{r.measured[0]:.3f} → {r.measured[-1]:.3f}"),
            ("easy / hard items", f"{r.easy_fraction:.0%} / {r.hard_fraction:.0%}"),
            ("best K measured", f"{r.k_star_measured}" + (
                f" (90 % interval over item resamples {r.k_star_measured_interval[0]}–{r.k_star_measured_interval[1]})"
                if r.k_star_measured_interval else "")),
            (f"best K predicted from {r.fit_on} samples/item (ours)",
             f"{r.k_star_predicted} (90 % interval under its smooth prior {interval})"),
            (f"fewest calls within {ENOUGH} of the best predicted accuracy (ours)", str(r.k_enough_predicted)),
            (f"accuracy lost on the measured curve by calling the predicted best K instead of the measured "
             f"one (ours, from {r.fit_on} samples/item)",
             f"— (the predicted best K lies beyond the sampled K ≤ {r.samples})" if r.k_star_loss is None
             else f"{r.k_star_loss:.4f}"),
            *([(f"best K predicted from all {r.samples} samples/item (ours; what to use beyond K = M)",
                f"{r.k_star_all} (90 % interval under its smooth prior {r.k_star_all_interval[0]}–"
                f"{r.k_star_all_interval[1]}); its curve misses the measured one by {r.mae_all:.4f} on average "
                "over K ≤ M (in-sample: where this is large, its prior cannot follow the task, so distrust "
                "it beyond M)")] if r.k_star_all is not None and r.mae_all is not None else []),
            ("smoothing of our prior over p (penalty, chosen by cross-validation over items)",
             "—" if r.prior_penalty is None else f"{r.prior_penalty:g}"),
            ("what the smoothing pulls our density over p toward (a beta law fitted to the correct counts)",
             "a flat density" if r.prior_base is None else "Beta({:.3g}, {:.3g})".format(*r.prior_base)),
            ("our prior's wrong-answer profiles (how an item's errors split), fitted per band of p",
             "one set for all p" if not r.prior_bands else "bands cut at p = " + ", ".join(f"{e:g}" for e in r.prior_bands)),
            ("best K by Chen et al.'s law", str(r.k_star_chen)),
            ("MAE of the predicted curve, K ≤ M (ours / Chen)", f"{r.mae_ours:.4f} / {r.mae_chen:.4f}"),
        ]
        if len(r.blocks) > 1:
            rows.append((f"the same, fitted on each disjoint block of {r.fit_on} samples/item in turn "
                         "(which samples come first is chance): MAE ours / Chen, best K (ours)",
                         "; ".join(f"samples {b['offset']:g}–{b['offset'] + r.fit_on - 1:g}: {b['mae_ours']:.4f} / "
                                   f"{b['mae_chen']:.4f}, K* {b['k_star']:g}" for b in r.blocks)))
        if r.range_k:
            spans = ", ".join(f"K={k}: {lo:.3f}–{hi:.3f}" for k, lo, hi in zip(r.range_k, r.range_lo, r.range_hi, strict=True))
            rows.append((f"accuracy any prior fitting {r.fit_on} samples/item allows ({r.range_level:.0%} likelihood range)",
                         spans))
        rows += [(f"calls: {k}", str(v)) for k, v in r.calls.items()]
        rows += [(f"θ: {k}", str(v)) for k, v in r.settings.items()]
        table = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in rows)
        images = "".join(f'<img src="{html.escape(f)}" alt="{html.escape(k)}">' for k, f in files.items())
        sections.append(f"<section><h2>{html.escape(r.name)}</h2><table>{table}</table><div>{images}</div></section>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em;max-width:1400px}}"
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "img{width:32%;min-width:360px;margin-right:1%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Generated by callscale. Data: <a href='summary.json'>summary.json</a>.</p>"
        + "".join(sections) + "</body></html>"
    )
    (directory / "summary.json").write_text(json.dumps([asdict(r) for r in results], indent=1, default=str))
    path = directory / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
