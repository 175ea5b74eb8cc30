"""Plots of an analysis: measured cost per decomposition and the gain against the size, with the
declared (symbolic) curve and the fitted slope. matplotlib (Agg) is imported only when plotting.

The size axis is logarithmic unless the declared growth is exponential (evolution), where a
semi-log plot makes "log-gain linear in k" a straight line.

Example:
    >>> import asyncio, tempfile, pathlib
    >>> from callscale.asymptotic.examples import analyze_example, get_example
    >>> a = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=False))
    >>> plot_analysis(a, pathlib.Path(tempfile.mkdtemp()) / "routing.png").suffix
    '.png'
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from callscale.asymptotic.symbolic import Growth

if TYPE_CHECKING:
    from callscale.asymptotic.examples import Analysis

LABELS = {
    "calls": "calls",
    "prompt_tokens": "prompt tokens",
    "completion_tokens": "completion tokens",
    "tokens": "tokens",
    "primitive": "primitive cost Σ m·n",
    "passes": "forward-pass cost Σ m·context",
    "depth": "depth (dependent calls)",
}


def plot_analysis(analysis: Analysis, path: Path) -> Path:
    """Write a two-panel PNG (costs; gain) for ``analysis`` to ``path`` and return the path.

    Markers are measured values, lines the declared ones; legends carry the fitted slopes with
    their 95 % intervals.

    Example: the module docstring plots an analysis of the routing example.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric, vary = analysis.metric, analysis.vary
    gain_check = analysis.checks.get("gain")
    exponential = any(c.declared_growth is not None and c.declared_growth.exponential for c in analysis.checks.values())
    xs = [r.size for r in analysis.rows]
    fig, axes = plt.subplots(1, 2 if gain_check is not None else 1, figsize=(11 if gain_check is not None else 6, 4.4),
                             squeeze=False)
    left = axes[0][0]
    colours = ("tab:red", "tab:blue", "tab:green", "tab:purple")
    for name, colour in zip(analysis.names, colours, strict=False):
        check = analysis.checks[name]
        unit = "" if check.log_x else " doublings/unit"
        label = f"{name}: slope {check.slope.slope:.2f} [{check.slope.ci_low:.2f}, {check.slope.ci_high:.2f}]{unit}"
        left.plot(xs, check.measured, "o", color=colour, label=label)
        if check.declared is not None:
            left.plot(xs, check.declared, "-", color=colour, alpha=0.6, label=f"{name} declared")
    left.set_ylabel(LABELS.get(metric, metric))
    left.set_title(f"{analysis.example}: cost vs {vary}")
    if gain_check is not None:
        right = axes[0][1]
        gl = gain_check.slope
        unit = "" if gain_check.log_x else " doublings/unit"
        right.plot(xs, gain_check.measured, "o", color="black",
                   label=f"measured gain: slope {gl.slope:.2f} [{gl.ci_low:.2f}, {gl.ci_high:.2f}]{unit}")
        if gain_check.declared is not None:
            right.plot(xs, gain_check.declared, "-", color="grey", label="declared gain")
        title = f"gain {analysis.names[0]} / {analysis.names[1]}"
        best = gain_check.best
        if best is not None:
            declared: Growth | None = gain_check.declared_growth
            title += f" (best fit {best.label(vary)}" + (f"; asymptotic {declared.label(vary)})" if declared is not None else ")")
        right.set_title(title, fontsize=10)
        right.set_ylabel("gain")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

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
    fig.suptitle(analysis.title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["LABELS", "plot_analysis"]
