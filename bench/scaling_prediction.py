"""Benchmark: predicting the Vote scaling curve from 5 samples per item, every registered law side by side.

For simulated mixtures (items with known categorical answer distributions, M = 64 samples each drawn
with numpy) — or for a real pool given with ``--pool`` — every registered law
(:mod:`callscale.scaling.laws`, taken from the registry: ours, the shrinkage predictor; Chen et al.'s
fitted law; the beta-binomial law; the coverage laws) is fitted on the first 5 samples of every item
and asked for the whole curve K = 1..M: vote laws for vote accuracy, coverage laws for pass@k. The
reference is the *true* curve for simulated items (exact, from their answer distributions) and the
*measured* curve for real pools (accuracy at every K averaged exactly over all size-K subsets of the
M samples; coverage by unbiased pass@k). Printed per scenario and vote law: mean absolute error over
K = 1..M, the best odd K (K*) and its error, and the ratio of each law's MAE to ours; the measured
K*'s own noise (its 90 % interval when the items are resampled) and the accuracy each predicted K*
loses on the measured curve against the measured best (within the measured curve's noise when no more
than the half-width below); the measured curve's own noise (half-width of its 90 % band over item
resamples, averaged over K); then how honest the uncertainty is: the share of K where the reference
lies in each law's 90 % band, before and after calibration (``raw>calibrated``), and in the 95 %
likelihood range of ``callscale.scaling.bounds`` (at K = 1, 3, 9, 31 and M) with that range's width
at K = M. A last table puts every registered law side by side per task and overall (MAE, band
coverage raw > calibrated).

Calibration: a law's band is its raw 90 % band with each half-width (around the predicted curve)
multiplied by the law's ``BAND_SCALE``. For each law the table ends with the factor that would hold
the calibration reference at 90 % of all (row, K): the 90 % quantile over (row, K) of
|reference − curve| / raw half-width on that side. The reference is the truth for simulated items
and, on real pools, the curve measured on the samples *held out* of the fit (the M − 5 others, K ≤
M − 5), so the factor is fitted on samples the law never saw. The ``BAND_SCALE`` values in use were
fitted on the real pools' blocks (``--windows``) and checked on the simulated mixtures and on pools
simulated like the real ones (``--like``).

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
from callscale.scaling.estimate import PoolItem, coverage_curve, item_counts, read_pool_jsonl, subset_vote_curves
from callscale.scaling.laws import CannotFit, ShrinkageLaw, get_law, law_names
from callscale.scaling.measured import measured_uncertainty
from callscale.scaling.prior import AnswerPrior, fit_answer_prior
from callscale.scaling.theory import vote_accuracy_curves

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


def simulate_pool(gen: Generator, n_items: int, n_samples: int, rng: np.random.Generator,
                  truth: list[np.ndarray] | None = None) -> list[PoolItem]:
    """Draw ``n_samples`` answers per item; diffuse draws become unique strings, abstains ``None``. Each
    item's probabilities are appended to ``truth`` when given."""
    pool = []
    for i in range(n_items):
        probs = gen(rng)
        if truth is not None:
            truth.append(probs)
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
class Truth:
    """The exact curves of simulated items (their answer distributions are known): vote accuracy and
    coverage (pass@k) at K = 1..M, averaged over the items."""

    vote: np.ndarray
    coverage: np.ndarray


def true_curves(probs: list[np.ndarray], m: int) -> Truth:
    """The exact vote and coverage curves at K = 1..m of items with probabilities [correct, wrong...,
    diffuse, abstain]."""
    width = max(v.size - 3 for v in probs)
    pc = np.array([v[0] / v.sum() for v in probs])
    wrong = np.zeros((len(probs), max(width, 1)))
    for i, v in enumerate(probs):
        wrong[i, : v.size - 3] = v[1:-2] / v.sum()
    diffuse = np.array([v[-2] / v.sum() for v in probs])
    abstain = np.clip(1.0 - pc - wrong.sum(axis=1) - diffuse, 0.0, None)
    vote = vote_accuracy_curves(pc, wrong, m, p_abstain=abstain, p_diffuse=diffuse).mean(axis=0)
    ks = np.arange(1, m + 1)
    coverage = 1.0 - np.mean((1.0 - pc[:, None]) ** ks[None, :], axis=0)
    return Truth(vote, coverage)


@dataclass(frozen=True)
class LawScore:
    """How one law did on one scenario: its MAE against the reference curve, its best odd K (with its
    band where it has one; vote laws), the accuracy that K loses on the measured curve, how often the
    reference lies in its 90 % band before (``raw``) and after (``coverage``) calibration (laws with a
    band), and per K the factor its raw half-width needs to hold the calibration reference (``needed``)."""

    short: str
    target: str
    mae: float
    k_star: int
    k_lo: int | None
    k_hi: int | None
    loss: float
    coverage: float | None
    raw: float | None = None
    needed: tuple[float, ...] = ()
    needed_ref: tuple[float, ...] = ()


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
    task: str = ""

    @property
    def vote(self) -> tuple[LawScore, ...]:
        """The scores of the vote laws (ours first)."""
        return tuple(s for s in self.laws if s.target == "vote")

    @property
    def cover(self) -> tuple[LawScore, ...]:
        """The scores of the coverage (pass@k) laws."""
        return tuple(s for s in self.laws if s.target != "vote")


def vote_laws() -> list[str]:
    """The registered laws of vote accuracy, ours first (the one whose prior the likelihood range uses)."""
    names = [n for n in law_names() if get_law(n).target == "vote"]
    return [PRIMARY_LAW, *(n for n in names if n != PRIMARY_LAW)]


def all_laws() -> list[str]:
    """Every registered law: the vote laws (ours first), then the coverage laws."""
    return [*vote_laws(), *(n for n in law_names() if get_law(n).target != "vote")]


def needed_scale(ref: np.ndarray, mean: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per K, the factor on the raw band's half-width (around ``mean``) at which it just holds ``ref``
    (0 where the curve itself does; inf where the band has no width on the needed side)."""
    gap = ref - mean
    width = np.where(gap >= 0, hi - mean, mean - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.abs(gap) <= 1e-12, 0.0, np.abs(gap) / width)
    return np.asarray(np.where(np.isnan(out), np.inf, out), dtype=float)


def _inside(ref: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    return float(np.mean((ref >= lo - 1e-12) & (ref <= hi + 1e-12)))


def evaluate(name: str, pool: list[PoolItem], n_fit: int, n_boot: int, seed: int, offset: int = 0,
             truth: Truth | None = None, task: str = "") -> Row:
    """Fit every registered law on samples ``offset … offset + n_fit − 1`` of every item (the first
    ``n_fit`` by default); compare vote laws with the vote curve and coverage laws with the coverage
    (pass@k) curve at K = 1..M: the ``truth`` when known (simulated items), else the exact measured
    curve over all M samples. The factor each band needs is measured against the truth, or on a real
    pool against the curve of the samples held out of the fit (K ≤ M − n_fit)."""
    m = min(len(item.answers) for item in pool)
    if m <= n_fit:
        raise ValueError(f"{name}: need more than {n_fit} samples per item, found {m}")
    ks = np.arange(1, m + 1)
    odd = ks[ks % 2 == 1]
    counts = [item_counts(item.answers[:m], item.gold) for item in pool]
    per_item = subset_vote_curves(counts, ks)
    measured = per_item.mean(axis=0)
    k_meas = int(odd[np.argmax(measured[odd - 1])])
    best = float(measured[k_meas - 1])
    if truth is not None:
        reference = {"vote": truth.vote, "coverage": truth.coverage}
        held_out = reference
    else:
        reference = {"vote": measured, "coverage": coverage_curve(counts, ks)}
        rest = [item_counts(item.answers[:offset] + item.answers[offset + n_fit : m], item.gold) for item in pool]
        kh = np.arange(1, m - n_fit + 1)
        held_out = {"vote": subset_vote_curves(rest, kh).mean(axis=0), "coverage": coverage_curve(rest, kh)}
    scores, seconds, primary = [], 0.0, None
    for law_name in all_laws():
        start = time.perf_counter()
        cls = get_law(law_name)
        try:
            law = cls(fit_on=n_fit, offset=offset, seed=seed, n_boot=n_boot, band_scale=1.0).fit(pool)
        except CannotFit:
            continue
        curve = law.predict(ks)
        ref = reference[law.target]
        raw = covered = None
        needed: tuple[float, ...] = ()
        needed_ref: tuple[float, ...] = ()
        if law.has_band:
            lo, hi = law.band(ks)
            raw = _inside(ref, lo, hi)
            check = held_out[law.target]
            needed = tuple(needed_scale(check, curve[: check.size], lo[: check.size], hi[: check.size]).tolist())
            needed_ref = tuple(needed_scale(ref, curve, lo, hi).tolist())
            law.band_scale = None  # the calibrated band
            lo, hi = law.band(ks)
            covered = _inside(ref, lo, hi)
        k_star = law.best_k(ks, among=odd)
        if law_name == PRIMARY_LAW:
            seconds, primary = time.perf_counter() - start, law
        scores.append(LawScore(law.short, law.target, float(np.mean(np.abs(curve - ref))), k_star.k, k_star.lo,
                               k_star.hi, best - float(measured[k_star.k - 1]), covered, raw, needed,
                               needed_ref))
    assert isinstance(primary, ShrinkageLaw)
    range_k = np.array(range_ks(m, m))
    identified = likelihood_range(primary.counts_, range_k, prior=primary.prior_)
    at = measured[range_k - 1]
    range_coverage = float(np.mean((at >= identified.lo - 1e-9) & (at <= identified.hi + 1e-9)))
    # The measured curve is itself noisy (which items were drawn, how their samples fell): 90 % over item resamples.
    noise = measured_uncertainty(per_item, ks, n_boot=200, seed=seed, k_star_candidates=odd)
    return Row(name, tuple(scores), k_meas, noise.k_star_lo, noise.k_star_hi, range_coverage,
               float(identified.width()[-1]), float(np.mean(noise.hi - noise.lo) / 2), seconds, task or name)


def _columns(rows: list[Row]) -> list[tuple[str, int, Callable[[Row], str]]]:
    """(header, width, cell) of every column: per vote law MAE, ratio to ours, best K, its distance to
    the measured one, the accuracy it loses, and band coverage before → after calibration."""
    laws = rows[0].vote
    first, others = laws[0], range(1, len(laws))
    banded = [i for i, s in enumerate(laws) if s.coverage is not None]
    cols: list[tuple[str, int, Callable[[Row], str]]] = [("scenario", -30, lambda r: r.name)]
    cols += [(f"MAE {s.short}", 9, lambda r, i=i: f"{r.vote[i].mae:.4f}") for i, s in enumerate(laws)]
    cols += [("ratio" if len(laws) == 2 else f"{laws[i].short}/{first.short}", 6,
              lambda r, i=i: f"{r.vote[i].mae / r.vote[0].mae:.2f}") for i in others]
    cols.append(("K* meas [90%]", 14, lambda r: f"{r.k_meas} [{r.k_meas_lo},{r.k_meas_hi}]"))
    cols += [(f"K* {s.short} [band]", 16, lambda r, i=i: f"{r.vote[i].k_star} [{r.vote[i].k_lo},{r.vote[i].k_hi}]")
             if s.k_lo is not None else (f"K* {s.short}", 8, lambda r, i=i: f"{r.vote[i].k_star:d}")
             for i, s in enumerate(laws)]
    cols += [(f"|dK*| {s.short}", 11, lambda r, i=i: f"{abs(r.vote[i].k_star - r.k_meas):d}") for i, s in enumerate(laws)]
    cols += [(f"lost {s.short}", 9, lambda r, i=i: f"{r.vote[i].loss:.4f}") for i, s in enumerate(laws)]
    cols += [(f"cov {laws[i].short}", 10, lambda r, i=i: f"{r.vote[i].raw:.2f}>{r.vote[i].coverage:.2f}")
             for i in banded]
    cols += [("range cov", 9, lambda r: f"{r.range_coverage:.2f}"), ("width@M", 8, lambda r: f"{r.range_width:.3f}"),
             ("meas ±", 7, lambda r: f"{r.measured_halfwidth:.4f}")]
    return cols


def _cell(text: str, width: int) -> str:
    return f"{text:<{-width}}" if width < 0 else f"{text:>{width}}"


def _share(values: list[float]) -> str:
    return f"{np.mean(values):.0%}" if values else "—"


def print_laws_side_by_side(rows: list[Row]) -> None:
    """Every registered law, per task and overall: MAE against the reference curve and the share of K at
    which its 90 % band holds the reference, raw → calibrated; for banded laws the factor on the raw
    half-width that holds the calibration reference at 90 % of (row, K)."""
    names = [s.short for s in rows[0].laws]
    tasks = list(dict.fromkeys(r.task for r in rows))
    print()
    print("every registered law side by side (vote laws against the vote curve, coverage laws against pass@k; "
          "band: share of K inside the 90 % band, raw > calibrated)")
    header = f"{'task':<30} {'rows':>4} " + " ".join(f"{'MAE ' + n:>13} {'band ' + n:>15}" for n in names)
    print(header)
    print("-" * len(header))
    for group, label in [*(([r for r in rows if r.task == t], t) for t in tasks), (rows, "overall")]:
        cells = []
        for i, _ in enumerate(names):
            scores = [r.laws[i] for r in group if i < len(r.laws)]
            mae = np.mean([s.mae for s in scores])
            raw = [s.raw for s in scores if s.raw is not None]
            calibrated = [s.coverage for s in scores if s.coverage is not None]
            band = f"{_share(raw)}>{_share(calibrated)}" if calibrated else "—"
            cells.append(f"{mae:>13.4f} {band:>15}")
        if label == "overall":
            print("-" * len(header))
        print(f"{label[:30]:<30} {len(group):>4} " + " ".join(cells))
    factors, held = [], []
    for i, n in enumerate(names):
        needed = np.concatenate([np.asarray(r.laws[i].needed) for r in rows]) if rows[0].laws[i].raw is not None else None
        if needed is not None and needed.size:
            cls = next(get_law(x) for x in all_laws() if get_law(x).short == n)
            factors.append(f"{n} {np.quantile(needed, 0.9):.2f} (in use: {cls.BAND_SCALE:g})")
            held.append(f"{n} {np.mean(needed <= 1.0):.0%}>{np.mean(needed <= cls.BAND_SCALE):.0%}")
    if factors:
        grid = (1.0, 1.2, 1.4, 1.6, 2.0, 3.0)
        print("share of (row, K) inside the band with its raw half-width times " + ", ".join(f"{c:g}" for c in grid)
              + ": against the reference curve | against the calibration reference")
        for i, n in enumerate(names):
            if rows[0].laws[i].raw is None:
                continue
            ref = np.concatenate([np.asarray(r.laws[i].needed_ref) for r in rows])
            cal = np.concatenate([np.asarray(r.laws[i].needed) for r in rows])
            print(f"  {n:<10} " + " ".join(f"{np.mean(ref <= c):4.0%}" for c in grid) + " | "
                  + " ".join(f"{np.mean(cal <= c):4.0%}" for c in grid))
        print("calibration reference (the truth; on real pools the curve of the samples held out of the fit) inside "
              f"the 90 % band, raw > calibrated: {', '.join(held)}")
        print("factor on the raw band's half-width that holds the calibration reference at 90 % of (row, K): "
              f"{', '.join(factors)}")


def print_table(rows: list[Row], n_fit: int) -> None:
    print(f"Vote curve K = 1..M predicted from {n_fit} samples per item (the first, or those from @offset on)")
    print("reference: the exact true curve of simulated items; on real pools exact averages over all size-K "
          "subsets of the M samples; K* over odd K (measured)")
    cols = _columns(rows)
    header = " ".join(_cell(h, w) for h, w, _ in cols)
    print(header)
    print("-" * len(header))
    for r in rows:
        print(" ".join(_cell(cell(r), w) for _, w, cell in cols))
    laws = rows[0].vote
    n = len(laws)
    mean_mae = [float(np.mean([r.vote[i].mae for r in rows])) for i in range(n)]
    ours = laws[0].short
    print("-" * len(header))
    print(" ".join([f"{'mean':<30}", *(f"{v:>9.4f}" for v in mean_mae),
                    *(f"{mean_mae[i] / mean_mae[0]:>6.2f}" for i in range(1, n))]))
    print("; ".join(f"MAE ratio {laws[i].short} / {ours} = {mean_mae[i] / mean_mae[0]:.2f}; {ours} lower in "
                    f"{sum(r.vote[0].mae < r.vote[i].mae for r in rows)} of {len(rows)} scenarios" for i in range(1, n)))

    def counted(test: Callable[[Row, LawScore], bool]) -> str:
        return ", ".join(f"{s.short} {sum(test(r, r.vote[i]) for r in rows)}" for i, s in enumerate(laws))

    def averaged(value: Callable[[LawScore], float]) -> str:
        return ", ".join(f"{s.short} {np.mean([value(r.vote[i]) for r in rows]):.4f}" for i, s in enumerate(laws))

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
    bands = ", ".join(f"the 90 % band of {s.short} at {np.mean([r.vote[i].raw for r in rows]):.0%} of K "
                      f"({np.mean([r.vote[i].coverage for r in rows]):.0%} calibrated)"
                      for i, s in enumerate(laws) if s.coverage is not None)
    print(f"reference curve inside: {bands}, "
          f"the 95 % likelihood range (measured curve) at {np.mean([r.range_coverage for r in rows]):.0%} of the K checked")
    print_laws_side_by_side(rows)


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
                    probs: list[np.ndarray] = []
                    like = simulate_pool(gen, len(pool), m, np.random.default_rng(args.seed * 1000 + r), probs)
                    rows.append(evaluate(f"{path.stem} like #{r}", like, args.fit, args.boot, args.seed,
                                         truth=true_curves(probs, m), task=f"{path.stem} like"))
                continue
            offsets = range(0, m - args.fit + 1, args.fit) if args.windows else [0]
            for offset in offsets:
                name = f"{path.stem} @{offset}" if args.windows else path.stem
                rows.append(evaluate(name, pool, args.fit, args.boot, args.seed, offset, task=path.stem))
    else:
        scenarios = list(SCENARIOS.items())
        family = np.random.default_rng(10_000 + args.seed)
        scenarios += [_random_mixture(family) for _ in range(args.random)]
        for i, (name, gen) in enumerate(scenarios):
            rng = np.random.default_rng(args.seed * 1000 + i)
            probs = []
            pool = simulate_pool(gen, args.items, args.samples, rng, probs)
            rows.append(evaluate(name, pool, args.fit, args.boot, args.seed, truth=true_curves(probs, args.samples),
                                 task="simulated mixtures"))
    print_table(rows, args.fit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
