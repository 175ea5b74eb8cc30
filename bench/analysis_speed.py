"""Benchmark: how the vote-scaling analysis's time grows with the number of items.

Simulated pools of N items × 32 samples (items with a few repeated wrong answers, never-repeating ones
and some abstains, so that nearly every item's counts are its own, as on real free-form tasks) are
analysed three ways, each timed (median of ``--repeat`` runs):

* ``predictor``: the shrinkage predictor on all 32 samples per item with its default bootstrap
  (:func:`~callscale.scaling.predict.predict_vote_curve`: the penalty's cross-validation, the fit,
  100 replicates) — the part whose cost grows with the items' distinct counts;
* ``analysis``: the whole :func:`~callscale.scaling.analysis.analyze_pools` with its defaults (fit on
  5 samples, every law, blocks, likelihood range, the fit on all samples with 200 replicates);
* ``study``: ``analyze_pools`` on each part of the committed vote-scaling study
  (``studies/vote_scaling/pools``), as ``callscale scale --study full`` runs it (``--study-boot``).

Printed: seconds against items and the growth exponent (the log-log slope of time against items).
``--baseline-src DIR`` times the same in another checkout's ``src`` (e.g. a copy of the code before a
change) and prints the ratio.

    python bench/analysis_speed.py                                   # 1k, 3k, 10k items; the study
    python bench/analysis_speed.py --sizes 1000 3000 --what predictor --repeat 3
    python bench/analysis_speed.py --sizes 1000 --baseline-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if os.environ.get("ANALYSIS_SPEED_SRC"):  # timing another checkout (see --baseline-src)
    sys.path.insert(0, os.environ["ANALYSIS_SPEED_SRC"])
else:
    try:
        import callscale  # noqa: F401
    except ImportError:  # running from a checkout without installation
        sys.path.insert(0, str(ROOT / "src"))

from callscale.scaling.analysis import analyze_pools  # noqa: E402
from callscale.scaling.estimate import PoolItem, pool_counts, read_pool_jsonl  # noqa: E402
from callscale.scaling.predict import predict_vote_curve  # noqa: E402

SAMPLES = 32
STUDY_PARTS = ("arithmetic", "graded_arithmetic", "arc_easy_permuted")


def simulated_pool(items: int, samples: int = SAMPLES, seed: int = 0) -> list[PoolItem]:
    """Items whose correct answer has probability p ~ Beta(0.4, 0.8), the rest split among 1–4 repeated
    wrong answers and never-repeating ones, with up to 5 % abstains."""
    rng = np.random.default_rng(seed)
    pool = []
    for i in range(items):
        p = rng.beta(0.4, 0.8)
        n_wrong = int(rng.integers(1, 5))
        abstain = 0.05 * rng.random()
        shares = rng.dirichlet(np.full(n_wrong + 1, 0.7))  # repeated wrong answers, then the diffuse share
        probs = np.concatenate([[p], (1.0 - p) * shares]) * (1.0 - abstain)
        probs = np.append(probs, abstain)
        draws = rng.choice(probs.size, size=samples, p=probs / probs.sum())
        answers: list[str | None] = []
        for j, d in enumerate(draws):
            if d == 0:
                answers.append("gold")
            elif d == probs.size - 1:
                answers.append(None)
            elif d == probs.size - 2:
                answers.append(f"diffuse-{i}-{j}")
            else:
                answers.append(f"wrong-{d}")
        pool.append(PoolItem(str(i), "gold", tuple(answers)))
    return pool


def _median_time(run: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def measure(sizes: list[int], what: list[str], repeat: int, study_boot: int) -> dict[str, dict[str, list[float]]]:
    """Median seconds (and every run's) per measurement, in this process."""
    out: dict[str, dict[str, list[float]]] = {}
    for n in sizes:
        pool = simulated_pool(n)
        if "predictor" in what:
            counts = pool_counts(pool)
            ks = np.unique(np.concatenate([np.arange(1, 151), np.geomspace(151, 1001, 30).astype(int)]))
            med, runs = _median_time(lambda counts=counts, ks=ks: predict_vote_curve(counts, ks), repeat)
            out[f"predictor {n}"] = [med, *runs]
        if "analysis" in what:
            med, runs = _median_time(lambda pool=pool, n=n: analyze_pools(f"sim{n}", pool), repeat)
            out[f"analysis {n}"] = [med, *runs]
    if "study" in what:
        pools = {name: read_pool_jsonl(ROOT / "studies" / "vote_scaling" / "pools" / f"{name}.jsonl")
                 for name in STUDY_PARTS}

        def study() -> None:
            for name, pool in pools.items():
                analyze_pools(name, pool, n_boot=study_boot)

        med, runs = _median_time(study, repeat)
        out["study"] = [med, *runs]
    return out


def _slope(sizes: list[int], seconds: list[float]) -> float:
    """The growth exponent: slope of log(time) against log(items)."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]) if len(sizes) > 1 else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--what", nargs="+", choices=["predictor", "analysis", "study"],
                        default=["predictor", "analysis", "study"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the median is shown)")
    parser.add_argument("--study-boot", type=int, default=20, help="bootstrap replicates of the study's analysis")
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src directory to time too")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # used for the baseline's run
    args = parser.parse_args(argv)
    if args.json:
        print(json.dumps(measure(args.sizes, args.what, args.repeat, args.study_boot)))
        return
    mine = measure(args.sizes, args.what, args.repeat, args.study_boot)
    base = None
    if args.baseline_src is not None:
        cmd = [sys.executable, __file__, "--json", "--sizes", *map(str, args.sizes), "--what", *args.what,
               "--repeat", str(args.repeat), "--study-boot", str(args.study_boot)]
        env = os.environ | {"ANALYSIS_SPEED_SRC": str(args.baseline_src.resolve())}
        base = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    print(f"{'measurement':<22}{'median s':>10}{'runs':>28}" + (f"{'baseline s':>12}{'speed-up':>10}" if base else ""))
    for key, (med, *runs) in mine.items():
        line = f"{key:<22}{med:>10.2f}{' '.join(f'{r:.2f}' for r in runs):>28}"
        if base and key in base:
            line += f"{base[key][0]:>12.2f}{base[key][0] / med:>9.1f}×"
        print(line)
    for kind in ("predictor", "analysis"):
        pairs = [(n, mine[f"{kind} {n}"][0]) for n in args.sizes if f"{kind} {n}" in mine]
        if len(pairs) > 1:
            slope = _slope([n for n, _ in pairs], [t for _, t in pairs])
            extra = ""
            if base:
                b = [base[f"{kind} {n}"][0] for n, _ in pairs if f"{kind} {n}" in base]
                if len(b) == len(pairs):
                    extra = f" (baseline {_slope([n for n, _ in pairs], b):.2f})"
            print(f"{kind}: time ∝ items^{slope:.2f}{extra}")


if __name__ == "__main__":
    main()
