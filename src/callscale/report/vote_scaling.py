"""The vote-scaling report: one self-contained ``index.html`` plus ``summary.json``, and the terminal summary.

Everything here renders the dict a :class:`~callscale.scaling.analysis.VoteScaling` serialises to
(:meth:`~callscale.scaling.analysis.VoteScaling.to_dict`; the terminal: its
:func:`~callscale.scaling.analysis.summary_of`); nothing is computed. Each task's section leads with
the decision (the record's ``decision.sentence``), then one large plot — the measured curve and its
band, the prediction and its band, the chosen K, the adaptive-voting rules on their Pareto front when
the record has a ``frontier`` (:meth:`~callscale.scaling.adaptive_pools.AdaptiveFrontier.to_dict`), and
a second axis in dollars or FLOPs per item when the record knows the cost of a call
(``cost_per_call``: ``{"dollars": …}`` or ``{"flops": …}``) — then a what-if table. Every law the
analysis fitted, the prior, the refits, the likelihood range and the settings follow in collapsed
sections. The look is :mod:`callscale.report.look`'s.

Example:
    >>> from callscale.scaling.analysis import analyze_pools, summary_of
    >>> from callscale.scaling.estimate import PoolItem
    >>> pools = [PoolItem(str(i), "4", ("4", "5", "4", "4", "5", "4")) for i in range(20)]
    >>> part = summary_of(analyze_pools("demo", pools, fit_on=3, predict_to=9, n_boot=10).to_dict())
    >>> lines = summary_lines({"parts": [part], "calls_made": 0, "backend": "none", "report": "-"})
    >>> lines[0].startswith("[bold]demo[/]: More calls keep helping up to 9 calls"), lines[1].split("—")[0]
    (True, '[bold]demo[/]: 20 items × 6 samples ')
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from callscale.report import look
from callscale.scaling.analysis import ENOUGH, VoteScaling, analyze_pools

# analyze_pools: its home is callscale.scaling.analysis
__all__ = ["analyze_pools", "render_html", "summary_lines", "write_report"]

Record = Mapping[str, Any]
C = look.PALETTE


def _vote_laws(r: Record) -> list[Record]:
    """The vote laws that were fitted, the primary first (as the analysis orders them)."""
    return [law for law in r["laws"].values() if law["target"] == "vote" and law["error"] is None]


def _primary(r: Record) -> Record:
    return dict(r["laws"][r["primary"]])


def _pct(level: float | None) -> str:
    return f"{level:.0%}".replace("%", " %") if level is not None else ""


def _acc(x: float) -> str:
    return f"{100 * x:.1f} %"


def _span(lo: float, hi: float) -> str:
    """An accuracy interval in whole percent, e.g. ``58–69 %``."""
    return f"{100 * lo:.0f}–{100 * hi:.0f} %"


def _cost_per_call(r: Record) -> tuple[str, float] | None:
    """What one call costs, when the record knows: ``("dollars", x)`` or ``("FLOPs", x)``."""
    cost = r.get("cost_per_call") or {}
    for key, unit in (("dollars", "dollars"), ("flops", "FLOPs")):
        value = cost.get(key)
        if isinstance(value, int | float) and value > 0:
            return unit, float(value)
    return None


def _money(unit: str, value: float) -> str:
    return f"${value:.4g}" if unit == "dollars" else f"{value:.3g}"


# -- what the page leads with ----------------------------------------------------------------------
def _sentence(r: Record) -> str:
    decision = r.get("decision") or {}
    if decision.get("sentence"):
        return str(decision["sentence"])
    return (f"Best K predicted from {r['fit_on']} samples per item: {r['k_star_predicted']}; "
            f"best K measured on {r['samples']} samples per item: {r['k_star_measured']}.")


def _verdict(r: Record) -> str:
    d = r.get("decision") or {}
    if d.get("settled") and d.get("k") is not None:
        return f"use K = {d['k']} ({_acc(d['accuracy'])})"
    if d.get("k_star_interval"):
        lo, hi = d["k_star_interval"]
        return f"not settled (best K between {lo} and {hi})"
    return f"best K predicted {r['k_star_predicted']}"


def _prediction(r: Record) -> tuple[str, Sequence[int], Sequence[float], Sequence[float], Sequence[float]]:
    """The prediction the decision rests on: fitted on every sample when there is anything beyond them."""
    if r["predicted_all"]:
        return (f"predicted from all {r['samples']} samples/item (90 % band)", r["predicted_k"], r["predicted_all"],
                r["predicted_all_lo"], r["predicted_all_hi"])
    main = _primary(r)
    band = f" ({_pct(main['level'])} band)" if main["lo"] else ""
    return f"predicted from {r['fit_on']} samples/item{band}", main["k"], main["curve"], main["lo"], main["hi"]


def _mark_choice(ax: Any, r: Record) -> None:
    d = r.get("decision") or {}
    if d.get("settled") and d.get("k") is not None:
        k, acc = d["k"], d["accuracy"]
        ax.axvline(k, color=C["vermillion"], lw=1.2, ls="--")
        ax.plot([k], [acc], "o", color=C["vermillion"], ms=9, zorder=6, label=f"chosen: K = {k}")
        right = max(r["predicted_k"][-1] if r["predicted_k"] else k, r["k"][-1])
        near_end = k >= right ** 0.75  # on the log axis, in its last quarter: write the label on the left
        ax.annotate(f"use K = {k}\n{_acc(acc)}", (k, acc), xytext=(-10 if near_end else 10, -34),
                    textcoords="offset points", ha="right" if near_end else "left", color=C["vermillion"],
                    fontsize=11, fontweight="bold")
    elif d.get("k_star_interval"):
        lo, hi = d["k_star_interval"]
        ax.axvspan(lo, hi, color=C["orange"], alpha=0.13, lw=0, label=f"best K somewhere in {lo}–{hi} (not settled)")
        k = d["k_within"]
        ax.axvline(k, color=C["vermillion"], lw=1.2, ls="--", label=f"fewest calls near the best predicted: K = {k}")
        ax.annotate(f"not settled:\nbest K in {lo}–{hi}", (lo, 0.98), xycoords=("data", "axes fraction"),
                    xytext=(6, -4), textcoords="offset points", va="top", color=C["vermillion"], fontsize=10,
                    fontweight="bold", bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    else:
        k = r["k_star_predicted"]
        ax.axvline(k, color=C["vermillion"], lw=1.2, ls="--", label=f"best K predicted: {k}")


def _plot_frontier(ax: Any, r: Record) -> None:
    frontier = r.get("frontier")
    if not frontier:
        return
    pareto = set(frontier.get("pareto") or [])
    points = sorted((rule["shuffled_calls"], rule["shuffled_accuracy"], rule["rule"])
                    for rule in frontier.get("rules", []) if rule["rule"] in pareto)
    if not points:
        return
    ax.plot([p[0] for p in points], [p[1] for p in points], "D-", color=C["green"], ms=6, lw=1, zorder=5,
            label="adaptive voting rules (Pareto front, mean calls)")
    cheapest = frontier.get("cheapest")
    if cheapest:
        ax.annotate(cheapest["rule"], (cheapest["shuffled_calls"], cheapest["shuffled_accuracy"]), xytext=(6, 8),
                    textcoords="offset points", color=C["green"], fontsize=8.5)


def _hero(r: Record) -> look.Figure:
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    label, ks, curve, lo, hi = _prediction(r)
    with look.plot_style(), look.new_figure(look.HERO_SIZE) as (fig, ax):
        if r["measured_lo"]:
            ax.fill_between(r["k"], r["measured_lo"], r["measured_hi"], color=C["black"], alpha=0.12, lw=0)
        ax.plot(r["k"], r["measured"], "o-", color=C["black"], ms=3.5, lw=1.2,
                label=f"measured on {r['items']} items (90 % band over item resamples)")
        if lo:
            ax.fill_between(ks, lo, hi, color=C["blue"], alpha=0.18, lw=0)
        ax.plot(ks, curve, "-", color=C["blue"], lw=2, label=label)
        _plot_frontier(ax, r)
        _mark_choice(ax, r)
        ax.set_xscale("log")
        right = max(ks[-1], r["k"][-1])
        ax.set_xlim(1, right)
        ax.set_xticks([t for t in (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000) if t <= right])
        look.plain_log_ticks(ax.xaxis)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set(xlabel="calls per item K (majority vote)", ylabel="accuracy",
               title=f"{r['name']}: accuracy against calls per item")
        cost = _cost_per_call(r)
        if cost is not None:
            unit, per_call = cost
            top = ax.secondary_xaxis("top", functions=(lambda k: k * per_call, lambda v: v / per_call))
            top.set_xlabel(f"{unit} per item")
            top.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _money(unit, v)))
        ax.legend(loc="lower right")
        return look.render_figure(fig, f"{r['name']}-accuracy", f"{r['name']}: {_sentence(r)}")


def _adaptive(r: Record) -> Record | None:
    """The adaptive rule worth a row of the what-if table: the cheapest reaching the best fixed K's
    accuracy, else the most accurate on the Pareto front (every rule is listed further down)."""
    frontier = r.get("frontier") or {}
    if frontier.get("cheapest"):
        return dict(frontier["cheapest"])
    pareto = [rule for rule in frontier.get("rules", []) if rule["rule"] in set(frontier.get("pareto") or [])]
    return max(pareto, key=lambda rule: rule["shuffled_accuracy"], default=None)


def _what_if(r: Record) -> str:
    """Accuracy, calls and cost per item at the K values a user would consider (and the adaptive rules)."""
    d = r.get("decision") or {}
    cost = _cost_per_call(r)
    measured = dict(zip(r["k"], r["measured"], strict=True))
    rows: list[list[str]] = []

    def add(what: str, calls: float, accuracy: str, seen: str) -> None:
        row = [what, f"{calls:g}", accuracy, seen]
        rows.append(row + ([_money(cost[0], calls * cost[1])] if cost else []))

    if d.get("what_if"):
        level = _pct(d.get("level", 0.9))
        for w in d["what_if"]:
            seen = measured.get(w["k"])
            add(f"vote over K = {w['k']}", w["k"], f"{_acc(w['accuracy'])} ({_span(w['lo'], w['hi'])})",
                "—" if seen is None else _acc(seen))
    else:
        level = ""
        _, ks, curve, _, _ = _prediction(r)
        predicted = dict(zip(ks, curve, strict=True))
        for k in (1, 5, 10, 30, 100):
            if k in predicted:
                seen = measured.get(k)
                add(f"vote over K = {k}", k, _acc(predicted[k]), "—" if seen is None else _acc(seen))
    rule = _adaptive(r)
    if rule is not None:
        add(f"adaptive: {rule['rule']}", round(rule["shuffled_calls"], 2), "—", _acc(rule["shuffled_accuracy"]))
    header = ["what you do", "calls per item", f"predicted accuracy ({level} interval)" if level else "predicted accuracy",
              f"measured on {r['samples']} samples/item"] + ([f"{cost[0]} per item"] if cost else [])
    return look.table(rows, header, kind="what-if")


# -- what goes below, collapsed ----------------------------------------------------------------------
def _small(r: Record, name: str, alt: str, *panels: tuple[Any, dict[str, Any]]) -> str:
    """A figure in a collapsed section: one panel per ``(draw, axes settings)``, side by side."""
    width, height = look.SMALL_SIZE
    with look.plot_style(), look.new_figure((width * len(panels), height), ncols=len(panels)) as (fig, axes):
        for ax, (draw, settings) in zip(axes if len(panels) > 1 else [axes], panels, strict=True):
            draw(ax, r)
            ax.set(**settings)
            if settings.get("xscale") == "log":
                look.plain_log_ticks(ax.xaxis)
            ax.legend()
        return look.figure_html(look.render_figure(fig, f"{r['name']}-{name}", alt), wide=len(panels) > 1)


def _plot_measured(ax: Any, r: Record) -> None:
    k = r["k"]
    if r["measured_lo"]:
        ax.fill_between(k, r["measured_lo"], r["measured_hi"], alpha=0.15, color=C["black"], lw=0,
                        label="90 % over item resamples")
    ax.plot(k, r["measured"], "o-", ms=3, color=C["black"], label="all items (measured)")
    if r["easy_fraction"]:
        ax.plot(k, r["easy"], "s--", ms=2, color=C["blue"], label=f"easy items ({r['easy_fraction']:.0%})")
    if r["hard_fraction"]:
        ax.plot(k, r["hard"], "v--", ms=2, color=C["orange"], label=f"hard items ({r['hard_fraction']:.0%})")
    if r["logprob_curve"]:
        ax.plot(k, r["logprob_curve"], ":", color=C["purple"], label="exact, from one logprobs call per item")
    ax.axvline(r["k_star_measured"], color=look.GREY, lw=0.8)


def _plot_predicted(ax: Any, r: Record) -> None:
    for i, law in enumerate(_vote_laws(r)):
        colour = list(C.values())[i % len(C)]
        if law["lo"]:
            ax.fill_between(law["k"], law["lo"], law["hi"], alpha=0.2, color=colour, lw=0,
                            label=f"{law['label']}, {_pct(law['level'])} band (under its own assumptions)")
        ax.plot(law["k"], law["curve"], "-" if i == 0 else "--", color=colour,
                label=f"{law['label']} (fit on {r['fit_on']} samples/item)")
    span = r["likelihood_range"]
    if span.get("k"):
        lo, hi = span["lo"], span["hi"]
        ax.errorbar(span["k"], [(a + b) / 2 for a, b in zip(lo, hi, strict=True)],
                    yerr=[(b - a) / 2 for a, b in zip(lo, hi, strict=True)], fmt="none", ecolor=C["green"], capsize=3,
                    label=f"range any prior fitting {r['fit_on']} samples allows ({span['level']:.0%})")
    ax.plot(r["k"], r["measured"], "ko", ms=3, label=f"measured ({r['samples']} samples/item)")
    ax.axvline(r["k_star_predicted"], color=C["blue"], lw=0.8)
    ax.axvline(r["k_star_measured"], color=C["black"], lw=0.8, ls=":")


def _plot_coverage(ax: Any, r: Record) -> None:
    ax.plot(r["k"], r["coverage"], "o-", ms=3, color=C["blue"], label="coverage (pass@k, unbiased)")
    for law in r["laws"].values():
        if law["target"] == "coverage" and law["curve"]:
            ax.plot(law["k"], law["curve"], "--", color=C["sky"], label=law["label"])
    ax.plot(r["k"], r["measured"], "s-", ms=3, color=C["black"], label="majority vote")


def _interval(values: Sequence[int]) -> str:
    return f"{values[0]}–{values[1]}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _measured_rows(r: Record) -> list[tuple[str, str]]:
    return [
        ("items × samples", f"{r['items']} × {r['samples']}"),
        ("accuracy at K=1 → K=M", f"{r['accuracy_k1']:.3f} → {r['accuracy_kM']:.3f}"),
        ("easy / hard items", f"{r['easy_fraction']:.0%} / {r['hard_fraction']:.0%}"),
        ("best K measured", f"{r['k_star_measured']}" + (
            f" (90 % interval over item resamples {_interval(r['k_star_measured_interval'])})"
            if r["k_star_measured_interval"] else "")),
    ]


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
    laws = _vote_laws(r)
    rows += [(f"best K by {law['label']}", str(law["k_star"]) + (
        f" ({_pct(law['level'])} interval {_interval(law['k_star_interval'])})" if law["k_star_interval"] else ""))
        for law in laws if law["name"] != r["primary"]]
    names = " / ".join(law["label"] for law in laws)
    rows.append((f"MAE of the predicted curve, K ≤ M ({names})", " / ".join(f"{law['mae']:.4f}" for law in laws)))
    rows += [(f"{law['label']}: not fitted", str(law["error"])) for law in r["laws"].values() if law["error"]]
    return rows


def _prior_rows(r: Record) -> list[tuple[str, str]]:
    return [
        ("smoothing of our prior over p (penalty, chosen by cross-validation over items)",
         "—" if r["prior_penalty"] is None else f"{r['prior_penalty']:g}"),
        ("what the smoothing pulls our density over p toward (a beta law fitted to the correct counts)",
         "a flat density" if r["prior_base"] is None else "Beta({:.3g}, {:.3g})".format(*r["prior_base"])),
        ("our prior's wrong-answer profiles (how an item's errors split), fitted per band of p",
         "one set for all p" if not r["prior_bands"] else "bands cut at p = " + ", ".join(f"{e:g}" for e in r["prior_bands"])),
    ]


def _blocks(r: Record) -> str:
    laws, fit_on = _vote_laws(r), r["fit_on"]
    header = ["samples per item used", *(f"MAE {law['label']}" for law in laws), f"best K ({_primary(r)['label']})"]
    rows = [[f"{b['offset']:g}–{b['offset'] + fit_on - 1:g}", *(_number(b.get(f"mae_{law['name']}")) for law in laws),
             f"{b['k_star']:g}" if b.get("k_star") is not None else "—"] for b in r["blocks"]]
    names = " / ".join(law["label"] for law in laws)
    note = (f"<p>The same, fitted on each disjoint block of {fit_on} samples/item in turn (which samples come first "
            f"is chance): MAE {html.escape(names)}, best K ({html.escape(_primary(r)['label'])}).</p>")
    return note + look.table(rows, header)


def _range(r: Record) -> str:
    span = r["likelihood_range"]
    rows = [[f"K = {k}", f"{_acc(lo)} – {_acc(hi)}"] for k, lo, hi in zip(span["k"], span["lo"], span["hi"], strict=True)]
    return look.table(rows, ["calls per item", f"accuracy any prior fitting {r['fit_on']} samples/item allows "
                                                f"({span['level']:.0%} likelihood range)"])


def _decision_rows(d: Record) -> list[tuple[str, str]]:
    lo, hi = d["k_star_interval"]
    return [
        ("settled", "yes" if d["settled"] else "no — more samples per item would settle it"),
        (f"best K predicted ({_pct(d['level'])} interval over bootstrap replicates)", f"{d['k_star']} ({lo}–{hi})"),
        (f"fewest calls within {d['tol']:g} of the best predicted accuracy",
         f"{d['k_within']} (within it in {d['p_within']:.0%} of the replicates)"),
        ("probability that more calls lose accuracy", f"{d['p_falls']:.0%}"),
        ("samples per item the decision rests on", str(d["samples"])),
    ]


def _frontier(f: Record) -> str:
    pareto = set(f.get("pareto") or [])
    rows = [[rule["rule"], _acc(rule["shuffled_accuracy"]), f"{rule['shuffled_calls']:.2f}",
             "yes" if rule["rule"] in pareto else ""] for rule in f.get("rules", [])]
    table = look.table(rows, ["rule", "accuracy", "mean calls per item", "on the Pareto front"])
    cheapest, saved = f.get("cheapest"), f.get("calls_saved")
    best = f"<p>Best fixed K: {f['best_k']} ({_acc(f['best_accuracy'])})."
    best += (f" The cheapest rule reaching it, {html.escape(cheapest['rule'])}, saves {saved:.2f} calls per item.</p>"
             if cheapest and saved is not None else " No rule reaches it.</p>")
    return best + table


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    return look.table(rows, kind="facts", numeric=False)


def _details(r: Record) -> str:
    fit_on = r["fit_on"]
    parts = [
        look.details("Measured curve in detail",
                     "Accuracy at every K up to the pool size, for all items and for easy and hard ones, and how often "
                     "at least one of k calls was right (coverage).",
                     _facts(_measured_rows(r))
                     + _small(r, "measured", "measured accuracy against K, and coverage against k",
                              (_plot_measured, {"xlabel": "number of calls K", "ylabel": "vote accuracy",
                                                "title": f"{r['name']}: measured"}),
                              (_plot_coverage, {"xscale": "log", "xlabel": "k", "ylabel": "fraction of items",
                                                "title": f"{r['name']}: coverage vs vote"}))),
        look.details("Prediction laws compared",
                     f"Each law was fitted on the first {fit_on} samples per item, then checked against the measured "
                     "curve; the error (MAE) says how far to trust it beyond the pool.",
                     _small(r, "predicted", "every law's prediction against the measured curve",
                            (_plot_predicted, {"xscale": "log", "xlabel": "number of calls K", "ylabel": "vote accuracy",
                                               "title": f"{r['name']}: predicted vs measured"}))
                     + _facts(_prediction_rows(r))),
    ]
    if len(r["blocks"]) > 1:
        parts.append(look.details("Refits on other samples",
                                  "Which samples came first is chance: the same fit on each further block of samples "
                                  "shows how much the prediction depends on it.", _blocks(r)))
    parts.append(look.details("Prior and smoothing",
                              "How our law spreads per-item accuracy before it sees an item's answers, and how strongly "
                              "that spread is smoothed (chosen from the data).", _facts(_prior_rows(r))))
    if r["likelihood_range"].get("k"):
        parts.append(look.details("What the samples cannot decide",
                                  f"The accuracy any prior that fits the first {fit_on} samples per item allows: "
                                  "a wide range means the samples alone do not settle the curve there.", _range(r)))
    if r.get("decision"):
        parts.append(look.details("How sure the advice is",
                                  "Where the best K lies across bootstrap replicates of the prediction, and the "
                                  "probabilities the advice rests on.", _facts(_decision_rows(r["decision"]))))
    if r.get("frontier"):
        parts.append(look.details("Adaptive voting rules",
                                  "Rules that stop calling once the vote is decided, against a fixed K: accuracy and "
                                  "mean calls per item, from each item's samples in shuffled order.", _frontier(r["frontier"])))
    parts.append(look.details("Calls and sampling settings",
                              "What was called for this analysis and the sampling settings (θ) the answers share.",
                              _facts([(f"calls: {k}", str(v)) for k, v in r["calls"].items()]
                                     + [(f"θ: {k}", str(v)) for k, v in r["settings"].items()])))
    return '<div class="more">' + "".join(parts) + "</div>"


def _section(r: Record) -> str:
    return look.section(r["name"], r["name"], look.lead(_sentence(r)),
                        look.figure_html(_hero(r), hero=True,
                                         caption="Line: measured; band: its 90 % range over item resamples. Blue: "
                                                 "prediction and its band."),
                        _what_if(r), _details(r))


def render_html(results: Sequence[VoteScaling | Record], title: str = "Vote scaling", *,
                data_file: str | None = None) -> str:
    """The report as one self-contained HTML page (an index first when there are several tasks);
    ``data_file`` names the file beside it that holds the records, when there is one. The tasks'
    sections (their figures) are drawn in local processes when there are several."""
    from callscale.executors.local import local_map

    look.preload()  # the drawing library, once, before the sections are drawn in forked processes

    records = [r.to_dict() if isinstance(r, VoteScaling) else r for r in results]
    index = look.index_html([(r["name"], r["name"], _verdict(r)) for r in records]) if len(records) > 1 else ""
    tasks = f"{len(records)} tasks" if len(records) != 1 else "1 task"
    return look.page_html(
        title, index + "".join(local_map(_section, records)),
        subtitle=f"{tasks} · majority-vote accuracy against the number of calls per item",
        footer="Rendered by callscale from the analysis records" + (
            f"; the numbers behind this page are in {data_file} beside it." if data_file else "."))


def write_report(results: Sequence[VoteScaling | Record], out: str | Path, title: str = "Vote scaling") -> Path:
    """Write the self-contained ``index.html`` and ``summary.json`` (the records' dicts) into ``out``;
    returns the HTML path. ``results`` are records or the dicts they serialise to."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    records = [r.to_dict() if isinstance(r, VoteScaling) else r for r in results]
    (directory / "summary.json").write_text(json.dumps(records, indent=1, default=str))
    path = directory / "index.html"
    path.write_text(render_html(records, title, data_file="summary.json"), encoding="utf-8")
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
