"""A deterministic rule-based stand-in for the agent searcher's LLM (it is not a language model).

:func:`heuristic_llm` reads the tagged JSON of the agent's prompt (``<space>``, ``<archive>``,
``<request>``, see :func:`~callscale.search.searchers.agent.build_prompt`) and answers in the format
the prompt asks for. With an empty archive it proposes finding-1 configurations; otherwise local
moves around the best configurations found so far.

Example:
    >>> from callscale.search.environments.simulated import agentts_space
    >>> from callscale.search.searchers.agent import build_prompt
    >>> heuristic_llm(build_prompt(agentts_space(), 900, [], 1)).splitlines()[0][:33]
    'Guidelines: start from finding 1 '
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

Pick = list[tuple[str, int]]
"""One ``(model, samples)`` per stage."""

FIRST_BATCH_SAMPLES = (4, 16, 2, 32, 8)
"""Sample counts of the later stages in the first batch, in the order they are tried."""


def _tag(prompt: str, name: str) -> Any:
    m = re.search(rf"<{name}>(.*?)</{name}>", prompt, re.S)
    return json.loads(m.group(1)) if m else None


class _Picks:
    """Distinct, untried configurations within the budget, by the prompt's own cost table."""

    def __init__(self, space: dict[str, Any], archive: list[dict[str, Any]], budget: float) -> None:
        self.stages: list[dict[str, Any]] = space["stages"]
        self.costs: dict[str, Any] = space.get("costs", {})
        self.budget = budget
        self.sizes = [[m["name"] for m in sorted(st["models"], key=lambda m: m["params"])] for st in self.stages]
        self.tried = {
            json.dumps([[st["name"], e["config"][st["name"]]["model"], e["config"][st["name"]]["samples"]]
                        for st in self.stages])
            for e in archive
        }
        self.picks: list[Pick] = []

    def cost(self, cfg: Pick) -> float:
        total = 0.0
        for st, (m, s) in zip(self.stages, cfg, strict=True):
            c = self.costs.get(st["name"], {}).get(m, {"first": 0.0, "per_extra_sample": 0.0})
            total += c["first"] + (s - st["samples"][0]) * c["per_extra_sample"]
        return total

    def key(self, cfg: Pick) -> str:
        return json.dumps([[st["name"], m, s] for st, (m, s) in zip(self.stages, cfg, strict=True)])

    def offer(self, cfg: Pick) -> None:
        """Keep ``cfg`` (sample counts clamped to the stage's range) if it is new and affordable."""
        fixed = []
        for st, (m, s) in zip(self.stages, cfg, strict=True):
            lo, hi = st["samples"][0], st["samples"][-1]
            fixed.append((m, int(min(max(s, lo), hi))))
        k = self.key(fixed)
        if k not in self.tried and self.cost(fixed) <= self.budget + 1e-9 and all(self.key(p) != k for p in self.picks):
            self.picks.append(fixed)


def _first_batch(picks: _Picks) -> str:
    """Finding 1: the largest affordable first-stage models with one sample, the smallest later-stage
    models with a few samples. Returns the guideline text."""
    stages, costs, sizes = picks.stages, picks.costs, picks.sizes
    rest_min = [
        sum(costs[st["name"]][sizes[j][0]]["first"] for j, st in enumerate(stages) if j != i) for i in range(len(stages))
    ]
    for down in FIRST_BATCH_SAMPLES:
        for up_rank in (1, 2, 3):
            cfg = []
            for i, _st in enumerate(stages):
                if i == 0:
                    affordable = [m for m in sizes[0] if costs[stages[0]["name"]][m]["first"] + rest_min[0] <= picks.budget]
                    cfg.append((affordable[-min(up_rank, len(affordable))] if affordable else sizes[0][0], 1))
                else:
                    cfg.append((sizes[i][0], down))
            picks.offer(cfg)
    return (
        "Guidelines: start from finding 1 — the largest affordable retriever with one sample, "
        "small answer models with a few samples."
    )


def _local_moves(picks: _Picks, archive: list[dict[str, Any]], n: int) -> str:
    """Around the three best configurations, one stage at a time (last stage first): sample counts
    ±1, ±2, ×1.5, ÷2, ×2, then one model size down or up. Returns the guideline text."""
    stages, sizes = picks.stages, picks.sizes
    ranked = sorted(archive, key=lambda e: (-(e["score"] or 0.0), e["cost"] or 0.0))
    for parent in ranked[:3]:
        base = [(parent["config"][st["name"]]["model"], parent["config"][st["name"]]["samples"]) for st in stages]
        for i in reversed(range(len(stages))):
            m, s = base[i]
            for new_s in (s + 1, s - 1, s + 2, s - 2, round(s * 1.5), s // 2, s * 2):
                if new_s >= 1:
                    picks.offer([*base[:i], (m, new_s), *base[i + 1 :]])
            pos = sizes[i].index(m)
            for new_pos in (pos - 1, pos + 1):
                if 0 <= new_pos < len(sizes[i]):
                    picks.offer([*base[:i], (sizes[i][new_pos], s), *base[i + 1 :]])
        if len(picks.picks) >= n:
            break
    best = ranked[0]
    desc = ", ".join(
        f"{st['name']}={best['config'][st['name']]['model']}x{best['config'][st['name']]['samples']}" for st in stages
    )
    return (
        f"Guidelines: the best so far is {desc} (score {best['score']:.4f}); refine sample counts "
        "around it, one stage at a time, and try neighbouring model sizes."
    )


def heuristic_llm(prompt: str) -> str:
    """A deterministic, rule-based stand-in for an LLM (not a language model).

    Reads the ``<space>``, ``<archive>`` and ``<request>`` tags of the agent's prompt. With an empty
    archive it proposes finding-1 configurations (the largest affordable models first, the smallest
    models with 4, 16, 2, 32, 8 samples after); otherwise local moves around the best configurations
    — sample counts ±1, ±2, ×1.5, ×2, ÷2 and one model size up or down per stage — keeping its own
    estimate of cost within budget.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> from callscale.search.searchers.agent import build_prompt
        >>> from callscale.search.searchers.agent_reply import parse_response
        >>> reply = heuristic_llm(build_prompt(agentts_space(), 900, [], 2))
        >>> reply.startswith("Guidelines:"), len(parse_response(reply).items)
        (True, 2)
    """
    space = _tag(prompt, "space")
    archive = _tag(prompt, "archive") or []
    request = _tag(prompt, "request") or {}
    if not space:
        return "Guidelines: no space description found.\n[]"
    n = int(request.get("n", 1))
    picks = _Picks(space, archive, float(request.get("budget", math.inf)))
    text = _local_moves(picks, archive, n) if archive else _first_batch(picks)
    body = [
        {st["name"]: {"model": m, "samples": s} for st, (m, s) in zip(picks.stages, cfg, strict=True)}
        for cfg in picks.picks[:n]
    ]
    return text + "\n```json\n" + json.dumps(body) + "\n```"
