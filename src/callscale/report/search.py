"""The report of a search: regret-versus-trials plots (matplotlib with the Agg backend, PNG).

Renders only: the regret curves come from the analysis (:func:`callscale.search.base.regret_curve`,
:func:`~callscale.search.base.regret_to_best_found`). matplotlib is imported lazily.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "regret.png")
    >>> plot_regret({"random": [[0.2, 0.1, 0.1], [0.3, 0.2, 0.0]]}, path).endswith("regret.png")
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def _pad(curves: Sequence[Sequence[float]], length: int) -> np.ndarray:
    """Stack runs of unequal length, repeating each run's last value (a finished search keeps its best)."""
    out = np.empty((len(curves), length))
    for i, c in enumerate(curves):
        out[i, : len(c)] = c
        out[i, len(c) :] = c[-1] if len(c) else np.nan
    return out


def plot_regret(
    curves: Mapping[str, Sequence[Sequence[float]]],
    path: str | Path,
    *,
    title: str = "Regret of the best configuration found so far",
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
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    longest = max((len(r) for runs in curves.values() for r in runs), default=1)
    length = max(length or longest, 1)
    fig, ax = plt.subplots(figsize=(9.0, 4.5), dpi=120)
    try:
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
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        fig.subplots_adjust(left=0.09, right=0.72, bottom=0.12, top=0.91)  # legend sits right of the axes
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return str(out)
