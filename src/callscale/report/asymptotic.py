"""Renders an asymptotic analysis — the record's ``to_dict()`` — as a plot and for the terminal; computes nothing.

* :func:`plot_analysis` — measured cost per decomposition and the gain against the size, with the
  declared (symbolic) curve and the fitted slope. The size axis is logarithmic unless the declared
  growth is exponential (evolution), where a semi-log plot makes "log-gain linear in k" a straight
  line. matplotlib (Agg) is imported only when plotting.
* :func:`render_terminal` — the symbolic side, a table per size, what each run reported, the
  growth fits and the checks, printed on a rich console.
* :func:`render_html` / :func:`write_html` — the same as one self-contained page in the reports' look
  (:mod:`callscale.report.look`): what the analysis found in one sentence, the plot, the costs per
  size, and the symbolic side, fits, run details and settings in collapsed sections.

Example:
    >>> import asyncio, tempfile, pathlib
    >>> from callscale.asymptotic.examples import analyze_example, get_example
    >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=False))
    >>> plot_analysis(a.to_dict(), pathlib.Path(tempfile.mkdtemp()) / "routing.png").suffix
    '.png'
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from rich import box
from rich.console import Console
from rich.table import Table

from callscale.report import look

LABELS = {
    "calls": "calls",
    "prompt_tokens": "prompt tokens",
    "completion_tokens": "completion tokens",
    "tokens": "tokens",
    "primitive": "primitive cost Σ m·n",
    "passes": "forward-pass cost Σ m·context",
    "depth": "depth (dependent calls)",
}

Summary = Mapping[str, Any]
"""An analysis as its record's ``to_dict()`` gives it (also what ``callscale analyze --json`` prints)."""

Number = Callable[[float], str]


class _Record(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


_N = re.compile(r"\bn\b")


def in_variable(label: str, var: str) -> str:
    """A growth-class label as records write it (in ``n``) written in ``var``.

    Example:
        >>> in_variable("n·2^n", "k"), in_variable("n^2 log n", "b"), in_variable("1", "k")
        ('k·2^k', 'b^2 log b', '1')
    """
    return _N.sub(lambda _: var, label)


def _summary(analysis: Summary | _Record) -> Summary:
    return analysis if isinstance(analysis, Mapping) else analysis.to_dict()


# -- the plot ------------------------------------------------------------------------------------
def _slope_label(check: Summary) -> str:
    s = check["slope"]
    unit = "" if check["fit"] == "log-log" else " doublings/unit"
    return f"slope {s['slope']:.2f} [{s['ci'][0]:.2f}, {s['ci'][1]:.2f}]{unit}"


def _gain_title(summary: Summary, gain: Summary) -> str:
    names, vary = summary["decompositions"], summary["vary"]
    title = f"gain {names[0]} / {names[1]}"
    if gain["best_class"] is not None:
        declared = gain["declared_growth"]
        title += f" (best fit {in_variable(gain['best_class'], vary)}" + (
            f"; asymptotic {in_variable(declared, vary)})" if declared is not None else ")")
    return title


def plot_analysis(analysis: Summary | _Record, path: Path) -> Path:
    """Write a two-panel PNG (costs; gain) for an analysis (its ``to_dict()``, or the record) to ``path``.

    Markers are measured values, lines the declared ones; legends carry the fitted slopes with
    their 95 % intervals.

    Example: the module docstring plots an analysis of the routing example.
    """
    summary = _summary(analysis)
    with look.plot_style(), _figure(summary) as fig:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return path


@contextlib.contextmanager
def _figure(summary: Summary) -> Iterator[Any]:
    """The two-panel figure (costs; gain) of an analysis, laid out; closed on exit."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    checks, vary = summary["checks"], summary["vary"]
    gain = checks.get("gain")
    exponential = any(c["fit"] != "log-log" for c in checks.values())
    xs = [r["size"] for r in summary["rows"]]
    size = (11.0, 4.4) if gain is not None else (6.0, 4.4)
    with look.new_figure(size, ncols=2 if gain is not None else 1) as (fig, axes):
        axes = list(axes) if gain is not None else [axes]
        left = axes[0]
        for name, colour in zip(summary["decompositions"], look.PALETTE.values(), strict=False):
            check = checks[name]
            left.plot(xs, check["measured"], "o", color=colour, label=f"{name}: {_slope_label(check)}")
            if check["declared"] is not None:
                left.plot(xs, check["declared"], "-", color=colour, alpha=0.6, label=f"{name} declared")
        left.set_ylabel(LABELS.get(summary["metric"], summary["metric"]))
        left.set_title(f"{summary['example']}: cost vs {vary}")
        if gain is not None:
            right = axes[1]
            right.plot(xs, gain["measured"], "o", color=look.PALETTE["black"], label=f"measured gain: {_slope_label(gain)}")
            if gain["declared"] is not None:
                right.plot(xs, gain["declared"], "-", color=look.GREY, label="declared gain")
            right.set_title(_gain_title(summary, gain), fontsize=10)
            right.set_ylabel("gain")
        for ax in axes:
            ax.set_yscale("log")
            if not exponential:
                ax.set_xscale("log")
            ax.set_xticks(xs)
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(vary)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(summary["title"], fontsize=10)
        fig.tight_layout()
        yield fig


# -- the terminal --------------------------------------------------------------------------------
def _differs(got: float, want: float) -> bool:
    return abs(got - want) > 1e-9 * max(1.0, abs(want))


def _print_header(summary: Summary, console: Console) -> None:
    vary, metric = summary["vary"], summary["metric"]
    fixed = ", ".join(f"{k}={v}" for k, v in summary["fixed"].items())
    paper = f" — paper: {summary['paper']}" if summary["paper"] else ""
    console.print(f"[bold]{summary['example']}[/]: {summary['title']}{paper}")
    console.print(f"backend {summary['backend']} · metric {metric} · vary {vary}" + (f" · fixed {fixed}" if fixed else "")
                  + (f" · mean of {summary['seeds']} seeds" if summary["seeds"] else ""))


def _print_symbolic(summary: Summary, console: Console) -> None:
    sym = summary.get("symbolic")
    if not sym:
        return
    vary, metric, names = summary["vary"], summary["metric"], summary["decompositions"]
    console.print("\n[bold]symbolic[/] (every size symbolic; model sizes are constants m_*)")
    for name, info in sym["decompositions"].items():
        console.print(f"  {name}: {metric} = {info['cost'][metric]}")
        console.print(f"      {info['theta']}   depth {info['theta_depth']}")
        if "at_fixed" in info:
            console.print(f"      at the fixed sizes: {info['at_fixed'][metric]}  (growth in {vary}: "
                          f"{info['at_fixed']['growth']})")
    if "gain" in sym:
        g = sym["gain"]
        console.print(f"  gain {names[0]}/{names[1]} = {g['ratio']}")
        console.print(f"      {g['theta']}")
        console.print(f"      at the fixed sizes: {g['at_fixed']['ratio']}  (growth in {vary}: {g['at_fixed']['growth']})")


def _table(title: str) -> Table:
    """A table that fits the console: light rules; headers and cells wrap, never cut with "…"."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


def measured_table(summary: Summary, number: Number = str) -> Table:
    """Calls, the metric (tokens when it is calls) and depth per size and decomposition, declared
    values in brackets where they differ, and the measured gain."""
    vary, metric, names = summary["vary"], summary["metric"], summary["decompositions"]
    columns = ("calls", metric if metric != "calls" else "tokens", "depth")
    gains = summary["checks"]["gain"]["measured"] if "gain" in summary["checks"] else None
    table = _table(f"\nmeasured per size ({metric}; declared in brackets where it differs)")
    table.add_column(vary, justify="right", overflow="fold")
    for name in names:
        for col in columns:
            table.add_column(f"{name}\n{col}", justify="right", overflow="fold")  # two header lines: narrow
    if gains is not None:
        table.add_column("gain", justify="right", overflow="fold")
    for i, row in enumerate(summary["rows"]):
        cells = [str(row["size"])]
        for name in names:
            for col in columns:
                got = row["measured"][name].get(col)
                want = row["declared"].get(name, {}).get(col)
                cell = number(got) if got is not None else "—"
                if want is not None and got is not None and _differs(got, want):
                    cell += f" [{number(want)}]"
                cells.append(cell)
        if gains is not None:
            cells.append(f"{gains[i]:.3g}")
        table.add_row(*cells)
    return table


def details_table(summary: Summary) -> Table | None:
    """What each run reported (its numeric and boolean details), or None when nothing was."""
    keys = list(dict.fromkeys(k for row in summary["rows"] for d in row["detail"].values() for k, v in d.items()
                              if isinstance(v, int | float | bool)))
    if not keys:
        return None
    details = _table("\nwhat each run reported")
    details.add_column(summary["vary"], justify="right", overflow="fold")
    details.add_column("decomposition", overflow="fold")
    for key in keys:
        details.add_column(key, justify="right", overflow="fold")
    for row in summary["rows"]:
        for name, d in row["detail"].items():
            details.add_row(str(row["size"]), name, *[("—" if key not in d else f"{d[key]:.3g}"
                                                       if isinstance(d[key], float) else str(d[key])) for key in keys])
    return details


def fits_table(summary: Summary) -> Table:
    """Per series: the fit, its slope and interval, the declared slope, the classes and the exactness check."""
    fits = _table("\ngrowth fits (95 % intervals)")
    for col in ("series", "fit", "slope", "interval", "declared\nslope", "best\nclass", "Θ\nclass", "declared\n= measured"):
        fits.add_column(col, justify="left" if col in ("series", "fit", "best\nclass", "Θ\nclass") else "right",
                        overflow="fold")
    for name, c in summary["checks"].items():
        s = c["slope"]
        exact = "—" if c["declared"] is None else ("yes" if c["exact"] else f"no (max rel. err {c['max_relative_error']:.2g})")
        fits.add_row(name, c["fit"], f"{s['slope']:.3f}",
                     f"[{s['ci'][0]:.3f}, {s['ci'][1]:.3f}]",
                     "—" if c["declared_slope"] is None else f"{c['declared_slope']:.3f}",
                     c["best_class"] or "—", c["declared_growth"] or "—", exact)
    return fits


def _print_notes(summary: Summary, console: Console) -> None:
    console.print(f"declared counts equal the ledger's at every size: {'yes' if summary['exact'] else 'no'}")
    for name, c in summary["checks"].items():
        if c["class_agrees"] is False and c["declared_slope"] is not None:
            console.print(f"note: {name}'s best-fitting class over these sizes ({c['best_class']}) is not its asymptotic "
                          f"class ({c['declared_growth']}); the declared curve's own slope over the same sizes is "
                          f"{c['declared_slope']:.3f}.")
    if summary.get("notes"):
        console.print(f"note: {summary['notes']}")
    if summary.get("plot"):
        console.print(f"plot: {summary['plot']}")


def render_terminal(analysis: Summary | _Record, console: Console, number: Number = str) -> None:
    """Print an analysis for people: symbolic side, table per size, what each run reported, fits and checks.

    ``number`` formats measured values (e.g. the CLI's compact ``1.2k``).

    Example:
        >>> import asyncio
        >>> from callscale.asymptotic.examples import analyze_example, get_example
        >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4], symbolic=False))
        >>> import io
        >>> console = Console(file=io.StringIO(), record=True, width=200)
        >>> render_terminal(a.to_dict(), console)
        >>> "declared counts equal the ledger's at every size: yes" in console.export_text()
        True
    """
    summary = _summary(analysis)
    _print_header(summary, console)
    _print_symbolic(summary, console)
    console.print(measured_table(summary, number))
    details = details_table(summary)
    if details is not None:
        console.print(details)
    console.print(fits_table(summary))
    _print_notes(summary, console)




# -- the page ------------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def sentence(analysis: Summary | _Record) -> str:
    """What the analysis found, in plain words (the page leads with it).

    Example:
        >>> import asyncio
        >>> from callscale.asymptotic.examples import analyze_example, get_example
        >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=False))
        >>> sentence(a.to_dict())[:60]
        'routed needs 7.85× less forward-pass cost Σ m·context than g'
    """
    summary = _summary(analysis)
    names, vary, checks = summary["decompositions"], summary["vary"], summary["checks"]
    label = LABELS.get(summary["metric"], summary["metric"])
    last = summary["rows"][-1]["size"] if summary["rows"] else None
    gain = checks.get("gain")
    if gain is not None and gain["measured"]:
        g = gain["measured"][-1]
        cheaper, dearer, factor = (names[1], names[0], g) if g >= 1 else (names[0], names[1], 1 / g)
        text = f"{cheaper} needs {factor:.3g}× less {label} than {dearer} at {vary} = {last}"
        check = gain
    else:
        check = checks[names[0]]
        text = f"{names[0]}'s {label} grows with {vary}"
    if check["best_class"] is not None:
        s = check["slope"]
        unit = "" if check["fit"] == "log-log" else " doublings per unit"
        text += (f"; {'the gain' if check is gain else 'it'} grows as {in_variable(check['best_class'], vary)} "
                 f"(slope {s['slope']:.2f}{unit}, 95 % interval {s['ci'][0]:.2f}–{s['ci'][1]:.2f})")
    if check["declared_growth"] is not None:
        text += f"; its declared asymptotic class is Θ({in_variable(check['declared_growth'], vary)})"
    verdict = ("the declared counts equal the ledger's at every size" if summary["exact"]
               else "the declared counts differ from the ledger's at some size")
    return f"{text}; {verdict}."


def _per_size(summary: Summary) -> str:
    """The metric per size and decomposition (declared in brackets where it differs), and the gain."""
    names, metric = summary["decompositions"], summary["metric"]
    gains = summary["checks"]["gain"]["measured"] if "gain" in summary["checks"] else None
    rows = []
    for i, row in enumerate(summary["rows"]):
        cells = [str(row["size"])]
        for name in names:
            got, want = row["measured"][name].get(metric), row["declared"].get(name, {}).get(metric)
            cell = _num(got)
            if want is not None and got is not None and _differs(got, want):
                cell += f" [{_num(want)}]"
            cells.append(cell)
        rows.append(cells + ([f"{gains[i]:.3g}"] if gains is not None else []))
    header = [summary["vary"], *(f"{name}: {LABELS.get(metric, metric)}" for name in names)]
    return look.table(rows, header + (["gain"] if gains is not None else []), kind="what-if")


def _rich_html(table: Table) -> str:
    """A rich table's cells as an HTML table (cells are plain text)."""
    header = [str(c.header) for c in table.columns]
    cells = [[str(c) for c in col.cells] for col in table.columns]
    rows = [list(r) for r in zip(*cells, strict=True)] if cells else []
    return look.table(rows, header)


def _symbolic(summary: Summary) -> str:
    sym, metric, vary = summary["symbolic"], summary["metric"], summary["vary"]
    rows: list[tuple[str, str]] = []
    for name, info in sym["decompositions"].items():
        rows.append((f"{name}: {metric}", str(info["cost"][metric])))
        rows.append((f"{name}: order", f"{info['theta']}; depth {info['theta_depth']}"))
        if "at_fixed" in info:
            rows.append((f"{name}: at the fixed sizes", f"{info['at_fixed'][metric]} (growth in {vary}: "
                                                         f"{info['at_fixed']['growth']})"))
    if "gain" in sym:
        g, names = sym["gain"], summary["decompositions"]
        rows.append((f"gain {names[0]}/{names[1]}", f"{g['ratio']}; {g['theta']}"))
        rows.append(("gain at the fixed sizes", f"{g['at_fixed']['ratio']} (growth in {vary}: {g['at_fixed']['growth']})"))
    return look.table(rows, kind="facts", numeric=False)


def _settings(summary: Summary) -> str:
    rows = [("example", f"{summary['example']}: {summary['title']}"), ("backend", str(summary["backend"])),
            ("metric", LABELS.get(summary["metric"], summary["metric"])), ("varied size", summary["vary"]),
            ("fixed sizes", ", ".join(f"{k}={v}" for k, v in summary["fixed"].items()) or "—")]
    if summary.get("paper"):
        rows.append(("what the paper states", str(summary["paper"])))
    if summary.get("seeds"):
        rows.append(("mean of", f"{summary['seeds']} seeds"))
    for name, c in summary["checks"].items():
        if c["class_agrees"] is False and c["declared_slope"] is not None:
            rows.append((f"note on {name}", f"its best-fitting class over these sizes ({c['best_class']}) is not its "
                                             f"asymptotic class ({c['declared_growth']}); the declared curve's own slope "
                                             f"over the same sizes is {c['declared_slope']:.3f}."))
    if summary.get("notes"):
        rows.append(("note", str(summary["notes"])))
    return look.table(rows, kind="facts", numeric=False)


def render_html(analysis: Summary | _Record, title: str | None = None) -> str:
    """The analysis as one self-contained HTML page: the finding, the plot, the costs per size, then
    (collapsed) the symbolic side, the growth fits, what each run reported and the settings."""
    summary = _summary(analysis)
    with look.plot_style(), _figure(summary) as fig:
        figure = look.render_figure(fig, f"{summary['example']}-cost", sentence(summary))
    parts = []
    if summary.get("symbolic"):
        parts.append(look.details("Symbolic cost", "The cost each decomposition declares, as a formula in the sizes "
                                  "(model sizes are the constants m_*).", _symbolic(summary)))
    parts.append(look.details("Calls, tokens and depth per size",
                              "What the ledger measured at each size (declared values in brackets where they differ).",
                              _rich_html(measured_table(summary, _num))))
    parts.append(look.details("Growth fits", "The slope fitted to each series with its 95 % interval, the class that "
                              "fits best and whether the declared counts equal the measured ones.",
                              _rich_html(fits_table(summary))))
    details = details_table(summary)
    if details is not None:
        parts.append(look.details("What each run reported", "The numbers each run reported besides its cost.",
                                  _rich_html(details)))
    parts.append(look.details("Settings and notes", "What was run, on which backend, with which sizes fixed.",
                              _settings(summary)))
    body = look.section(summary["example"], f"{summary['example']}: {summary['title']}", look.lead(sentence(summary)),
                        look.figure_html(figure, hero=True, caption="Markers: measured; lines: declared. "
                                         "Legends carry the fitted slopes with their 95 % intervals."),
                        _per_size(summary), '<div class="more">' + "".join(parts) + "</div>")
    return look.page_html(title or f"Asymptotic cost — {summary['example']}", body,
                          subtitle=f"{LABELS.get(summary['metric'], summary['metric'])} against {summary['vary']}",
                          footer="Rendered by callscale from the analysis record.")


def write_html(analysis: Summary | _Record, path: Path, title: str | None = None) -> Path:
    """Write :func:`render_html`'s page to ``path`` (one self-contained file); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(analysis, title), encoding="utf-8")
    return path


__all__ = ["LABELS", "Summary", "details_table", "fits_table", "in_variable", "measured_table", "plot_analysis",
           "render_html", "render_terminal", "sentence", "write_html"]
