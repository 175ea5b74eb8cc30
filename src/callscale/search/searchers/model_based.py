"""A model-based allocator: fit per-stage quality curves, solve the allocation, spend trials to confirm.

Every stage draws ``S`` samples and fuses them, so its quality follows a *sample-then-fuse* curve:
a coverage-like rise that a fusion bottleneck eventually bends down to a plateau or a fall
(AgentTTS finding 2)::

    q(S) = a + g · (1 − exp(−(S−1)/τ)) / (1 + ((S−1)/L)^κ)        g ≥ 0

``a`` is the single-sample quality, ``g`` the gain sampling could bring, ``τ`` how fast it comes,
``L`` and ``κ`` where and how sharply fusion stops coping. For fixed ``(τ, L, κ)`` the curve is linear
in ``(a, g)``, so :func:`fit_curve` solves those in closed form over a grid of shapes and refines
the best with Nelder–Mead (scipy).

The allocator (:class:`ModelBasedAllocator`) models a chain of stages: stage ``i``'s quality
depends on its own ``(model, S)`` and on the quality ``u`` of the stage before (finding 3).

* **With per-stage curve estimates** (:class:`~callscale.search.environments.base.CurveEstimate`, e.g. from
  sample pools — one pool of ``M`` samples serves every ``S ≤ M``), it fits one curve per (stage,
  model, upstream quality) and interpolates linearly in upstream quality between the measured
  anchors.
* **Without them**, it runs a small design guided by finding 1 (largest model upstream, small
  models with several samples downstream, plus random feasible configurations) and fits a pooled
  curve per stage whose ``a`` and ``g`` are linear in log model size and upstream quality.

Trials then correct the fitted curves: residuals of observed stage scores are smoothed by a small
Gaussian process per (stage, model) over ``(log S, u)``, so predictions pass through what was
measured. Each proposal is the untried configuration with the highest predicted score within
budget, found by enumerating the budget-feasible set stage by stage (vectorised with numpy).

Example:
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> from callscale.search.base import run_search
    >>> bench = AgentTTSBenchmark()
    >>> allocator = ModelBasedAllocator(bench.space, 900, curves=bench.curve_estimates())
    >>> result = run_search(bench, allocator, n_trials=3)
    >>> bench.optimum(900).config in [t.config for t in result.trials]
    True
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from callscale.search.archive import Trial
from callscale.search.base import SEED, Option, Proposal, Searcher, parse_optional_int, tried_keys
from callscale.search.budget import Number
from callscale.search.environments.base import CurveEstimate
from callscale.search.space import Choice, Config, Space

_TAUS = np.geomspace(0.2, 60.0, 24)
_CTXS = np.geomspace(1.0, 400.0, 24)
_KAPPAS = np.array([0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0])


def curve_shape(samples: np.ndarray | Sequence[float], tau: float, ctx: float, kappa: float) -> np.ndarray:
    """The unit sample-then-fuse shape ``(1 − exp(−(S−1)/τ)) / (1 + ((S−1)/L)^κ)``; 0 at ``S = 1``.

    Example:
        >>> float(curve_shape([1.0], 2.0, 10.0, 1.5)[0])
        0.0
    """
    d = np.maximum(np.asarray(samples, dtype=float) - 1.0, 0.0)
    return np.asarray((1.0 - np.exp(-d / tau)) / (1.0 + (d / ctx) ** kappa))


@dataclass(frozen=True)
class SaturatingCurve:
    """A fitted sample-then-fuse curve ``q(S) = a + g·shape(S; τ, L, κ)``.

    Example:
        >>> c = SaturatingCurve(a=0.5, g=0.3, tau=2.0, ctx=20.0, kappa=2.0)
        >>> round(float(c([1])[0]), 3), c.best_samples(range(1, 51))
        (0.5, 7)
    """

    a: float
    g: float
    tau: float
    ctx: float
    kappa: float
    rmse: float = 0.0
    n: int = 0

    def __call__(self, samples: np.ndarray | Sequence[float]) -> np.ndarray:
        """Predicted quality at each sample count."""
        return np.asarray(self.a + self.g * curve_shape(samples, self.tau, self.ctx, self.kappa))

    def best_samples(self, candidates: Sequence[int]) -> int:
        """The candidate sample count with the highest predicted quality (ties: fewer samples)."""
        cands = sorted(int(c) for c in candidates)
        values = self(np.asarray(cands, dtype=float))
        return cands[int(np.argmax(values))]


def fit_curve(samples: Sequence[float], quality: Sequence[float], weights: Sequence[float] | None = None) -> SaturatingCurve:
    """Least-squares fit of :class:`SaturatingCurve` (grid over shapes, closed-form ``a, g``, then Nelder–Mead).

    With one distinct sample count the curve is flat at the (weighted) mean.

    Example:
        >>> true = SaturatingCurve(0.4, 0.35, 3.0, 30.0, 1.5)
        >>> s = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40, 50]
        >>> fit = fit_curve(s, true(s))
        >>> fit.best_samples(range(1, 51)) == true.best_samples(range(1, 51)), fit.rmse < 1e-4
        (True, True)
    """
    from scipy.optimize import minimize

    s = np.asarray(samples, dtype=float)
    q = np.asarray(quality, dtype=float)
    w = np.ones_like(q) if weights is None else np.asarray(weights, dtype=float)
    if s.shape != q.shape or s.shape != w.shape or s.size == 0:
        raise ValueError("samples, quality and weights must be non-empty and of equal length")
    sw = float(w.sum())
    qm = float((q * w).sum() / sw)
    if len(set(s.tolist())) < 2:
        return SaturatingCurve(qm, 0.0, 1.0, 1e6, 1.0, 0.0, int(s.size))
    qc = q - qm

    def solve(h: np.ndarray) -> tuple[float, float, float]:
        hm = float((h * w).sum() / sw)
        hc = h - hm
        den = float((hc * hc * w).sum())
        g = max(float((hc * qc * w).sum()) / den, 0.0) if den > 1e-15 else 0.0
        a = qm - g * hm
        return a, g, float((((a + g * h) - q) ** 2 * w).sum())

    tt, ll, kk = (m.ravel() for m in np.meshgrid(_TAUS, _CTXS, _KAPPAS, indexing="ij"))
    d = np.maximum(s - 1.0, 0.0)
    h = (1.0 - np.exp(-d[None, :] / tt[:, None])) / (1.0 + (d[None, :] / ll[:, None]) ** kk[:, None])
    hm = (h * w).sum(1) / sw
    hc = h - hm[:, None]
    den = (hc * hc * w).sum(1)
    g = np.maximum(np.where(den > 1e-15, (hc * qc * w).sum(1) / np.maximum(den, 1e-15), 0.0), 0.0)
    a = qm - g * hm
    sse = (((a[:, None] + g[:, None] * h) - q) ** 2 * w).sum(1)
    i = int(np.argmin(sse))

    def objective(v: np.ndarray) -> float:
        tau, ctx, kappa = math.exp(v[0]), math.exp(v[1]), float(v[2])
        if not (0.05 < tau < 500 and 0.3 < ctx < 5000 and 0.3 < kappa < 8):
            return 1e9
        return solve(curve_shape(s, tau, ctx, kappa))[2]

    start = np.array([math.log(tt[i]), math.log(ll[i]), kk[i]])
    res = minimize(objective, start, method="Nelder-Mead", options={"xatol": 1e-5, "fatol": 1e-14, "maxiter": 400})
    v = res.x if float(res.fun) <= float(sse[i]) else start
    tau, ctx, kappa = math.exp(v[0]), math.exp(v[1]), float(v[2])
    a_, g_, sse_ = solve(curve_shape(s, tau, ctx, kappa))
    return SaturatingCurve(a_, g_, tau, ctx, kappa, math.sqrt(sse_ / sw), int(s.size))


@lru_cache(maxsize=4096)
def _fit_cached(samples: tuple[int, ...], quality: tuple[float, ...], weights: tuple[float, ...] | None) -> SaturatingCurve:
    """:func:`fit_curve` memoised on its (immutable) inputs: the same estimates are often refitted."""
    return fit_curve(samples, quality, weights)


# ---------------------------------------------------------------------------------------------
# Per-stage predictors


class _AnchoredCurves:
    """Curves of one (stage, model) measured at several upstream qualities; linear in between."""

    def __init__(self, curves: list[tuple[float | None, SaturatingCurve]]) -> None:
        with_u = sorted((u, c) for u, c in curves if u is not None)
        without = [c for u, c in curves if u is None]
        self.anchors = with_u
        self.flat = without[0] if without else None
        self.rmse = max(c.rmse for _, c in curves)

    def __call__(self, samples: np.ndarray, upstream: np.ndarray) -> np.ndarray:
        """Predictions of shape ``(len(upstream), len(samples))``."""
        if not self.anchors:
            assert self.flat is not None
            return np.broadcast_to(self.flat(samples), (upstream.size, samples.size)).copy()
        if len(self.anchors) == 1:
            return np.broadcast_to(self.anchors[0][1](samples), (upstream.size, samples.size)).copy()
        us = np.array([u for u, _ in self.anchors])
        values = np.stack([c(samples) for _, c in self.anchors])  # (k, n_samples)
        seg = np.clip(np.searchsorted(us, upstream) - 1, 0, len(us) - 2)
        lo, hi = us[seg], us[seg + 1]
        t = ((upstream - lo) / np.where(hi > lo, hi - lo, 1.0))[:, None]
        return np.asarray(values[seg] * (1 - t) + values[seg + 1] * t)


@dataclass(frozen=True)
class _Pooled:
    """Pooled curve of a stage: ``a, g`` linear in (1, x, u), shape shared (trials-only mode)."""

    coef_a: tuple[float, ...]
    coef_g: tuple[float, ...]
    tau: float
    ctx: float
    kappa: float
    rmse: float

    def predict(self, samples: np.ndarray, x: float, upstream: np.ndarray) -> np.ndarray:
        feats = np.stack([np.ones_like(upstream), np.full_like(upstream, x), upstream], axis=1)
        k = len(self.coef_a)
        a = feats[:, :k] @ np.asarray(self.coef_a)
        g = np.maximum(feats[:, :k] @ np.asarray(self.coef_g), 0.0)
        return np.asarray(a[:, None] + g[:, None] * curve_shape(samples, self.tau, self.ctx, self.kappa)[None, :])


def _fit_pooled(s: np.ndarray, x: np.ndarray, u: np.ndarray | None, q: np.ndarray, ridge: float = 1e-3) -> _Pooled:
    """Least squares over a grid of shared shapes, all grid points solved at once (normal equations)."""
    cols = [np.ones_like(s), x] + ([u] if u is not None else [])
    f = np.stack(cols, axis=1)  # (n, k)
    k = f.shape[1]
    tt, ll, kk = (m.ravel() for m in np.meshgrid(_TAUS[::3], _CTXS[::3], np.array([1.0, 1.5, 2.5]), indexing="ij"))
    d = np.maximum(s - 1.0, 0.0)
    h = (1.0 - np.exp(-d[None, :] / tt[:, None])) / (1.0 + (d[None, :] / ll[:, None]) ** kk[:, None])  # (G, n)
    design = np.concatenate([np.broadcast_to(f, (h.shape[0], *f.shape)), f[None, :, :] * h[:, :, None]], axis=2)
    penalty = ridge * np.eye(2 * k)
    penalty[0, 0] = penalty[k, k] = 1e-12  # intercepts are (almost) not shrunk
    gram = np.einsum("gni,gnj->gij", design, design) + penalty
    rhs = np.einsum("gni,n->gi", design, q)
    coef = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]  # (G, 2k)
    sse = (((design @ coef[:, :, None])[:, :, 0] - q) ** 2).sum(1)
    i = int(np.argmin(sse))
    return _Pooled(
        tuple(float(c) for c in coef[i, :k]),
        tuple(float(c) for c in coef[i, k:]),
        float(tt[i]),
        float(ll[i]),
        float(kk[i]),
        math.sqrt(float(sse[i]) / max(len(q), 1)),
    )


class _ResidualGP:
    """Posterior mean of a Gaussian process over ``(log S, u)`` fitted to residuals of one (stage, model)."""

    def __init__(
        self,
        samples: np.ndarray,
        upstream: np.ndarray,
        residuals: np.ndarray,
        *,
        amplitude: float,
        noise: float,
        scale_s: float = 0.35,
        scale_u: float = 0.1,
    ) -> None:
        self.z = np.stack([np.log(samples) / scale_s, upstream / scale_u], axis=1)
        self.scale = (scale_s, scale_u)
        self.amp2 = amplitude**2
        k = self._kernel(self.z, self.z) + (noise**2 + 1e-12) * np.eye(len(residuals))
        self.alpha = np.linalg.solve(k, residuals)

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.asarray(self.amp2 * np.exp(-0.5 * d2))

    def __call__(self, samples: np.ndarray, upstream: np.ndarray) -> np.ndarray:
        """Residual correction of shape ``(len(upstream), len(samples))``."""
        ss, uu = np.meshgrid(np.log(samples) / self.scale[0], upstream / self.scale[1])
        z = np.stack([ss.ravel(), uu.ravel()], axis=1)
        return np.asarray((self._kernel(z, self.z) @ self.alpha).reshape(upstream.size, samples.size))


_StagePredictor = Callable[[int, str, np.ndarray, np.ndarray], np.ndarray]
"""``(stage, model, samples, upstream qualities) -> predictions of shape (n_upstream, n_samples)``."""


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """Predicted scores of budget-feasible configurations, best first.

    Example:
        >>> from callscale.search.environments.simulated import AgentTTSBenchmark
        >>> bench = AgentTTSBenchmark()
        >>> pred = ModelBasedAllocator(bench.space, 850, curves=bench.curve_estimates()).predict(top=3)
        >>> len(pred.configs), pred.scores[0] >= pred.scores[1]
        (3, True)
    """

    configs: tuple[Config, ...]
    scores: tuple[float, ...]
    costs: tuple[float, ...]


class ModelBasedAllocator(Searcher):
    """Fits per-stage quality curves and proposes the predicted-best untried configuration.

    Args:
        space, budget, seed: as for every :class:`~callscale.search.base.Searcher`.
        curves: per-stage curve estimates (e.g. from sample pools); stages or models without them
            are learnt from trials (pooled fit), which needs the environment to report
            ``stage_scores``.
        n_init: size of the initial design used when some stage has no curve estimates
            (default ``2 + stages``).
        obs_noise: standard deviation of trial scores, for the residual Gaussian process.

    Example:
        >>> from callscale.search.environments.simulated import AgentTTSBenchmark
        >>> bench = AgentTTSBenchmark()
        >>> allocator = ModelBasedAllocator(bench.space, 900, curves=bench.curve_estimates())
        >>> allocator.propose([], 1)[0].config.key
        '[["72B",2],["3B",8]]'
    """

    name = "model_based"
    options = (
        SEED,
        Option("curves", None, "per-stage curve estimates (CurveEstimate values), e.g. measured from sample pools"),
        Option("n_init", None, "initial design size when some stage has no curve estimate (none: 2 + stages)",
               parse_optional_int),
        Option("obs_noise", 1e-3, "standard deviation of trial scores (residual Gaussian process)", float),
    )

    def __init__(
        self,
        space: Space,
        budget: Number,
        *,
        seed: int = 0,
        curves: Sequence[CurveEstimate] | None = None,
        n_init: int | None = None,
        obs_noise: float = 1e-3,
    ) -> None:
        super().__init__(space, budget, seed=seed)
        self.obs_noise = float(obs_noise)
        self.n_init = n_init if n_init is not None else 2 + len(space.stages)
        self._x = [self._log_sizes(i) for i in range(len(space.stages))]
        self._curves: dict[tuple[int, str], _AnchoredCurves] = {}
        grouped: dict[tuple[int, str], list[tuple[float | None, SaturatingCurve]]] = defaultdict(list)
        for est in curves or ():
            if not 0 <= est.stage < len(space.stages):
                raise ValueError(f"curve estimate for unknown stage {est.stage}")
            if est.model not in space.stages[est.stage].model_names:
                raise ValueError(f"curve estimate for unknown model {est.model!r} of stage {est.stage}")
            weights = None if est.n_items is None else (float(est.n_items),) * len(est.samples)
            grouped[(est.stage, est.model)].append((est.upstream, _fit_cached(est.samples, est.quality, weights)))
        for key, group in grouped.items():
            self._curves[key] = _AnchoredCurves(group)

    # -- public ------------------------------------------------------------------------------------
    @property
    def needs_design(self) -> bool:
        """True when some (stage, model) has no curve estimate, so trials must teach the model."""
        return any((i, m) not in self._curves for i, st in enumerate(self.space.stages) for m in st.model_names)

    def propose(self, history: Sequence[Trial], n: int = 1) -> list[Proposal]:
        """The ``n`` untried configurations with the highest predicted score (after a design, if needed)."""
        if n <= 0:
            return []
        done = [t for t in history if t.done]
        if self.needs_design and len(done) < self.n_init:
            return [Proposal(c, "initial design (finding 1: large upstream, small downstream)") for c in self._design(history, n)]
        try:
            prediction = self.predict(history, top=n + len(history))
        except (np.linalg.LinAlgError, ValueError):
            return [Proposal(c, "model fit failed; random feasible") for c in self.random_unseen(history, n)]
        seen = tried_keys(history)
        out = []
        for config, score in zip(prediction.configs, prediction.scores, strict=True):
            if config.key in seen:
                continue
            out.append(Proposal(config, f"predicted score {score:.4f}"))
            if len(out) == n:
                break
        if len(out) < n:
            out.extend(Proposal(c, "random feasible") for c in self.random_unseen(history, n - len(out), seen))
        return out

    def predict(self, history: Sequence[Trial] = (), top: int = 10) -> Prediction:
        """Predicted scores of the ``top`` best feasible configurations (tried ones included)."""
        stage_models = self._stage_models(history)
        space = self.space
        n_stages = len(space.stages)
        # feasible prefixes, expanded stage by stage: option indices, exact cost, predicted quality
        suffix_min = [Fraction(0)] * (n_stages + 1)
        for i in range(n_stages - 1, -1, -1):
            suffix_min[i] = suffix_min[i + 1] + min(space.option_costs[i])
        prefix_idx = np.zeros((1, 0), dtype=np.int64)
        prefix_cost = np.zeros(1)
        prefix_q = np.full(1, np.nan)
        tol = 1e-9 * max(1.0, float(self.budget))
        for i in range(n_stages):
            costs_i = np.asarray([float(c) for c in space.option_costs[i]])
            quality = np.empty((prefix_idx.shape[0], len(costs_i)))
            opts = space.options[i]
            for model in space.stages[i].model_names:
                cols = [j for j, c in enumerate(opts) if c.model == model]
                s = np.asarray([opts[j].samples for j in cols], dtype=float)
                quality[:, cols] = stage_models(i, model, s, prefix_q)
            total = prefix_cost[:, None] + costs_i[None, :]
            limit = float(self.budget - suffix_min[i + 1])
            ok = total <= limit + tol
            rows, cols_ok = np.nonzero(ok)
            prefix_idx = np.concatenate([prefix_idx[rows], cols_ok[:, None]], axis=1)
            prefix_cost = total[rows, cols_ok]
            prefix_q = quality[rows, cols_ok]
        # exact check near the boundary
        near = np.abs(prefix_cost - float(self.budget)) <= tol
        configs_all = prefix_idx
        keep = np.ones(len(prefix_cost), dtype=bool)
        for r in np.nonzero(near)[0]:
            keep[r] = self.feasible(self._config(configs_all[r]))
        order = np.lexsort((prefix_cost, -prefix_q))
        order = order[keep[order]][:top]
        return Prediction(
            tuple(self._config(configs_all[r]) for r in order),
            tuple(float(prefix_q[r]) for r in order),
            tuple(float(prefix_cost[r]) for r in order),
        )

    # -- internals ---------------------------------------------------------------------------------
    def _config(self, idx: np.ndarray) -> Config:
        return Config(tuple(self.space.options[i][int(j)] for i, j in enumerate(idx)))

    def _log_sizes(self, stage: int) -> dict[str, float]:
        params = {m.name: max(m.params, 1) for m in self.space.stages[stage].models}
        lo, hi = math.log(min(params.values())), math.log(max(params.values()))
        return {k: (math.log(v) - lo) / (hi - lo) if hi > lo else 0.0 for k, v in params.items()}

    def _observations(self, history: Sequence[Trial]) -> dict[int, list[tuple[str, float, float, float]]]:
        """Per stage: (model, samples, upstream quality, observed quality) of every finished trial."""
        obs: dict[int, list[tuple[str, float, float, float]]] = defaultdict(list)
        n = len(self.space.stages)
        for t in history:
            if not t.done:
                continue
            # without per-stage scores, the end-to-end score is the last stage's quality
            full = len(t.stage_scores) == n
            qs = list(t.stage_scores) if full else [math.nan] * (n - 1) + [float(t.score or 0.0)]
            for i, choice in enumerate(t.config.choices):
                if math.isnan(qs[i]):
                    continue
                u = qs[i - 1] if i > 0 else math.nan
                obs[i].append((choice.model, float(choice.samples), u, qs[i]))
        return obs

    def _stage_models(self, history: Sequence[Trial]) -> _StagePredictor:
        """A function ``(stage, model, samples, upstream) -> predictions (n_upstream, n_samples)``."""
        obs = self._observations(history)
        pooled: dict[int, _Pooled] = {}
        for i in range(len(self.space.stages)):
            missing = [m for m in self.space.stages[i].model_names if (i, m) not in self._curves]
            pts = obs.get(i, [])
            if missing and pts:
                s = np.asarray([p[1] for p in pts])
                x = np.asarray([self._x[i][p[0]] for p in pts])
                q = np.asarray([p[3] for p in pts])
                u = None
                if i > 0:
                    uu = np.asarray([p[2] for p in pts])
                    u = np.where(np.isnan(uu), np.nanmean(uu) if np.isfinite(uu).any() else 0.0, uu)
                pooled[i] = _fit_pooled(s, x, u, q)

        def base(i: int, model: str, s: np.ndarray, u: np.ndarray) -> np.ndarray:
            curves = self._curves.get((i, model))
            if curves is not None:
                return curves(s, u)
            if i in pooled:
                uu = u if i > 0 else np.zeros_like(u)
                return pooled[i].predict(s, self._x[i][model], np.nan_to_num(uu))
            mean = float(np.mean([p[3] for p in obs[i]])) if obs.get(i) else 0.0
            return np.full((u.size, s.size), mean)

        gps: dict[tuple[int, str], _ResidualGP] = {}
        for i, pts in obs.items():
            by_model: dict[str, list[tuple[str, float, float, float]]] = defaultdict(list)
            for p in pts:
                by_model[p[0]].append(p)
            for model, mp in by_model.items():
                s = np.asarray([p[1] for p in mp])
                u = np.nan_to_num(np.asarray([p[2] for p in mp]))
                q = np.asarray([p[3] for p in mp])
                pred = np.asarray(
                    [base(i, model, np.asarray([p[1]]), np.asarray([uu]))[0, 0] for p, uu in zip(mp, u, strict=True)]
                )
                curves = self._curves.get((i, model))
                fit_rmse = curves.rmse if curves is not None else (pooled[i].rmse if i in pooled else 0.05)
                amplitude = max(0.01, 3.0 * fit_rmse, float(np.abs(q - pred).max()))
                gps[(i, model)] = _ResidualGP(s, u, q - pred, amplitude=amplitude, noise=self.obs_noise)

        def predict(i: int, model: str, s: np.ndarray, u: np.ndarray) -> np.ndarray:
            uu = np.nan_to_num(u)
            out = base(i, model, s, uu)
            gp = gps.get((i, model))
            if gp is not None:
                out = out + gp(s, uu)
            return out

        return predict

    def _design(self, history: Sequence[Trial], n: int) -> list[Config]:
        """Initial design: the finding-1 configuration and its variations, then random feasible ones."""
        seen = tried_keys(history)
        out: list[Config] = []
        for c in self._finding1_configs():
            if len(out) == n:
                return out
            if c.key not in seen:
                seen.add(c.key)
                out.append(c)
        out.extend(self.random_unseen(history, n - len(out), seen))
        return out

    def _finding1_configs(self) -> list[Config]:
        """Largest model upstream (few samples), smallest downstream (several samples), and neighbours."""
        stages = self.space.stages
        by_size = [sorted(s.models, key=lambda m: m.params) for s in stages]
        candidates = []
        for down_samples in (4, 16, 2):
            choices = []
            for i, st in enumerate(stages):
                if i == 0:
                    choices.append(Choice(by_size[i][-1].name, st.samples[0]))
                else:
                    choices.append(Choice(by_size[i][0].name, self.space.nearest_samples(i, down_samples)))
            candidates.append(Config(tuple(choices)))
        if len(stages) > 1 and len(by_size[0]) > 1:
            base = candidates[0]
            candidates.append(base.replace(0, Choice(by_size[0][-2].name, self.space.nearest_samples(0, 4))))
        out = []
        for c in candidates:
            fixed = self.space.repair(c, self.budget)
            if fixed is not None and fixed not in out:
                out.append(fixed)
        return out
