"""Benchmark: predicting the Vote scaling curve from 5 samples per item.

For simulated mixtures (items with known categorical answer distributions, M = 64 samples each drawn
with numpy) — or for a real pool given with ``--pool`` — every registered law of vote accuracy
(:mod:`callscale.scaling.laws`: ours, the shrinkage predictor, and Chen et al.'s fitted law, plus any
registered since) is fitted on the first 5 samples of every item and asked for the whole curve
K = 1..M. The reference is the *measured* curve: accuracy at every K averaged exactly over all size-K
subsets of the M samples. Printed per scenario and law: mean absolute error over K = 1..M, the best odd
K (K*) and its error, and the ratio of each law's MAE to ours; the measured
K*'s own noise (its 90 % interval when the items are resampled) and the accuracy each predicted K*
loses on the measured curve against the measured best (within the measured curve's noise when no more
than the half-width below); the measured curve's own noise (half-width of its
90 % band over item resamples, averaged over K); then how honest the uncertainty is: the share
of K where the measured curve lies in our 90 % bootstrap band, and in the 95 % likelihood range of
``callscale.scaling.bounds`` (at K = 1, 3, 9, 31 and M) with that range's width at K = M.

    python bench/scaling_prediction.py                      # simulated scenarios
    python bench/scaling_prediction.py --pool pool.jsonl    # lines {"id":..., "gold":..., "answers":[...]}
    python bench/scaling_prediction.py --pool studies/vote_scaling/pools/*.jsonl --windows
    python bench/scaling_prediction.py --pool studies/vote_scaling/pools/*.jsonl --windows --pool-items 100
    python bench/scaling_prediction.py --pool studies/vote_scaling/pools/*.jsonl --like 4

``--like N`` replaces each real pool by N simulated pools of the same size drawn from the prior fitted
on all of its samples: tasks shaped like the real ones whose answer distributions are known.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import callscale  # noqa: F401
except ImportError:  # running from a checkout without installation
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callscale.scaling.analysis import PRIMARY_LAW, range_ks
from callscale.scaling.bounds import likelihood_range
from callscale.scaling.estimate import PoolItem, item_counts, read_pool_jsonl, subset_vote_curves
from callscale.scaling.laws import ShrinkageLaw, get_law, law_names
from callscale.scaling.measured import measured_uncertainty
from callscale.scaling.prior import AnswerPrior, fit_answer_prior

Generator = Callable[[np.random.Generator], np.ndarray]
"""Returns one item's probabilities: [correct, wrong answers..., diffuse, abstain]."""


def _binary(p_easy: float, p_hard: float, alpha: float) -> Generator:
    def gen(rng: np.random.Generator) -> np.ndarray:
        p = p_easy if rng.random() < alpha else p_hard
        return np.array([p, 1.0 - p, 0.0, 0.0])

    return gen


def _multiple_choice(rng: np.random.Generator) -> np.ndarray:
    """Four options; 60% of items easy (p ~ Beta(6,3)), the rest hard (Beta(2,5)); 3% abstain."""
    pc = rng.beta(6, 3) if rng.random() < 0.6 else rng.beta(2, 5)
    wrong = rng.dirichlet([2.0, 1.0, 0.5]) * (1 - pc) * 0.97
    return np.concatenate([[pc], wrong, [0.0, (1 - pc) * 0.03]])


def _free_form(rng: np.random.Generator) -> np.ndarray:
    """Free-form answers: p ~ Beta(0.5, 0.5); one dominant wrong answer, a weaker one, and a tail of
    answers that never repeat; 5% of the non-correct mass abstains."""
    pc = rng.beta(0.5, 0.5)
    top = rng.beta(4, 2)
    second = rng.beta(1, 3) * (1 - top)
    rest = 1 - pc
    wrong = np.array([top, second]) * rest * 0.95
    return np.concatenate([[pc], wrong, [rest * 0.95 - wrong.sum(), rest * 0.05]])


def _numeric(rng: np.random.Generator) -> np.ndarray:
    """Numeric answers: p ~ Beta(1.2, 1.2); 1–7 wrong answers with Dirichlet(0.6) shares holding 70% of the
    non-correct mass, 24% never-repeating answers, 6% abstain."""
    pc = rng.beta(1.2, 1.2)
    n_wrong = int(rng.integers(1, 8))
    rest = 1 - pc
    wrong = rng.dirichlet(np.full(n_wrong, 0.6)) * rest * 0.7
    return np.concatenate([[pc], wrong, [rest * 0.24, rest * 0.06]])


def _systematic(rng: np.random.Generator) -> np.ndarray:
    """Errors that depend on difficulty, as on the real arithmetic pools: 30% of items easy (p ~ Beta(5, 2))
    whose errors scatter; hard items (p ~ Beta(0.7, 6)) mostly repeat one wrong answer; 10% abstain."""
    if rng.random() < 0.3:
        pc, top = rng.beta(5, 2), rng.beta(1, 4)
    else:
        pc, top = rng.beta(0.7, 6), rng.beta(5, 1.5)
    rest = (1 - pc) * 0.9
    wrong = np.array([top, (1 - top) * 0.3]) * rest
    return np.concatenate([[pc], wrong, [rest - wrong.sum(), (1 - pc) * 0.1]])


def _random_mixture(rng: np.random.Generator) -> tuple[str, Generator]:
    """A two-level mixture drawn from a broad family: easy and hard items with beta-distributed p(correct)
    (means in [.5, .92] and [.08, .45], concentrations 2–40), 1–9 wrong answers with Dirichlet shares,
    optionally never-repeating answers, and up to 10% abstains."""
    alpha = rng.uniform(0.2, 0.8)

    def beta_params(lo: float, hi: float) -> tuple[float, float]:
        mean, size = rng.uniform(lo, hi), float(np.exp(rng.uniform(np.log(2), np.log(40))))
        return mean * size, (1 - mean) * size

    easy, hard = beta_params(0.5, 0.92), beta_params(0.08, 0.45)
    n_wrong = int(rng.choice([1, 2, 3, 5, 9]))
    conc = float(rng.choice([0.3, 1.0, 3.0]))
    diffuse = rng.uniform(0, 0.4) if rng.random() < 0.5 else 0.0
    abstain = rng.uniform(0, 0.1)

    def gen(r: np.random.Generator) -> np.ndarray:
        a, b = easy if r.random() < alpha else hard
        pc = r.beta(a, b)
        rest = 1 - pc
        wrong = r.dirichlet(np.full(n_wrong, conc)) * rest * (1 - diffuse - abstain)
        return np.concatenate([[pc], wrong, [rest * diffuse, rest * abstain]])

    name = f"a={alpha:.2f} {n_wrong}w/{conc:g} d={diffuse:.2f}"
    return name, gen


SCENARIOS: dict[str, Generator] = {
    "paper inverse-U (.5,.85,.4)": _binary(0.85, 0.4, 0.5),
    "paper U (.5,.65,.1)": _binary(0.65, 0.1, 0.5),
    "multiple choice": _multiple_choice,
    "free-form": _free_form,
    "numeric": _numeric,
    "systematic errors": _systematic,
}


def prior_generator(prior: AnswerPrior) -> Generator:
    """Items drawn from a fitted prior: a grid point (p, wrong-answer profile) by its weight and an
    abstain rate from the prior's beta law."""
    p, wrong, diffuse = prior.grid_distributions()
    weights = prior.weights.ravel() / prior.weights.sum()

    def gen(rng: np.random.Generator) -> np.ndarray:
        g = rng.choice(weights.size, p=weights)
        if prior.abstain_a <= 0:  # nobody abstains
            abstain = 0.0
        elif prior.abstain_b <= 0:  # everybody does
            abstain = 1.0
        else:
            abstain = float(rng.beta(prior.abstain_a, prior.abstain_b))
        probs = np.concatenate([[p[g]], wrong[g], [diffuse[g], 0.0]]) * (1.0 - abstain)
        probs[-1] = abstain
        return probs

    return gen


def simulate_pool(gen: Generator, n_items: int, n_samples: int, rng: np.random.Generator) -> list[PoolItem]:
    """Draw ``n_samples`` answers per item; diffuse draws become unique strings, abstains ``None``."""
    pool = []
    for i in range(n_items):
        probs = gen(rng)
        n_wrong = probs.size - 3
        draws = rng.choice(probs.size, size=n_samples, p=probs / probs.sum())
        answers: list[str | None] = []
        for t, d in enumerate(draws):
            if d == 0:
                answers.append("gold")
            elif d <= n_wrong:
                answers.append(f"wrong{d}")
            elif d == n_wrong + 1:
                answers.append(f"unique{i}-{t}")
            else:
                answers.append(None)
        pool.append(PoolItem(str(i), "gold", tuple(answers)))
    return pool


@dataclass(frozen=True)
class LawScore:
    """How one law did on one scenario: its MAE against the measured curve, its best odd K (with its
    band where it has one), the accuracy that K loses on the measured curve, and how often the measured
    curve lies in its band (laws with one)."""

    short: str
    mae: float
    k_star: int
    k_lo: int | None
    k_hi: int | None
    loss: float
    coverage: float | None


@dataclass(frozen=True)
class Row:
    name: str
    laws: tuple[LawScore, ...]
    k_meas: int
    k_meas_lo: int
    k_meas_hi: int
    range_coverage: float
    range_width: float
    measured_halfwidth: float
    seconds: float


def vote_laws() -> list[str]:
    """The registered laws of vote accuracy, ours first (the one whose prior the likelihood range uses)."""
    names = [n for n in law_names() if get_law(n).target == "vote"]
    return [PRIMARY_LAW, *(n for n in names if n != PRIMARY_LAW)]


def evaluate(name: str, pool: list[PoolItem], n_fit: int, n_boot: int, seed: int, offset: int = 0) -> Row:
    """Fit every vote law on samples ``offset … offset + n_fit − 1`` of every item (the first ``n_fit``
    by default), compare with the exact measured curve over all M samples."""
    m = min(len(item.answers) for item in pool)
    if m <= n_fit:
        raise ValueError(f"{name}: need more than {n_fit} samples per item, found {m}")
    ks = np.arange(1, m + 1)
    odd = ks[ks % 2 == 1]
    per_item = subset_vote_curves([item_counts(item.answers[:m], item.gold) for item in pool], ks)
    measured = per_item.mean(axis=0)
    k_meas = int(odd[np.argmax(measured[odd - 1])])
    best = float(measured[k_meas - 1])
    scores, seconds, primary = [], 0.0, None
    for law_name in vote_laws():
        start = time.perf_counter()
        law = get_law(law_name)(fit_on=n_fit, offset=offset, seed=seed, n_boot=n_boot).fit(pool)
        curve = law.predict(ks)
        lo, hi = law.band(ks)
        k_star = law.best_k(ks, among=odd)
        if law_name == PRIMARY_LAW:
            seconds, primary = time.perf_counter() - start, law
        covered = float(np.mean((measured >= lo) & (measured <= hi))) if law.has_band else None
        scores.append(LawScore(law.short, float(np.mean(np.abs(curve - measured))), k_star.k, k_star.lo, k_star.hi,
                               best - float(measured[k_star.k - 1]), covered))
    assert isinstance(primary, ShrinkageLaw)
    range_k = np.array(range_ks(m, m))
    identified = likelihood_range(primary.counts_, range_k, prior=primary.prior_)
    at = measured[range_k - 1]
    range_coverage = float(np.mean((at >= identified.lo - 1e-9) & (at <= identified.hi + 1e-9)))
    # The measured curve is itself noisy (which items were drawn, how their samples fell): 90 % over item resamples.
    noise = measured_uncertainty(per_item, ks, n_boot=200, seed=seed, k_star_candidates=odd)
    return Row(name, tuple(scores), k_meas, noise.k_star_lo, noise.k_star_hi, range_coverage,
               float(identified.width()[-1]), float(np.mean(noise.hi - noise.lo) / 2), seconds)


def _columns(rows: list[Row]) -> list[tuple[str, int, Callable[[Row], str]]]:
    """(header, width, cell) of every column: per law MAE, ratio to ours, best K, its distance to the
    measured one, the accuracy it loses, and band coverage."""
    laws = rows[0].laws
    first, others = laws[0], range(1, len(laws))
    banded = [i for i, s in enumerate(laws) if s.coverage is not None]
    cols: list[tuple[str, int, Callable[[Row], str]]] = [("scenario", -30, lambda r: r.name)]
    cols += [(f"MAE {s.short}", 9, lambda r, i=i: f"{r.laws[i].mae:.4f}") for i, s in enumerate(laws)]
    cols += [("ratio" if len(laws) == 2 else f"{laws[i].short}/{first.short}", 6,
              lambda r, i=i: f"{r.laws[i].mae / r.laws[0].mae:.2f}") for i in others]
    cols.append(("K* meas [90%]", 14, lambda r: f"{r.k_meas} [{r.k_meas_lo},{r.k_meas_hi}]"))
    cols += [(f"K* {s.short} [band]", 16, lambda r, i=i: f"{r.laws[i].k_star} [{r.laws[i].k_lo},{r.laws[i].k_hi}]")
             if s.k_lo is not None else (f"K* {s.short}", 8, lambda r, i=i: f"{r.laws[i].k_star:d}")
             for i, s in enumerate(laws)]
    cols += [(f"|dK*| {s.short}", 11, lambda r, i=i: f"{abs(r.laws[i].k_star - r.k_meas):d}") for i, s in enumerate(laws)]
    cols += [(f"lost {s.short}", 9, lambda r, i=i: f"{r.laws[i].loss:.4f}") for i, s in enumerate(laws)]
    cols += [("band cov" if len(banded) == 1 else f"cov {laws[i].short}", 9,
              lambda r, i=i: f"{r.laws[i].coverage:.2f}") for i in banded]
    cols += [("range cov", 9, lambda r: f"{r.range_coverage:.2f}"), ("width@M", 8, lambda r: f"{r.range_width:.3f}"),
             ("meas ±", 7, lambda r: f"{r.measured_halfwidth:.4f}")]
    return cols


def _cell(text: str, width: int) -> str:
    return f"{text:<{-width}}" if width < 0 else f"{text:>{width}}"


def print_table(rows: list[Row], n_fit: int) -> None:
    print(f"Vote curve K = 1..M predicted from {n_fit} samples per item (the first, or those from @offset on)")
    print("reference: exact averages over all size-K subsets of the M samples; K* over odd K")
    cols = _columns(rows)
    header = " ".join(_cell(h, w) for h, w, _ in cols)
    print(header)
    print("-" * len(header))
    for r in rows:
        print(" ".join(_cell(cell(r), w) for _, w, cell in cols))
    laws = rows[0].laws
    n = len(laws)
    mean_mae = [float(np.mean([r.laws[i].mae for r in rows])) for i in range(n)]
    ours = laws[0].short
    print("-" * len(header))
    print(" ".join([f"{'mean':<30}", *(f"{v:>9.4f}" for v in mean_mae),
                    *(f"{mean_mae[i] / mean_mae[0]:>6.2f}" for i in range(1, n))]))
    print("; ".join(f"MAE ratio {laws[i].short} / {ours} = {mean_mae[i] / mean_mae[0]:.2f}; {ours} lower in "
                    f"{sum(r.laws[0].mae < r.laws[i].mae for r in rows)} of {len(rows)} scenarios" for i in range(1, n)))

    def counted(test: Callable[[Row, LawScore], bool]) -> str:
        return ", ".join(f"{s.short} {sum(test(r, r.laws[i]) for r in rows)}" for i, s in enumerate(laws))

    def averaged(value: Callable[[LawScore], float]) -> str:
        return ", ".join(f"{s.short} {np.mean([value(r.laws[i]) for r in rows]):.4f}" for i, s in enumerate(laws))

    print(f"predicted K* inside the measured K*'s 90 % interval (items resampled): "
          f"{counted(lambda r, s: r.k_meas_lo <= s.k_star <= r.k_meas_hi)} of {len(rows)}; accuracy lost by using it "
          f"instead of the measured best: {averaged(lambda s: s.loss)} on average")
    within = counted(lambda r, s: s.loss <= r.measured_halfwidth)
    print(
        f"predicted K* within the measured curve's noise (accuracy it loses on the measured curve no more than the "
        f"curve's own 'meas ±'): {within} of {len(rows)}"
    )
    print(
        f"the measured curve's own noise (mean half-width of its 90 % band over item resamples, column 'meas ±'): "
        f"{np.mean([r.measured_halfwidth for r in rows]):.4f} on average: how well these items pin down the task's own "
        "curve, against which any prediction can only be checked this closely"
    )
    bands = ", ".join(f"the 90 % band of {s.short} at {np.mean([r.laws[i].coverage for r in rows]):.0%} of K"
                      for i, s in enumerate(laws) if s.coverage is not None)
    print(f"measured curve inside: {bands}, "
          f"the 95 % likelihood range at {np.mean([r.range_coverage for r in rows]):.0%} of the K checked")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pool", type=Path, nargs="+", help="JSONL pools to evaluate instead of the simulated scenarios")
    parser.add_argument(
        "--windows",
        action="store_true",
        help="with --pool: fit on every disjoint block of --fit samples in turn, not only the first "
        "(which block is drawn first is chance; one block is a single noisy draw)",
    )
    parser.add_argument(
        "--like",
        type=int,
        metavar="N",
        help="with --pool: evaluate on N pools simulated from the prior fitted on all of each pool's samples "
        "(same items × samples; the task shaped like the real one, its truth known) instead of the pool",
    )
    parser.add_argument("--items", type=int, default=500, help="items per simulated scenario")
    parser.add_argument(
        "--pool-items",
        type=int,
        help="with --pool: use only the first N items of each pool (the shrinkage predictor learns its prior "
        "across items, so its error depends on how many there are; Chen's law fits each item alone)",
    )
    parser.add_argument("--samples", type=int, default=64, help="samples per item (M) in simulations")
    parser.add_argument("--fit", type=int, default=5, help="samples per item used for fitting")
    parser.add_argument("--boot", type=int, default=100, help="bootstrap replicates for the bands")
    parser.add_argument("--random", type=int, default=6, help="random mixtures from the broad family")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = []
    if args.pool is not None:
        for path in args.pool:
            pool = read_pool_jsonl(path)
            if args.pool_items is not None:
                if not 0 < args.pool_items <= len(pool):
                    parser.error(f"--pool-items {args.pool_items}: {path} has {len(pool)} items")
                pool = pool[: args.pool_items]
            m = min(len(item.answers) for item in pool)
            if args.like is not None:
                if args.like < 1:
                    parser.error(f"--like {args.like}: at least one simulated pool")
                gen = prior_generator(fit_answer_prior([item_counts(i.answers[:m], i.gold) for i in pool]))
                for r in range(args.like):
                    like = simulate_pool(gen, len(pool), m, np.random.default_rng(args.seed * 1000 + r))
                    rows.append(evaluate(f"{path.stem} like #{r}", like, args.fit, args.boot, args.seed))
                continue
            offsets = range(0, m - args.fit + 1, args.fit) if args.windows else [0]
            for offset in offsets:
                name = f"{path.stem} @{offset}" if args.windows else path.stem
                rows.append(evaluate(name, pool, args.fit, args.boot, args.seed, offset))
    else:
        scenarios = list(SCENARIOS.items())
        family = np.random.default_rng(10_000 + args.seed)
        scenarios += [_random_mixture(family) for _ in range(args.random)]
        for i, (name, gen) in enumerate(scenarios):
            rng = np.random.default_rng(args.seed * 1000 + i)
            pool = simulate_pool(gen, args.items, args.samples, rng)
            rows.append(evaluate(name, pool, args.fit, args.boot, args.seed))
    print_table(rows, args.fit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
