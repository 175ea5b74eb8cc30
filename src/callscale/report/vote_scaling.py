"""The vote-scaling report: HTML + PNG plots + ``summary.json``, and the terminal summary.

Everything here renders the dict a :class:`~callscale.scaling.analysis.VoteScaling` serialises to
(:meth:`~callscale.scaling.analysis.VoteScaling.to_dict`; the terminal: its
:func:`~callscale.scaling.analysis.summary_of`); nothing is computed. Every law the analysis fitted is
shown: vote laws on the prediction plot and in the table, coverage laws on the coverage plot.

Example:
    >>> from callscale.scaling.analysis import analyze_pools, summary_of
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", ("4", "5", "4", "4", "5", "4")) for i in range(20)]
    >>> part = summary_of(analyze_pools("demo", pools, fit_on=3, predict_to=9, n_boot=10).to_dict())
    >>> lines = summary_lines({"parts": [part], "calls_made": 0, "backend": "none", "report": "-"})
    >>> lines[0].startswith("[bold]demo[/]: Use "), lines[1].split("—")[0]
    (True, '[bold]demo[/]: 20 items × 6 samples ')
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from callscale.scaling.analysis import ENOUGH, VoteScaling, analyze_pools

__all__ = ["analyze_pools", "summary_lines", "write_report"]  # analyze_pools: its home is callscale.scaling.analysis

Record = Mapping[str, Any]


def _vote_laws(r: Record) -> list[Record]:
    """The vote laws that were fitted, the primary first (as the analysis orders them)."""
    return [law for law in r["laws"].values() if law["target"] == "vote" and law["error"] is None]


def _primary(r: Record) -> Record:
    return dict(r["laws"][r["primary"]])


def _pct(level: float | None) -> str:
    return f"{level:.0%}".replace("%", " %") if level is not None else ""


# -- plots ---------------------------------------------------------------------------------------------
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


def _plot_measured(ax: Any, r: Record) -> None:
    k = r["k"]
    if r["measured_lo"]:
        ax.fill_between(k, r["measured_lo"], r["measured_hi"], alpha=0.2, color="C0", label="90 % over item resamples")
    ax.plot(k, r["measured"], "o-", ms=3, label="all items (measured)")
    if r["easy_fraction"]:
        ax.plot(k, r["easy"], "s--", ms=2, label=f"easy items ({r['easy_fraction']:.0%})")
    if r["hard_fraction"]:
        ax.plot(k, r["hard"], "v--", ms=2, label=f"hard items ({r['hard_fraction']:.0%})")
    if r["logprob_curve"]:
        ax.plot(k, r["logprob_curve"], ":", label="exact, from one logprobs call per item")
    ax.axvline(r["k_star_measured"], color="grey", lw=0.8)


def _plot_predicted(ax: Any, r: Record) -> None:
    for i, law in enumerate(_vote_laws(r)):
        if law["lo"]:
            ax.fill_between(law["k"], law["lo"], law["hi"], alpha=0.25,
                            label=f"{law['label']}, {_pct(law['level'])} band (under its own assumptions)")
        ax.plot(law["k"], law["curve"], "-" if i == 0 else "--",
                label=f"{law['label']} (fit on {r['fit_on']} samples/item)")
    span = r["likelihood_range"]
    if span.get("k"):
        lo, hi = span["lo"], span["hi"]
        ax.errorbar(span["k"], [(a + b) / 2 for a, b in zip(lo, hi, strict=True)],
                    yerr=[(b - a) / 2 for a, b in zip(lo, hi, strict=True)], fmt="none", ecolor="C2", capsize=3,
                    label=f"range any prior fitting {r['fit_on']} samples allows ({span['level']:.0%})")
    if r["predicted_all"]:
        ax.fill_between(r["predicted_k"], r["predicted_all_lo"], r["predicted_all_hi"], alpha=0.2, color="C4")
        ax.plot(r["predicted_k"], r["predicted_all"], "-", color="C4",
                label=f"{_primary(r)['label']}, fit on all {r['samples']} samples/item (90 % band)")
    ax.plot(r["k"], r["measured"], "ko", ms=3, label=f"measured ({r['samples']} samples/item)")
    ax.axvline(r["k_star_predicted"], color="C0", lw=0.8)
    ax.axvline(r["k_star_measured"], color="k", lw=0.8, ls=":")


def _plot_coverage(ax: Any, r: Record) -> None:
    ax.plot(r["k"], r["coverage"], "o-", ms=3, label="coverage (pass@k, unbiased)")
    for law in r["laws"].values():
        if law["target"] == "coverage" and law["curve"]:
            ax.plot(law["k"], law["curve"], "--", label=law["label"])
    ax.plot(r["k"], r["measured"], "s-", ms=3, label="majority vote")


def _plots(r: Record, out: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    name = r["name"]
    label = {"xlabel": "number of calls K", "ylabel": "vote accuracy"}
    with _figure(out, f"{name}_measured.png", files, "measured", title=f"{name}: measured", **label) as ax:
        _plot_measured(ax, r)
    with _figure(out, f"{name}_predicted.png", files, "predicted", xscale="log",
                 title=f"{name}: predicted vs measured", **label) as ax:
        _plot_predicted(ax, r)
    with _figure(out, f"{name}_coverage.png", files, "coverage", xscale="log", xlabel="k",
                 ylabel="fraction of items", title=f"{name}: coverage vs vote") as ax:
        _plot_coverage(ax, r)
    return files


# -- the HTML table --------------------------------------------------------------------------------------
def _interval(values: Sequence[int]) -> str:
    return f"{values[0]}–{values[1]}"


def _prediction_rows(r: Record) -> list[tuple[str, str]]:
    main, m, fit_on = _primary(r), r["samples"], r["fit_on"]
    rows = [(f"best K predicted from {fit_on} samples/item ({main['label']})",
             f"{main['k_star']}" + (f" ({_pct(main['level'])} interval under its smooth prior "
                                    f"{_interval(main['k_star_interval'])})" if main["k_star_interval"] else "")),
            (f"fewest calls within {ENOUGH} of the best predicted accuracy ({main['label']})",
             str(r["k_enough_predicted"])),
            (f"accuracy lost on the measured curve by calling the predicted best K instead of the measured "
             f"one ({main['label']}, from {fit_on} samples/item)",
             f"— (the predicted best K lies beyond the sampled K ≤ {m})" if r["k_star_loss"] is None
             else f"{r['k_star_loss']:.4f}")]
    if r["k_star_all"] is not None and r["mae_all"] is not None:
        rows.append((f"best K predicted from all {m} samples/item ({main['label']}; what to use beyond K = M)",
                     f"{r['k_star_all']} (90 % interval under its smooth prior {_interval(r['k_star_all_interval'])}); "
                     f"its curve misses the measured one by {r['mae_all']:.4f} on average over K ≤ M (in-sample: "
                     "where this is large, its prior cannot follow the task, so distrust it beyond M)"))
    rows += [
        ("smoothing of our prior over p (penalty, chosen by cross-validation over items)",
         "—" if r["prior_penalty"] is None else f"{r['prior_penalty']:g}"),
        ("what the smoothing pulls our density over p toward (a beta law fitted to the correct counts)",
         "a flat density" if r["prior_base"] is None else "Beta({:.3g}, {:.3g})".format(*r["prior_base"])),
        ("our prior's wrong-answer profiles (how an item's errors split), fitted per band of p",
         "one set for all p" if not r["prior_bands"] else "bands cut at p = " + ", ".join(f"{e:g}" for e in r["prior_bands"])),
    ]
    return rows


def _law_rows(r: Record) -> list[tuple[str, str]]:
    laws = _vote_laws(r)
    rows = [(f"best K by {law['label']}", str(law["k_star"]) + (
        f" ({_pct(law['level'])} interval {_interval(law['k_star_interval'])})" if law["k_star_interval"] else ""))
        for law in laws if law["name"] != r["primary"]]
    names = " / ".join(law["label"] for law in laws)
    rows.append((f"MAE of the predicted curve, K ≤ M ({names})", " / ".join(f"{law['mae']:.4f}" for law in laws)))
    if len(r["blocks"]) > 1:
        fit_on = r["fit_on"]
        rows.append((f"the same, fitted on each disjoint block of {fit_on} samples/item in turn "
                     f"(which samples come first is chance): MAE {names}, best K ({_primary(r)['label']})",
                     "; ".join(f"samples {b['offset']:g}–{b['offset'] + fit_on - 1:g}: "
                               + " / ".join(_number(b.get(f"mae_{law['name']}")) for law in laws)
                               + f", K* {b['k_star']:g}" for b in r["blocks"])))
    return rows


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _rows(r: Record) -> list[tuple[str, str]]:
    rows = [
        ("items × samples", f"{r['items']} × {r['samples']}"),
        ("accuracy at K=1 → K=M", f"{r['accuracy_k1']:.3f} → {r['accuracy_kM']:.3f}"),
        ("easy / hard items", f"{r['easy_fraction']:.0%} / {r['hard_fraction']:.0%}"),
        ("best K measured", f"{r['k_star_measured']}" + (
            f" (90 % interval over item resamples {_interval(r['k_star_measured_interval'])})"
            if r["k_star_measured_interval"] else "")),
        *_prediction_rows(r),
        *_law_rows(r),
    ]
    span = r["likelihood_range"]
    if span.get("k"):
        spans = ", ".join(f"K={k}: {lo:.3f}–{hi:.3f}" for k, lo, hi in zip(span["k"], span["lo"], span["hi"], strict=True))
        rows.append((f"accuracy any prior fitting {r['fit_on']} samples/item allows ({span['level']:.0%} likelihood range)",
                     spans))
    rows += [(f"calls: {k}", str(v)) for k, v in r["calls"].items()]
    rows += [(f"θ: {k}", str(v)) for k, v in r["settings"].items()]
    return rows


def _section(r: Record, directory: Path) -> str:
    files = _plots(r, directory)
    table = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in _rows(r))
    images = "".join(f'<img src="{html.escape(f)}" alt="{html.escape(k)}">' for k, f in files.items())
    decision = r.get("decision") or {}
    lead = f'<p class="decision"><strong>{html.escape(decision["sentence"])}</strong></p>' if decision.get("sentence") else ""
    return f"<section><h2>{html.escape(r['name'])}</h2>{lead}<table>{table}</table><div>{images}</div></section>"


def write_report(results: Sequence[VoteScaling | Record], out: str | Path, title: str = "Vote scaling") -> Path:
    """Write ``index.html``, one PNG per plot and ``summary.json`` (the records' dicts) into ``out``;
    returns the HTML path. ``results`` are records or the dicts they serialise to."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    records = [r.to_dict() if isinstance(r, VoteScaling) else r for r in results]
    sections = "".join(_section(r, directory) for r in records)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em;max-width:1400px}}"
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "img{width:32%;min-width:360px;margin-right:1%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Generated by callscale. Data: <a href='summary.json'>summary.json</a>.</p>"
        + sections + "</body></html>"
    )
    (directory / "summary.json").write_text(json.dumps(records, indent=1, default=str))
    path = directory / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


# -- the terminal ------------------------------------------------------------------------------------------
def _part_lines(p: Record) -> list[str]:
    main, laws, m = _primary(p), _vote_laws(p), p["samples"]
    lo, hi = main["k_star_interval"] or (main["k_star"], main["k_star"])
    m_lo, m_hi = p["k_star_measured_interval"]
    others = "".join(f"{law['label']} {law['k_star']}; " for law in laws if law["name"] != p["primary"])
    decision = p.get("decision") or {}
    lines = [f"[bold]{p['name']}[/]: {decision['sentence']}"] if decision.get("sentence") else []
    lines += [
        f"[bold]{p['name']}[/]: {p['items']} items × {m} samples — accuracy {p['accuracy_k1']:.3f} at K=1, "
        f"{p['accuracy_kM']:.3f} at K={m}; easy {p['easy_fraction']:.0%}, hard {p['hard_fraction']:.0%}",
        f"  best K: measured {p['k_star_measured']} (90 % over items {m_lo}–{m_hi}), predicted from {p['fit_on']} "
        f"samples/item {main['k_star']} (90 % {lo}–{hi}; within {ENOUGH} of it from K={p['k_enough_predicted']}"
        + ("" if p["k_star_loss"] is None else f"; loses {p['k_star_loss']:.4f} on the measured curve") + "), "
        + others + "MAE " + " vs ".join(f"{law['label']} {law['mae']:.4f}" for law in laws),
    ]
    if len(p["blocks"]) > 1:
        lines.append(f"  fitted on each block of {p['fit_on']} samples/item in turn: MAE "
                     + " vs ".join(f"{law['label']} " + ", ".join(_number(b.get(f"mae_{law['name']}")) for b in p["blocks"])
                                   for law in laws)
                     + "; best K " + ", ".join(f"{b['k_star']:g}" for b in p["blocks"]))
    if p["k_star_all"] is not None:
        a_lo, a_hi = p["k_star_all_interval"]
        lines.append(f"  best K predicted from all {m} samples/item (what to use beyond K={m}): {p['k_star_all']} "
                     f"(90 % {a_lo}–{a_hi}; in-sample MAE over K ≤ {m} {p['mae_all']:.4f})")
    span = p["likelihood_range"]
    if span.get("k"):
        lines.append(f"  what {p['fit_on']} samples/item allow, any prior ({span['level']:.0%} likelihood range): "
                     + ", ".join(f"K={k} {lo:.3f}–{hi:.3f}" for k, lo, hi in zip(span["k"], span["lo"], span["hi"],
                                                                               strict=True)))
    lines.append("  calls: " + ", ".join(f"{k} {v}" for k, v in p["calls"].items()))
    return lines


def summary_lines(summary: Record) -> list[str]:
    """The terminal summary (rich markup) of ``callscale scale``'s JSON summary: per part, then the calls
    and where the report is."""
    lines = [line for part in summary["parts"] for line in _part_lines(part)]
    lines.append(f"calls made now: {summary['calls_made']} on {summary['backend']}")
    lines.append(f"report: {summary['report']}")
    return lines
