"""A paper-scale simulated benchmark of the AgentTTS setting: retrieval, then question answering.

Two stages with AgentTTS's prompt/decode lengths (retrieval 2048/128, QA 256/64), candidate models
of 3B, 7B, 14B, 32B and 72B parameters (nominal Qwen2.5 sizes, so α = params / 3e9 is 1, 7/3, 14/3,
32/3 and 24 as in the paper), 1–50 samples per stage, and the paper's budgets 500, 850, 900, 2000.
Every stage draws ``S`` samples and fuses them with one more call of the same model.

The quality model is mechanistic rather than a curve to be fitted (``x`` is the model's log size
scaled to [0, 1]):

* **Retrieval** must surface two gold passages. One sample finds a passage with probability
  ``h(x)`` (strongly size dependent); samples are correlated (effective draws ``1 + ρ_r·(S−1)``);
  the fusion call keeps what the samples found with a fidelity that falls as the ``S·128`` draft
  tokens outgrow the model's context handling. Recall is the chance both passages survive.
* **QA** items either have their evidence retrieved (probability ``R``, the retrieval recall) or not.
  Per-sample accuracy is only mildly size dependent, but small models' samples are diverse while
  large models' are correlated, so coverage (pass@k) grows fastest for small models. Fusion picks
  the right answer from the candidates with a fidelity that falls with ``S·64`` draft tokens, else
  behaves like one sample. The end-to-end score is the QA accuracy.

It exhibits the three AgentTTS findings (tested): (1) retrieval prefers the largest affordable
model, QA the small models with many samples; (2) every stage has a best sample count beyond which
quality falls (fusion bottleneck); (3) weaker retrieval moves the QA optimum to more samples.

``task_seed`` perturbs the hidden constants (a different but similar task); ``noise`` adds a
deterministic per-configuration error to training scores, as a fixed 50-item split would.

Example:
    >>> bench = AgentTTSBenchmark()
    >>> opt = bench.optimum(900)
    >>> opt.config.key, round(opt.score, 4)
    ('[["72B",2],["3B",8]]', 0.7971)
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np

from callscale.records import ModelCard
from callscale.search.budget import Number, as_fraction
from callscale.search.environments.base import CurveEstimate, StagesOfSpace, TrialResult
from callscale.search.space import Choice, Config, Space, Stage

PAPER_BUDGETS: tuple[int, ...] = (500, 850, 900, 2000)
"""The total budgets the AgentTTS benchmark is searched at."""

MODEL_SIZES_B: tuple[int, ...] = (3, 7, 14, 32, 72)
RETRIEVAL_TOKENS = (2048, 128)
QA_TOKENS = (256, 64)
DEFAULT_PROBE_SAMPLES: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40, 50)


def qwen_like_models() -> tuple[ModelCard, ...]:
    """Model cards named ``3B`` … ``72B`` with nominal parameter counts (α = params / 3e9 exact).

    Example:
        >>> [m.params // 10**9 for m in qwen_like_models()]
        [3, 7, 14, 32, 72]
    """
    return tuple(ModelCard(f"{b}B", b * 1_000_000_000) for b in MODEL_SIZES_B)


def agentts_space(max_samples: int = 50, models: Sequence[ModelCard] | None = None) -> Space:
    """The two-stage AgentTTS space (retrieval 2048/128, QA 256/64) with 1..``max_samples`` samples.

    Example:
        >>> agentts_space().size
        62500
    """
    cards = tuple(models) if models is not None else qwen_like_models()
    samples = range(1, max_samples + 1)
    return Space(
        (
            Stage("retrieval", cards, samples, *RETRIEVAL_TOKENS),
            Stage("qa", cards, samples, *QA_TOKENS),
        )
    )


@dataclass(frozen=True)
class SimulatedParams:
    """Hidden constants of the simulated task (see the module docstring for their meaning).

    Example:
        >>> AgentTTSBenchmark(params=SimulatedParams(hit1=0.3)).params.hit1
        0.3
    """

    # retrieval
    hit0: float = 0.36
    hit1: float = 0.56
    rho_r: float = 0.15
    ctx_r0: float = 300.0
    ctx_r1: float = 1200.0
    shape_r: float = 1.5
    keep0: float = 0.93
    keep1: float = 0.05
    # QA
    answerable_ev: float = 0.95
    acc_ev0: float = 0.40
    acc_ev1: float = 0.20
    answerable_cb0: float = 0.45
    answerable_cb1: float = 0.05
    acc_cb0: float = 0.10
    acc_cb1: float = 0.10
    rho_q0: float = 1.0
    rho_q1: float = 1.1
    rho_q_min: float = 0.1
    ctx_q: float = 2400.0
    shape_q: float = 1.3

    def jittered(self, seed: int, scale: float = 0.05) -> SimulatedParams:
        """A similar task: every constant multiplied by ``exp(scale·N(0,1))`` (probabilities capped).

        Example:
            >>> SimulatedParams().jittered(1).hit0 != SimulatedParams().hit0
            True
        """
        rng = random.Random(seed)
        values = {}
        for f in fields(self):
            v = getattr(self, f.name) * math.exp(scale * rng.gauss(0.0, 1.0))
            values[f.name] = min(v, 0.99) if f.name in _PROBABILITIES else v
        return replace(self, **values)


_PROBABILITIES = {"answerable_ev", "keep0", "answerable_cb0", "hit0", "acc_ev0", "acc_cb0"}


def _fidelity(samples: np.ndarray, draft_tokens: int, capacity: float, shape: float) -> np.ndarray:
    return 1.0 / (1.0 + (np.maximum(samples - 1, 0) * draft_tokens / capacity) ** shape)


@dataclass(frozen=True)
class Optimum:
    """The best configuration within a budget, found by exhaustive enumeration.

    ``gap`` is the score difference to the runner-up; ``count`` the number of configurations
    within budget.

    Example:
        >>> opt = AgentTTSBenchmark().optimum(850)
        >>> opt.config.key, opt.cost, opt.count
        ('[["72B",1],["3B",8]]', 824.0, 36297)
    """

    budget: float
    config: Config
    score: float
    cost: float
    count: int
    gap: float


class AgentTTSBenchmark(StagesOfSpace):
    """The simulated two-stage benchmark; an :class:`~callscale.search.environments.base.Environment`.

    ``evaluate`` returns the (optionally noisy) training score with per-stage scores
    ``(retrieval recall, QA accuracy)``; ``evaluate_test`` the noise-free score (a large test split).

    Example:
        >>> bench = AgentTTSBenchmark()
        >>> r = bench.evaluate(Config.of(("72B", 1), ("3B", 15)))
        >>> r.cost, round(r.score, 3), round(r.stage_scores[0], 3)
        (831.0, 0.734, 0.829)
    """

    def __init__(
        self,
        *,
        task_seed: int | None = None,
        jitter: float = 0.05,
        noise: float = 0.0,
        noise_seed: int = 0,
        max_samples: int = 50,
        params: SimulatedParams | None = None,
    ) -> None:
        base = params or SimulatedParams()
        self.params = base if task_seed is None else base.jittered(task_seed, jitter)
        self.task_seed = task_seed
        self.noise = float(noise)
        self.noise_seed = int(noise_seed)
        self._space = agentts_space(max_samples)
        self._masks: dict[str, np.ndarray] = {}
        self.calls = 0

    # -- Environment protocol ------------------------------------------------------------------------
    @property
    def space(self) -> Space:
        """The two-stage space."""
        return self._space

    def evaluate(self, config: Config) -> TrialResult:
        """Training-split result (noisy when ``noise > 0``; deterministic per configuration)."""
        self.calls += 1
        return self._result(config, "train", self.noise)

    def evaluate_test(self, config: Config) -> TrialResult:
        """Test-split result: the noise-free score (the test split is ten times larger)."""
        return self._result(config, "test", self.noise / math.sqrt(10))

    def _result(self, config: Config, split: str, sd: float) -> TrialResult:
        if not self._space.contains(config):
            raise ValueError(f"{config.key} is not in the space")
        r = self.retrieval_quality(config[0].model, config[0].samples)
        a = self.qa_quality(config[1].model, config[1].samples, r)
        if sd > 0:
            rng = random.Random(zlib.crc32(f"{self.noise_seed}:{split}:{config.key}".encode()))
            r = min(1.0, max(0.0, r + rng.gauss(0.0, sd)))
            a = min(1.0, max(0.0, a + rng.gauss(0.0, sd)))
        return TrialResult(
            score=a,
            cost=float(self._space.cost(config)),
            stage_scores=(r, a),
            split=split,
            n_items=50 if split == "train" else 500,
        )

    # -- the quality model -------------------------------------------------------------------------
    def _x(self, model: str) -> float:
        params = self._space.stages[0].model(model).params
        return math.log(params / 3e9) / math.log(24)

    def retrieval_curve(self, model: str, samples: np.ndarray | Sequence[int]) -> np.ndarray:
        """Retrieval recall (both gold passages kept) of ``model`` at each sample count."""
        p, x = self.params, self._x(model)
        s = np.asarray(samples, dtype=float)
        hit = min(p.hit0 + p.hit1 * x, 0.99)
        draws = 1.0 + p.rho_r * (s - 1.0)
        coverage = 1.0 - (1.0 - hit) ** draws
        kept = hit + (coverage - hit) * _fidelity(s, RETRIEVAL_TOKENS[1], p.ctx_r0 + p.ctx_r1 * x, p.shape_r)
        return np.asarray(kept**2 * min(p.keep0 + p.keep1 * x, 1.0))

    def qa_curve(self, model: str, samples: np.ndarray | Sequence[int], upstream: float) -> np.ndarray:
        """QA accuracy of ``model`` at each sample count, given retrieval recall ``upstream``."""
        p, x = self.params, self._x(model)
        s = np.asarray(samples, dtype=float)
        acc_ev = min(p.acc_ev0 + p.acc_ev1 * x, 0.99)
        acc_cb = min(p.acc_cb0 + p.acc_cb1 * x, 0.99)
        ans_cb = min(p.answerable_cb0 + p.answerable_cb1 * x, 1.0)
        rho = max(p.rho_q_min, p.rho_q0 - p.rho_q1 * x)
        draws = 1.0 + rho * (s - 1.0)
        r = float(upstream)
        coverage = r * p.answerable_ev * (1.0 - (1.0 - acc_ev) ** draws) + (1.0 - r) * ans_cb * (1.0 - (1.0 - acc_cb) ** draws)
        single = r * p.answerable_ev * acc_ev + (1.0 - r) * ans_cb * acc_cb
        fid = _fidelity(s, QA_TOKENS[1], p.ctx_q, p.shape_q)
        return np.asarray(single + (coverage - single) * fid)

    def retrieval_quality(self, model: str, samples: int) -> float:
        """Retrieval recall of one choice.

        Example:
            >>> round(AgentTTSBenchmark().retrieval_quality("72B", 1), 3)
            0.829
        """
        return float(self.retrieval_curve(model, [samples])[0])

    def qa_quality(self, model: str, samples: int, upstream: float) -> float:
        """QA accuracy of one choice given retrieval recall ``upstream``."""
        return float(self.qa_curve(model, [samples], upstream)[0])

    def score(self, config: Config) -> float:
        """Noise-free end-to-end score of ``config`` (the QA accuracy).

        Example:
            >>> round(AgentTTSBenchmark().score(Config.of(("72B", 1), ("3B", 15))), 3)
            0.734
        """
        i, j = self._option_index(config)
        return float(self._table[0][i, j])

    def _option_index(self, config: Config) -> tuple[int, int]:
        index = self._option_positions
        return index[0][config[0]], index[1][config[1]]

    @cached_property
    def _option_positions(self) -> tuple[dict[Choice, int], ...]:
        return tuple({c: j for j, c in enumerate(opts)} for opts in self._space.options)

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """Scores and costs of every configuration: ``[retrieval option, QA option]`` arrays."""
        space = self._space
        ret_opts, qa_opts = space.options
        recall = np.empty(len(ret_opts))
        for m in space.stages[0].model_names:
            idx = [i for i, c in enumerate(ret_opts) if c.model == m]
            recall[idx] = self.retrieval_curve(m, [ret_opts[i].samples for i in idx])
        scores = np.empty((len(ret_opts), len(qa_opts)))
        for m in space.stages[1].model_names:
            idx = [j for j, c in enumerate(qa_opts) if c.model == m]
            s = np.asarray([qa_opts[j].samples for j in idx], dtype=float)
            for i, r in enumerate(recall):
                scores[i, idx] = self.qa_curve(m, s, float(r))
        costs = np.add.outer(
            np.asarray([float(c) for c in space.option_costs[0]]),
            np.asarray([float(c) for c in space.option_costs[1]]),
        )
        return scores, costs

    # -- exact optimum ---------------------------------------------------------------------------
    def optimum(self, budget: Number) -> Optimum:
        """The best configuration within ``budget`` by exhaustive enumeration (ties: cheaper first).

        Example:
            >>> AgentTTSBenchmark().optimum(500).config.key
            '[["32B",7],["3B",9]]'
        """
        ranked = self.ranked(budget, 2)
        if not ranked:
            raise ValueError(f"nothing fits budget {budget}")
        best = ranked[0]
        gap = best[1] - ranked[1][1] if len(ranked) > 1 else math.inf
        return Optimum(float(budget), best[0], best[1], float(self._space.cost(best[0])), self.count(budget), gap)

    def ranked(self, budget: Number, k: int = 10) -> list[tuple[Config, float]]:
        """The ``k`` best configurations within ``budget`` with their noise-free scores."""
        scores, _ = self._table
        mask = self._mask(budget)
        flat = np.where(mask, scores, -np.inf).ravel()
        k = min(k, int(mask.sum()))
        if k == 0:
            return []
        costs = self._exact_costs.ravel()
        # sort by score descending, then cost ascending, then index (deterministic tie-breaks)
        top = np.lexsort((np.arange(flat.size), costs, -flat))[:k]
        ret_opts, qa_opts = self._space.options
        n_q = len(qa_opts)
        return [(Config((ret_opts[t // n_q], qa_opts[t % n_q])), float(flat[t])) for t in top]

    def count(self, budget: Number) -> int:
        """Number of configurations within ``budget`` (exact)."""
        return int(self._mask(budget).sum())

    @cached_property
    def _exact_costs(self) -> np.ndarray:
        c0, c1 = self._space.option_costs
        return np.add.outer(np.asarray([float(c) for c in c0]), np.asarray([float(c) for c in c1]))

    def _mask(self, budget: Number) -> np.ndarray:
        """Within-budget mask; float sums, with exact rational checks next to the boundary."""
        limit = as_fraction(budget)
        key = str(limit)
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        costs = self._exact_costs
        mask = costs <= float(limit)
        c0, c1 = self._space.option_costs
        for i, j in zip(*np.nonzero(np.abs(costs - float(limit)) <= 1e-9 * max(1.0, abs(float(limit)))), strict=True):
            mask[i, j] = c0[i] + c1[j] <= limit
        self._masks[key] = mask
        return mask

    # -- per-stage curve estimates (what sample pools give a live environment) ----------------------
    def anchor_recalls(self) -> tuple[float, float]:
        """Recalls of the cheapest and the strongest single-sample retrieval (QA curve anchors)."""
        names = self._space.stages[0].model_names
        return self.retrieval_quality(names[0], 1), self.retrieval_quality(names[-1], 1)

    def curve_estimates(
        self,
        samples: Sequence[int] = DEFAULT_PROBE_SAMPLES,
        *,
        upstream: Sequence[float] | None = None,
        noise_items: int | None = None,
        seed: int = 0,
    ) -> list[CurveEstimate]:
        """Per-stage quality of every model at ``samples``; QA measured at each ``upstream`` recall.

        This is what a live environment measures from one sample pool per (stage, model) — one
        pool of ``max(samples)`` samples serves every smaller count. ``noise_items`` adds binomial
        sampling error of a split of that many items (None: exact, as when the pools are the same
        items the trials are scored on). ``upstream`` defaults to :meth:`anchor_recalls`.

        Example:
            >>> est = AgentTTSBenchmark().curve_estimates((1, 2))
            >>> len(est), est[0].stage, est[-1].stage
            (15, 0, 1)
        """
        rng = random.Random(seed)

        def noisy(values: np.ndarray) -> tuple[float, ...]:
            if noise_items is None:
                return tuple(float(v) for v in values)
            out = []
            for v in values:
                sd = math.sqrt(max(v * (1 - v), 1e-6) / noise_items)
                out.append(min(1.0, max(0.0, float(v) + rng.gauss(0.0, sd))))
            return tuple(out)

        s = tuple(int(v) for v in samples)
        anchors = tuple(upstream) if upstream is not None else self.anchor_recalls()
        out = [
            CurveEstimate(0, m, s, noisy(self.retrieval_curve(m, s)), None, noise_items)
            for m in self._space.stages[0].model_names
        ]
        for u in anchors:
            out.extend(
                CurveEstimate(1, m, s, noisy(self.qa_curve(m, s, u)), float(u), noise_items)
                for m in self._space.stages[1].model_names
            )
        return out
