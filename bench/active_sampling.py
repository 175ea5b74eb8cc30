"""Benchmark: targeted against uniform extra samples on the study's recorded pools (no calls).

Per pool (default: the committed study pools, ``studies/vote_scaling/pools/*.jsonl``, the samples the
replay backend serves) the start is each item's first ``--start`` samples; N further samples are then
drawn from each item's recorded ones in order (what ``callscale scale --more N`` asks the engine for),
either targeted (:func:`callscale.scaling.active.sample_in_rounds`, 10 rounds, re-scored on the new
counts) or spread evenly (:func:`callscale.scaling.active.uniform_plan`). Each result is analysed as
``scale`` does past the fit: our law fitted on every sample of every item
(:func:`callscale.scaling.analysis.fit_every_sample`; its bootstrap with ``--boot`` replicates), its
decision (:func:`callscale.scaling.decision.decide`). Printed per N and plan: the half-width of the
90 % band at K = ``--k`` (points), the best-K interval, and, for targeted, the uniform N that gives
the same width (linear interpolation between the uniform rows; "0 (wider)": not even narrower than
the start; "> N": narrower than every uniform row) and the ratio N / that. ``±own`` is the part of
the band that the items' own samples leave open (:func:`~callscale.scaling.active.item_uncertainty`
at K: the curve of these items, not of the population they are drawn from), the quantity the
targeted plan narrows.

    python bench/active_sampling.py
    python bench/active_sampling.py --pool studies/vote_scaling/pools/arithmetic.jsonl --n 300 600
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

try:
    import callscale  # noqa: F401
except ImportError:  # running from a checkout without installation
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callscale.scaling.active import item_uncertainty, sample_in_rounds, target_ks, uniform_plan
from callscale.scaling.analysis import fit_every_sample
from callscale.scaling.decision import decide
from callscale.scaling.estimate import ItemCounts, PoolItem, item_counts, read_pool_jsonl
from callscale.scaling.laws import ShrinkageLaw, get_law, prediction_ks

Row = tuple[float, tuple[int, int], float]
STUDY_POOLS = Path(__file__).resolve().parents[1] / "studies" / "vote_scaling" / "pools"


def grown(full: list[PoolItem], sizes: list[int]) -> list[PoolItem]:
    """Each item's first ``sizes[i]`` recorded samples."""
    return [PoolItem(p.id, p.gold, p.answers[:s]) for p, s in zip(full, sizes, strict=True)]


def evaluate(pools: list[PoolItem], fit_on: int, k: int, boot: int) -> Row:
    """Half-width (points) of the 90 % band at ``k``, the decision's best-K interval, and the half-width
    of the band's part that these items' own samples leave open (:func:`item_uncertainty` at ``k``)."""
    ks = prediction_ks(1000, dense=150)
    law = fit_every_sample(get_law("ours")(fit_on=fit_on, n_boot=boot, seed=0), pools)
    lo, hi = law.band(ks)
    i = int(np.flatnonzero(ks <= k)[-1])
    assert isinstance(law, ShrinkageLaw)
    d = decide(law.draws(ks), min(len(p.answers) for p in pools))
    counts = [item_counts(p.answers, p.gold) for p in pools]
    own = 100.0 * 1.645 * float(np.sqrt(item_uncertainty(counts, [k]).sum())) / len(pools)
    return 100.0 * float(hi[i] - lo[i]) / 2.0, d.k_star_interval, own


def targeted_sizes(full: list[PoolItem], start: int, n: int, cap: int, ks: tuple[int, ...]) -> list[int]:
    """Pool sizes after N targeted samples in rounds (scored at ``ks``), drawn from the recorded samples in order."""
    sizes = [start] * len(full)
    ids = [str(i) for i in range(len(full))]

    def draw(plan: dict[str, int]) -> list[ItemCounts]:
        for name, m in plan.items():
            sizes[int(name)] += m
        return [item_counts(p.answers[:s], p.gold) for p, s in zip(full, sizes, strict=True)]

    counts = [item_counts(p.answers[:start], p.gold) for p in full]
    sample_in_rounds(counts, n, draw, ids=ids, ks=ks, cap=cap)
    return sizes


def uniform_sizes(full: list[PoolItem], start: int, n: int, cap: int) -> list[int]:
    """Pool sizes after N samples spread evenly."""
    counts = [item_counts(p.answers[:start], p.gold) for p in full]
    plan = uniform_plan(counts, n, cap=cap)
    return [start + plan.get(str(i), 0) for i in range(len(full))]


def equal_width_n(width: float, uniform: list[tuple[int, float]]) -> float | None:
    """The smallest uniform N whose width reaches ``width`` (linear between rows; None: no row does)."""
    for (n0, w0), (n1, w1) in itertools.pairwise(uniform):
        if w0 <= width:
            return float(n0)
        if w1 <= width:
            return n0 + (w0 - width) / (w0 - w1) * (n1 - n0)
    return None


def shuffled(full: list[PoolItem], order: int) -> list[PoolItem]:
    """Each item's recorded samples in another order (0: as recorded): another draw of the same pools."""
    if order == 0:
        return full
    rng = np.random.default_rng(order)
    return [PoolItem(p.id, p.gold, tuple(p.answers[j] for j in rng.permutation(len(p.answers)))) for p in full]


def mean_row(rows: list[Row]) -> tuple[float, str, float]:
    """Mean half-width, the intervals of every order, mean half-width of the items' own part."""
    return (float(np.mean([r[0] for r in rows])), " ".join(f"{r[1][0]}–{r[1][1]}" for r in rows),
            float(np.mean([r[2] for r in rows])))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--pool", type=Path, nargs="*", default=sorted(STUDY_POOLS.glob("*.jsonl")))
    ap.add_argument("--start", type=int, default=8, help="samples per item before the extra ones")
    ap.add_argument("--fit-on", type=int, default=5)
    ap.add_argument("--k", type=int, default=32, help="the K whose band width is compared")
    ap.add_argument("--n", type=int, nargs="*", default=[300, 600], help="extra samples (targeted)")
    ap.add_argument("--orders", type=int, default=2, help="sample orders per item averaged over (0: as recorded)")
    ap.add_argument("--boot", type=int, default=100)
    args = ap.parse_args()
    for path in args.pool:
        recorded = read_pool_jsonl(path)
        cap = min(len(p.answers) for p in recorded)
        room = (cap - args.start) * len(recorded)
        t0 = time.perf_counter()
        orders = [shuffled(recorded, r) for r in range(args.orders)]
        starts = [evaluate(grown(f, [args.start] * len(f)), args.fit_on, args.k, args.boot) for f in orders]
        w0, iv0, own0 = mean_row(starts)
        print(f"\n{path.stem}: {len(recorded)} items, first {args.start} of {cap} samples per item, "
              f"{args.orders} sample orders; fit on {args.fit_on}; band: 90 % half-width at K={args.k} (points), "
              f"mean over orders")
        print(f"{'plan':<12}{'N':>6}{'±band':>8}{'±own':>7}  {'best-K interval per order':<26}"
              f"{'uniform N, same band':>21}{'ratio':>7}")
        print(f"{'start':<12}{0:>6}{w0:>8.2f}{own0:>7.2f}  {iv0:<26}")
        uniform_n = sorted({n for n in [*args.n, 2 * max(args.n)] if n <= room})
        uniform = [(0, w0)]
        for n in uniform_n:
            w, ivs, own = mean_row([evaluate(grown(f, uniform_sizes(f, args.start, n, cap)), args.fit_on, args.k,
                                             args.boot) for f in orders])
            uniform.append((n, w))
            print(f"{'uniform':<12}{n:>6}{w:>8.2f}{own:>7.2f}  {ivs:<26}")
        targets = {f"targeted@{args.k}": target_ks(args.k, args.k),
                   "targeted": target_ks(*starts[0][1])}  # the start's best-K interval, as scale --more
        for label, ks in targets.items():
            for n in args.n:
                if n > room:
                    continue
                w, ivs, own = mean_row([evaluate(grown(f, targeted_sizes(f, args.start, n, cap, ks)), args.fit_on,
                                            args.k, args.boot) for f in orders])
                same = equal_width_n(w, uniform)
                shown = f"> {uniform[-1][0]}" if same is None else "0 (wider)" if same == 0 else f"{same:.0f}"
                ratio = "—" if same is None or same == 0 else f"{n / same:.2f}"
                print(f"{label:<12}{n:>6}{w:>8.2f}{own:>7.2f}  {ivs:<26}{shown:>21}{ratio:>7}")
        print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
