"""Renders an asymptotic analysis — the record's ``to_dict()`` — as a plot and for the terminal; computes nothing.

* :func:`plot_analysis` — measured cost per decomposition and the gain against the size, with the
  declared (symbolic) curve and the fitted slope. The size axis is logarithmic unless the declared
  growth is exponential (evolution), where a semi-log plot makes "log-gain linear in k" a straight
  line. matplotlib (Agg) is imported only when plotting.
* :func:`render_terminal` — the symbolic side, a table per size, what each run reported, the
  growth fits and the checks, printed on a rich console.

Example:
    >>> import asyncio, tempfile, pathlib
    >>> from callscale.asymptotic.examples import analyze_example, get_example
    >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=False))
    >>> plot_analysis(a.to_dict(), pathlib.Path(tempfile.mkdtemp()) / "routing.png").suffix
    '.png'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    summary = _summary(analysis)
    checks, vary = summary["checks"], summary["vary"]
    gain = checks.get("gain")
    exponential = any(c["fit"] != "log-log" for c in checks.values())
    xs = [r["size"] for r in summary["rows"]]
    fig, axes = plt.subplots(1, 2 if gain is not None else 1, figsize=(11 if gain is not None else 6, 4.4), squeeze=False)
    left = axes[0][0]
    colours = ("tab:red", "tab:blue", "tab:green", "tab:purple")
    for name, colour in zip(summary["decompositions"], colours, strict=False):
        check = checks[name]
        left.plot(xs, check["measured"], "o", color=colour, label=f"{name}: {_slope_label(check)}")
        if check["declared"] is not None:
            left.plot(xs, check["declared"], "-", color=colour, alpha=0.6, label=f"{name} declared")
    left.set_ylabel(LABELS.get(summary["metric"], summary["metric"]))
    left.set_title(f"{summary['example']}: cost vs {vary}")
    if gain is not None:
        right = axes[0][1]
        right.plot(xs, gain["measured"], "o", color="black", label=f"measured gain: {_slope_label(gain)}")
        if gain["declared"] is not None:
            right.plot(xs, gain["declared"], "-", color="grey", label="declared gain")
        right.set_title(_gain_title(summary, gain), fontsize=10)
        right.set_ylabel("gain")
    for ax in axes[0]:
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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


def measured_table(summary: Summary, number: Number = str) -> Table:
    """Calls, the metric (tokens when it is calls) and depth per size and decomposition, declared
    values in brackets where they differ, and the measured gain."""
    vary, metric, names = summary["vary"], summary["metric"], summary["decompositions"]
    columns = ("calls", metric if metric != "calls" else "tokens", "depth")
    gains = summary["checks"]["gain"]["measured"] if "gain" in summary["checks"] else None
    table = Table(title=f"\nmeasured per size ({metric}; declared in brackets where it differs)", title_justify="left")
    table.add_column(vary, justify="right")
    for name in names:
        for col in columns:
            table.add_column(f"{name} {col}", justify="right")
    if gains is not None:
        table.add_column("gain", justify="right")
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
    details = Table(title="\nwhat each run reported", title_justify="left")
    details.add_column(summary["vary"], justify="right")
    details.add_column("decomposition")
    for key in keys:
        details.add_column(key, justify="right")
    for row in summary["rows"]:
        for name, d in row["detail"].items():
            details.add_row(str(row["size"]), name, *[("—" if key not in d else f"{d[key]:.3g}"
                                                       if isinstance(d[key], float) else str(d[key])) for key in keys])
    return details


def fits_table(summary: Summary) -> Table:
    """Per series: the fit, its slope and interval, the declared slope, the classes and the exactness check."""
    fits = Table(title="\ngrowth fits (95 % intervals)", title_justify="left")
    for col in ("series", "fit", "slope", "interval", "declared slope", "best class", "Θ class", "declared = measured"):
        fits.add_column(col, justify="left" if col in ("series", "fit", "best class", "Θ class") else "right")
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


__all__ = ["LABELS", "Summary", "details_table", "fits_table", "in_variable", "measured_table", "plot_analysis",
           "render_terminal"]
