"""The paper's worked examples on the simulated backend: measured gains against the stated growth.

For each example both decompositions run at increasing sizes (synthetic prompts, tokens counted in
words, model sizes from ModelCards); the ledger's forward-pass cost gives the gain, whose growth is
fitted (log-log slope with a 95 % interval, or for exponential growth the log2 slope per unit) and
set against the paper:

* routing — gain vs k: slope 1;
* debugging — gain vs b at fixed k: slope 1; vs k at fixed b: slope 2 (and, for contrast, the
  ledger's one-pass m·n, where the full rewrite is only linear in n);
* evolution — log2(gain / k) vs k: slope 1 (gain Θ(2^k·k)); deterministic, then the mean of seeded
  random runs (whose interval should contain the slope of the declared expectation);
* summarising (open exercise) — gain vs n: slope 0, MapReduce depth 1 + log_b(n/c);
* specialists — shipped questions: accuracy (95 % interval) and primitive cost side by side.

It also says whether the declared call, token, m·n, pass and depth counts equal the ledger's.

Run: ``.venv/bin/python bench/asymptotic_examples.py [--quick] [--plots DIR] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callscale.asymptotic.empirical import Analysis, SlopeFit, loglog_slope
from callscale.asymptotic.examples import analyze_example, get_example


def analysis(name: str, sizes: Sequence[int], **kwargs: Any) -> Analysis:
    return asyncio.run(analyze_example(get_example(name), sizes, **kwargs))


def gains(a: Analysis, metric: str = "passes") -> list[float]:
    b, i = a.names
    return [r.gain(metric, b, i) for r in a.rows]


def row(example: str, series: str, sizes: Sequence[int], fit: SlopeFit, paper: str, target: float | None,
        a: Analysis, seconds: float, expectation: float | None = None) -> dict[str, Any]:
    """One line of the table. ``target``: the paper's slope (checked to ±0.1); ``expectation``: the
    declared expectation's slope, which a randomised run's interval should contain."""
    best = a.checks["gain"].best
    if target is not None:
        check = "yes" if abs(fit.slope - target) <= 0.1 else "NO"
    elif expectation is not None:
        check = f"{'yes' if fit.contains(expectation) else 'NO'} ∋{expectation:.2f}"
    else:
        check = "—"
    return {"example": example, "series": series, "sizes": list(sizes), "slope": fit.slope,
            "ci": [fit.ci_low, fit.ci_high], "paper": paper, "target": target, "expectation": expectation,
            "check": check, "best_class": best.label() if best else None, "exact": a.exact, "seconds": round(seconds, 2)}


def log2_per_k(values: Sequence[float], ks: Sequence[int]) -> SlopeFit:
    """Slope of log2(value / k) on k: 1 for a Θ(2^k·k) gain."""
    return loglog_slope(ks, [x / k for x, k in zip(values, ks, strict=True)], log_x=False)


def run_series(quick: bool) -> tuple[list[dict[str, Any]], list[Analysis]]:
    """Every series of the table (one row each) and the analyses behind them, in order."""
    rows: list[dict[str, Any]] = []
    analyses: list[Analysis] = []

    def timed(name: str, sizes: Sequence[int], **kwargs: Any) -> tuple[Analysis, float]:
        started = time.perf_counter()
        a = analysis(name, sizes, symbolic=True, **kwargs)
        analyses.append(a)
        return a, time.perf_counter() - started

    ks = [2, 4, 8, 16, 32] if quick else [2, 4, 8, 16, 32, 64]
    a, t = timed("routing", ks)
    rows.append(row("routing", "gain vs k (n=2000)", ks, a.checks["gain"].slope, "Θ(k)", 1.0, a, t))

    bs = [8, 16, 32, 64, 128] if quick else [16, 32, 64, 128, 256]
    a, t = timed("debugging", bs, vary="b", fixed={"k": 4})
    rows.append(row("debugging", "gain vs b (k=4)", bs, a.checks["gain"].slope, "Θ(b·k²): 1 in b", 1.0, a, t))
    kd = [4, 8, 16, 32, 64] if quick else [4, 8, 16, 32, 64, 128]
    a, t = timed("debugging", kd, vary="k", fixed={"b": 4})
    rows.append(row("debugging", "gain vs k (b=4)", kd, a.checks["gain"].slope, "Θ(b·k²): 2 in k", 2.0, a, t))
    a, t = timed("debugging", kd, vary="k", fixed={"b": 4}, metric="primitive")
    rows.append(row("debugging", "gain vs k (b=4), one-pass m·n", kd, a.checks["gain"].slope, "contrast: ≤ Θ(k)",
                    None, a, t))

    ke = [2, 4, 6, 8, 10] if quick else [2, 4, 6, 8, 10, 12, 14]
    a, t = timed("evolution", ke)
    rows.append(row("evolution", "log2(gain/k) vs k", ke, log2_per_k(gains(a), ke), "Θ(2^k·k): 1 per k", 1.0, a, t))
    seeded = [2, 3, 4, 5, 6] if quick else [2, 3, 4, 5, 6, 7, 8]
    a, t = timed("evolution", seeded, seeds=10 if quick else 30)
    expected = [r.gain("passes", "global", "local", "declared") for r in a.rows]
    rows.append(row("evolution", f"seeded mean ({a.seeds} runs): log2(gain/k)", seeded, log2_per_k(gains(a), seeded),
                    "Θ(2^k·k): 1 per k", None, a, t, log2_per_k(expected, seeded).slope))

    ns = [256, 1024, 4096, 16384] if quick else [256, 1024, 4096, 16384, 65536]
    a, t = timed("summarising", ns)
    rows.append(row("summarising", "gain vs n", ns, a.checks["gain"].slope, "Θ(1)", 0.0, a, t))

    kk = [2, 3, 4, 5]
    a, t = timed("specialists", kk, fixed={"q": 20 if quick else 40}, metric="primitive")
    rows.append(row("specialists", "primitive-cost gain vs k", kk, a.checks["gain"].slope, "Θ(k) (mixed items)", None,
                    a, t))
    return rows, analyses


def print_table(rows: Sequence[dict[str, Any]], summarising: Analysis, specialists: Analysis) -> None:
    """The table of series, then summarising's depth and context and specialists' accuracy per size."""
    print(f"{'example':<12} {'series':<42} {'slope':>7}  {'95 % interval':<17} {'paper':<24} {'check':<9} "
          f"{'best class':<10} {'exact':<5} {'s':>5}")
    for r in rows:
        print(f"{r['example']:<12} {r['series']:<42} {r['slope']:7.3f}  [{r['ci'][0]:6.3f}, {r['ci'][1]:6.3f}]  "
              f"{r['paper']:<24} {r['check']:<9} {r['best_class'] or '—':<10} {'yes' if r['exact'] else 'no':<5} "
              f"{r['seconds']:5.1f}")
    print("check: within ±0.1 of the paper's slope, or (∋) the interval contains the declared expectation's slope.")
    print("\nsummarising: MapReduce depth and context per n (single call: depth 1, context n + O(s))")
    for rr in summarising.rows:
        d = rr.detail
        print(f"  n={rr.size:<6} depth {int(rr.measured['map_reduce']['depth'])}  context {d['map_reduce']['max_context']}"
              f"  single fits the {rr.sizes['context']}-token context: {d['single']['fits_context']}  "
              f"gain {rr.gain('passes', 'single', 'map_reduce'):.3f}")
    print("\nspecialists (simulated: route_skill 0.9, expert 0.7, off-domain 0.25):")
    for rr in specialists.rows:
        g_, r_ = rr.detail["generalist"], rr.detail["routed"]
        print(f"  k={rr.size} items {g_['items']:>3}  generalist acc {g_['accuracy']:.3f} [{g_['ci_low']:.3f}, "
              f"{g_['ci_high']:.3f}]  routed acc {r_['accuracy']:.3f} [{r_['ci_low']:.3f}, {r_['ci_high']:.3f}]  "
              f"routed right {r_['routed_right']:.2f}  m·n gain {rr.gain('primitive', 'generalist', 'routed'):.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Smaller sizes (seconds instead of tens of seconds).")
    parser.add_argument("--plots", type=Path, default=None, help="Write each analysis's log-log plot here.")
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON.")
    args = parser.parse_args(argv)
    rows, analyses = run_series(args.quick)
    summarising = next(a for a in analyses if a.example == "summarising")
    specialists = next(a for a in analyses if a.example == "specialists")
    if args.plots is not None:
        from callscale.report.asymptotic import plot_analysis

        for i, an in enumerate(analyses):
            plot_analysis(an.to_dict(), args.plots / f"{i:02d}-{an.example}-{an.vary}-{an.metric}.png")
    if args.json:
        print(json.dumps({"rows": rows, "specialists": specialists.to_dict()["rows"]}, indent=2, default=str))
        return 0
    print_table(rows, summarising, specialists)
    failed = [r for r in rows if r["check"].startswith("NO")]
    if failed:
        print(f"\n{len(failed)} series failed their check", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
