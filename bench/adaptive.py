"""Benchmark: adaptive voting against the best fixed K on the study's recorded pools (no calls).

For each pool (default: the committed study pools, ``studies/vote_scaling/pools/*.jsonl``) the
adaptive-voting frontier (:func:`callscale.scaling.adaptive_pools.adaptive_frontier`, default rule
grid: ``ahead:k`` and ``posterior:q`` at every cap) is computed twice: exactly over every order of each
item's samples, and over 64 random orders per item (what ``callscale scale`` reports). Printed per pool
and estimate: the best fixed K and its accuracy (exact subset average), the cheapest rule reaching that
accuracy, its mean calls per item, the calls saved (per item and in %), and the time taken.

    python bench/adaptive.py
    python bench/adaptive.py --pool my_pool.jsonl --orders 128
    python bench/adaptive.py --no-exact          # only the fast estimate
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

try:
    import callscale  # noqa: F401
except ImportError:  # running from a checkout without installation
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callscale.scaling.adaptive_pools import AdaptiveFrontier, adaptive_frontier
from callscale.scaling.analysis import FRONTIER_ORDERS
from callscale.scaling.estimate import read_pool_jsonl

STUDY_POOLS = Path(__file__).resolve().parents[1] / "studies" / "vote_scaling" / "pools"


def row(label: str, f: AdaptiveFrontier, seconds: float) -> str:
    c = f.cheapest
    if c is None:
        found = f"{'no rule tested reaches it':<28}{'—':>8}{'—':>15}"
    else:
        saved = f.best_k - c.shuffled_calls
        found = f"{c.rule:<28}{c.shuffled_calls:>8.2f}{saved:>8.2f} ({saved / f.best_k:>4.0%})"
    return f"  {label:<22}{f.best_k:>5}{f.best_accuracy:>9.4f}  {found}{seconds:>9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", nargs="*", type=Path, help="pool files (JSONL {id, gold, answers})")
    parser.add_argument("--orders", type=int, default=FRONTIER_ORDERS, help="random orders per item (fast estimate)")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact average over every order")
    args = parser.parse_args()
    files = args.pool or sorted(STUDY_POOLS.glob("*.jsonl"))
    print(f"{'':<24}{'best K':>6}{'accuracy':>9}  {'cheapest rule reaching it':<28}{'calls':>8}{'saved/item':>15}"
          f"{'time s':>9}")
    for path in files:
        pool = read_pool_jsonl(path)
        print(f"{path.stem}: {len(pool)} items × {min(len(it.answers) for it in pool)} samples")
        if not args.no_exact:
            started = time.perf_counter()
            exact = adaptive_frontier(pool, name=path.stem)
            print(row("exact (every order)", exact, time.perf_counter() - started))
        started = time.perf_counter()
        fast = adaptive_frontier(pool, name=path.stem, orders=args.orders)
        print(row(f"{args.orders} random orders", fast, time.perf_counter() - started))


if __name__ == "__main__":
    main()
