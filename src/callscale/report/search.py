"""The report of a search: the regret-versus-trials plot (PNG) and a one-page HTML report.

Renders only: the regret curves come from the analysis (:func:`callscale.search.base.regret_curve`,
:func:`~callscale.search.base.regret_to_best_found`) and the summary from ``callscale optimize``.
:func:`plot_regret` writes the plot; :func:`render_html` / :func:`write_html` make one
self-contained page in the reports' look (:mod:`callscale.report.look`): the configuration to use in
one sentence, the regret plot, best found against the optimum, and the settings collapsed below.
matplotlib is imported lazily.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "regret.png")
    >>> plot_regret({"random": [[0.2, 0.1, 0.1], [0.3, 0.2, 0.0]]}, path).endswith("regret.png")
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from callscale.report import look

__all__ = ["plot_regret", "render_html", "sentence", "write_html"]

Summary = Mapping[str, Any]
"""What ``callscale optimize --json`` prints."""
Curves = Mapping[str, Sequence[Sequence[float]]]
TITLE = "Regret of the best configuration found so far"


def _pad(curves: Sequence[Sequence[float]], length: int) -> np.ndarray:
    """Stack runs of unequal length, repeating each run's last value (a finished search keeps its best)."""
    out = np.empty((len(curves), length))
    for i, c in enumerate(curves):
        out[i, : len(c)] = c
        out[i, len(c) :] = c[-1] if len(c) else np.nan
    return out


@contextlib.contextmanager
def _figure(curves: Curves, *, title: str, log: bool, floor: float, length: int | None) -> Iterator[Any]:
    """The regret figure (median per searcher, interquartile band), laid out; closed on exit."""
    from matplotlib.ticker import MaxNLocator

    longest = max((len(r) for runs in curves.values() for r in runs), default=1)
    length = max(length or longest, 1)
    with look.plot_style(), look.new_figure((9.0, 4.5)) as (fig, ax):
        for name, runs in curves.items():
            runs = [r for r in runs if len(r)]
            if not runs:
                continue
            data = _pad(runs, length)
            if log:
                data = np.maximum(data, floor)
            x = np.arange(1, data.shape[1] + 1)
            med = np.median(data, axis=0)
            lo, hi = np.percentile(data, 25, axis=0), np.percentile(data, 75, axis=0)
            (line,) = ax.plot(x, med, label=f"{name} (n={len(runs)})", drawstyle="steps-post")
            ax.fill_between(x, lo, hi, step="post", alpha=0.2, color=line.get_color())
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("trials")
        ax.set_ylabel("regret of the incumbent" + (f"\n(0 drawn at {floor:g})" if log else ""))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        fig.subplots_adjust(left=0.09, right=0.72, bottom=0.12, top=0.91)  # legend sits right of the axes
        yield fig


def plot_regret(
    curves: Curves,
    path: str | Path,
    *,
    title: str = TITLE,
    log: bool = True,
    floor: float = 1e-5,
    length: int | None = None,
) -> str:
    """Median regret after each trial (band: interquartile range over runs), one line per searcher.

    ``curves[name]`` holds one regret curve per run (seed). With ``log`` the y axis is logarithmic
    and regrets below ``floor`` (e.g. exactly 0 once the optimum is found) are drawn at ``floor``.
    Runs that stopped early are extended with their last value up to ``length`` trials (default:
    the longest run of any searcher). Returns the path written.

    Example:
        >>> import tempfile, os
        >>> out = plot_regret({"tpe": [[0.1, 0.05]]}, os.path.join(tempfile.mkdtemp(), "r.png"), log=False)
        >>> os.path.getsize(out) > 0
        True
    """
    out = Path(path)
    with _figure(curves, title=title, log=log, floor=floor, length=length) as fig:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png", dpi=120)
    return str(out)


# -- the page ------------------------------------------------------------------------------------
def _config(config: Mapping[str, Mapping[str, Any]] | None) -> str:
    """``{stage: {model, samples}}`` in words: ``retrieval 72B × 2, qa 3B × 8``."""
    if not config:
        return "—"
    return ", ".join(f"{stage} {c.get('model')} × {c.get('samples')}" if isinstance(c, Mapping) else f"{stage} {c}"
                     for stage, c in config.items())


def sentence(summary: Summary) -> str:
    """What the search found, in plain words (the page leads with it).

    Example:
        >>> sentence({"task": "t", "searcher": "grid", "budget": 10.0, "trials": 3, "best": {
        ...     "config": {"qa": {"model": "3B", "samples": 4}}, "train_score": 0.8, "cost": 9.0, "trial": 2},
        ...     "test_score": None, "optimum": {"config": {}, "score": 0.8}, "trials_to_optimum": 2})
        'Use qa 3B × 4: score 0.800 at cost 9 (budget 10); the grid search found the optimum at trial 2 of 3.'
    """
    budget, trials, searcher = summary["budget"], summary["trials"], summary["searcher"]
    best = summary.get("best")
    if not best:
        return f"No configuration was scored within the budget {budget:g} in {trials} trials of the {searcher} search."
    text = f"Use {_config(best['config'])}: score {best['train_score']:.3f} at cost {best['cost']:.4g} (budget {budget:g})"
    if summary.get("test_score") is not None:
        text += f", test score {summary['test_score']:.3f}"
    if "optimum" not in summary:
        return f"{text}; the best of {trials} trials of the {searcher} search (the optimum of a live task is unknown)."
    found = summary.get("trials_to_optimum")
    if found is not None:
        return f"{text}; the {searcher} search found the optimum at trial {found} of {trials}."
    regret = summary.get("final_regret")
    gap = "" if regret is None else f" (regret {regret:.3g})"
    return (f"{text}; the {searcher} search did not find the optimum ({_config(summary['optimum']['config'])}, "
            f"score {summary['optimum']['score']:.3f}) in {trials} trials{gap}.")


def _best_and_optimum(summary: Summary) -> str:
    best = summary.get("best") or {}
    rows = [["best found", _config(best.get("config")), "—" if not best else f"{best['train_score']:.3f}",
             "—" if not best else f"{best['cost']:.4g}", "—" if not best else str(best["trial"])]]
    if "optimum" in summary:
        opt = summary["optimum"]
        rows.append(["optimum within the budget", _config(opt["config"]), f"{opt['score']:.3f}", "—",
                     "—" if summary.get("trials_to_optimum") is None else str(summary["trials_to_optimum"])])
    return look.table(rows, ["", "configuration", "score", "cost", "found at trial"], kind="what-if")


def _rows(mapping: Mapping[str, Any]) -> str:
    return look.table([(str(k), f"{v:.4g}" if isinstance(v, float) else str(v)) for k, v in mapping.items()],
                      kind="facts", numeric=False)


def render_html(summary: Summary, curves: Curves, *, title: str | None = None, log: bool | None = None) -> str:
    """The search as one self-contained HTML page: what to use, the regret plot (``curves`` as for
    :func:`plot_regret`; a logarithmic axis unless ``log`` is False, default: when the optimum is
    known), best found against the optimum, then the settings collapsed."""
    log = ("optimum" in summary) if log is None else log
    plot_title = TITLE + ("" if "optimum" in summary else " (against the best score found)")
    with _figure(curves, title=plot_title, log=log, floor=1e-5, length=None) as fig:
        figure = look.render_figure(fig, f"{summary['task']}-regret", sentence(summary))
    settings = {"task": summary["task"], "searcher": summary["searcher"], "budget": summary["budget"],
                "configurations within the budget": summary.get("configurations_within_budget", "—"),
                "trials": summary["trials"], "skipped": summary.get("skipped", 0)}
    parts = [look.details("Search settings", "What was searched, by which searcher, within which budget.", _rows(settings))]
    if summary.get("searcher_stats"):
        parts.append(look.details("Searcher statistics", "What the searcher reported about its own work.",
                                  _rows(summary["searcher_stats"])))
    if summary.get("calls"):
        parts.append(look.details("Calls", "Model calls made now and answers served from the store.",
                                  _rows(summary["calls"])))
    body = look.section(summary["task"], f"{summary['searcher']} search on {summary['task']}", look.lead(sentence(summary)),
                        look.figure_html(figure, hero=True, caption="Median regret after each trial; band: "
                                         "interquartile range over runs."),
                        _best_and_optimum(summary), '<div class="more">' + "".join(parts) + "</div>")
    return look.page_html(title or f"Search — {summary['task']}", body,
                          subtitle=f"{summary['searcher']} search, budget {summary['budget']:g}",
                          footer="Rendered by callscale from the search summary.")


def write_html(summary: Summary, curves: Curves, path: str | Path, *, title: str | None = None,
               log: bool | None = None) -> Path:
    """Write :func:`render_html`'s page to ``path`` (one self-contained file); returns its path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(summary, curves, title=title, log=log), encoding="utf-8")
    return out
