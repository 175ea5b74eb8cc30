"""Evolutionary optimisation, OneMax-like: k blocks of l tokens; a mutated block is right with probability ½.

A solution is k lines of l words; a line is right when it is ``1 1 … 1`` (the fitness, checked
without an LLM, counts right lines). Both decompositions run a greedy (1+λ) loop from an all-wrong
solution: each generation makes λ mutations of the current best and keeps the best if it improves.

**Global mutation**: the mutator reads the whole solution (k·l tokens) and rewrites all of it, each
block right with probability ½, so a generation succeeds only when all k blocks come out right:
≈ 2^k candidates of Θ((k·l)²) forward passes each, Θ(m_u·2^k·k²·l²).
**Block-local mutation**: the mutator reads one wrong block and rewrites it (l tokens); the blocks
evolve in parallel, each needing 2 mutations in expectation: Θ(m_u·k·l²). Gain Θ(2^k·k).

The simulation is deterministic by default and then costs exactly the expectation: global
candidate j has block i right iff bit i of j is 1 (each block is right in half of the candidates;
the all-right one is candidate 2^k − 1, so 2^k candidates, as a geometric with p = 2^−k takes on
average), and a block's mutations alternate wrong, right (2 each, the mean of a geometric with p = ½).
With a seed, blocks are right by independent fair coins instead and costs are averages over seeds
(the expectation of calls, tokens and passes is the same for λ = 1; depth is then random).
Sizes: ``k``, ``l``, ``lam`` (λ), ``cap`` (most candidates per decomposition, 0 = none; for the real model).

Example:
    >>> s = EXAMPLE.sizes({"k": 5})
    >>> EXAMPLE.declared(EXAMPLE.baseline, s)["calls"], EXAMPLE.declared(EXAMPLE.improved, s)["calls"]
    (32, 10)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from callscale.asymptotic.examples.framework import Decomposition, Example, Sizes, Values
from callscale.asymptotic.synthetic import synthetic_backend, word_count, words
from callscale.backends.base import Backend
from callscale.backends.simulated import uniform
from callscale.engine import Engine
from callscale.records import Request
from callscale.structure import Cost, sceil

GLOBAL_HEAD = "Rewrite this solution so that every number is 1. Keep the same lines, same count of numbers per line."
LOCAL_HEAD = "Rewrite this line so that every number is 1. Keep the same count of numbers."
H_GLOBAL = word_count(GLOBAL_HEAD) + 2  # + "Attempt j."
H_LOCAL = word_count(LOCAL_HEAD) + 4  # + "Block i. Attempt a."
_ATTEMPT = re.compile(r"Attempt (\d+)\.")
_BLOCK = re.compile(r"Block (\d+)\.")


def right_line(width: int) -> str:
    """A right block.

    Example:
        >>> right_line(3)
        '1 1 1'
    """
    return words(width, "1")


def wrong_line(width: int) -> str:
    """A wrong block (one 0).

    Example:
        >>> wrong_line(3)
        '0 1 1'
    """
    return " ".join(["0"] + ["1"] * (width - 1))


def fitness(text: str, k: int, width: int) -> int:
    """Right blocks among the first k lines (the non-LLM checker).

    Example:
        >>> fitness("1 1\\n0 1\\n1 1", 3, 2)
        2
    """
    lines = [ln for ln in text.strip().splitlines() if ln.strip()][:k]
    return sum(ln.split() == ["1"] * width for ln in lines)


async def run_global(engine: Engine, sizes: Sizes, real: bool) -> Mapping[str, Any]:
    """(1+λ) with whole-solution mutation until all k blocks are right (or ``cap`` candidates).

    Example:
        >>> import asyncio
        >>> from callscale.asymptotic.examples import simulated_engine
        >>> s = EXAMPLE.sizes({"k": 3, "l": 2})
        >>> asyncio.run(run_global(simulated_engine(EXAMPLE, s), s, False))["candidates"]
        8
    """
    k, width, lam, cap = sizes["k"], sizes["l"], sizes["lam"], sizes["cap"]
    parent, best, made, generation = "\n".join([wrong_line(width)] * k), 0, 0, 0
    while best < k and (not cap or made < cap):
        generation += 1
        batch = range(made, made + lam if not cap else min(made + lam, cap))
        asks = [(Request.chat("mutator", f"{GLOBAL_HEAD} Attempt {j}.\n{parent}", temperature=0.0 if not real else 1.0,
                              max_tokens=k * width if not real else 3 * k * width + k), 1) for j in batch]
        pools = await engine.complete_many(asks, node="mutate", depth=generation)
        made += len(asks)
        for pool in pools:
            score = fitness(pool[0].text, k, width)
            if score > best:
                parent, best = pool[0].text, score
    return {"solved": best == k, "candidates": made, "generations": generation, "fitness": best}


async def run_local(engine: Engine, sizes: Sizes, real: bool) -> Mapping[str, Any]:
    """Every wrong block is mutated on its own, in parallel, until right (or ``cap`` mutations in all).

    Example:
        >>> import asyncio
        >>> from callscale.asymptotic.examples import simulated_engine
        >>> s = EXAMPLE.sizes({"k": 3, "l": 2})
        >>> asyncio.run(run_local(simulated_engine(EXAMPLE, s), s, False))
        {'solved': True, 'candidates': 6, 'generations': 2, 'fitness': 3}
    """
    k, width, cap = sizes["k"], sizes["l"], sizes["cap"]
    blocks = [wrong_line(width)] * k
    attempts = [0] * k
    made, generation = 0, 0
    while any(b.split() != ["1"] * width for b in blocks) and (not cap or made < cap):
        generation += 1
        todo = [i for i, b in enumerate(blocks) if b.split() != ["1"] * width]
        if cap:
            todo = todo[: cap - made]
        for i in todo:
            attempts[i] += 1
        asks = [(Request.chat("mutator", f"{LOCAL_HEAD} Block {i}. Attempt {attempts[i]}.\n{blocks[i]}",
                              temperature=0.0 if not real else 1.0, max_tokens=width if not real else 3 * width), 1)
                for i in todo]
        pools = await engine.complete_many(asks, node="mutate", depth=generation)
        made += len(asks)
        for i, pool in zip(todo, pools, strict=True):
            line = pool[0].text.strip().splitlines()[0] if pool[0].text.strip() else ""
            if line.split() == ["1"] * width:
                blocks[i] = line
    right = sum(b.split() == ["1"] * width for b in blocks)
    return {"solved": right == k, "candidates": made, "generations": generation, "fitness": right}


def global_cost(v: Values) -> Cost:
    """λ·⌈2^k/λ⌉ whole-solution rewrites in ⌈2^k/λ⌉ generations (deterministic simulation; the mean for λ = 1).

    Example:
        >>> c = global_cost({"k": 3, "l": 2, "lam": 3})
        >>> c.calls, c.depth
        (9, 3)
    """
    k, width, lam = v["k"], v["l"], v["lam"]
    generations = sceil(2**k / lam)
    calls = lam * generations
    return Cost.of("mutator", calls=calls, prompt_tokens=calls * (H_GLOBAL + k * width), completion_tokens=calls * k * width,
                   depth=generations)


def local_cost(v: Values) -> Cost:
    """2 rewrites per block, all blocks in parallel: 2k calls, depth 2.

    Example:
        >>> local_cost({"k": 3, "l": 2}).calls
        6
    """
    k, width = v["k"], v["l"]
    return Cost.of("mutator", calls=2 * k, prompt_tokens=2 * k * (H_LOCAL + width), completion_tokens=2 * k * width, depth=2)


def models(v: Values) -> dict[str, Any]:
    """One mutator model.

    Example:
        >>> models({"m_u": 5})
        {'mutator': 5}
    """
    return {"mutator": v["m_u"]}


def responder(seed: int | None) -> Any:
    """Mutation outcomes: deterministic enumeration (``seed=None``) or fair coins seeded by ``seed``.

    Example:
        >>> ask = Request.chat("mutator", f"{GLOBAL_HEAD} Attempt 3.\\n0 1\\n0 1\\n0 1")
        >>> responder(None)(ask)  # bits of 3: blocks 0 and 1 right
        {'1 1\\n1 1\\n0 1': 1.0}
    """

    def respond(request: Request) -> dict[str, float]:
        text = request.messages[-1].content if request.messages else request.prompt or ""
        head, _, body = text.partition("\n")
        lines = body.splitlines()
        width = len(lines[0].split())
        attempt = int(_ATTEMPT.search(head).group(1))  # type: ignore[union-attr]
        block = _BLOCK.search(head)
        if block is not None:  # block-local
            i = int(block.group(1))
            ok = attempt % 2 == 0 if seed is None else uniform(f"local/{i}/{attempt}", seed) < 0.5
            return {right_line(width) if ok else wrong_line(width): 1.0}
        out = []
        for i in range(len(lines)):
            ok = bool(attempt >> i & 1) if seed is None else uniform(f"global/{attempt}/{i}", seed) < 0.5
            out.append(right_line(width) if ok else wrong_line(width))
        return {"\n".join(out): 1.0}

    return respond


def simulated(sizes: Sizes, seed: int | None) -> Backend:
    """The mutation model, deterministic or seeded.

    Example:
        >>> simulated(EXAMPLE.sizes(), 7).card("mutator").params
        135000000
    """
    return synthetic_backend(responder(seed), models(EXAMPLE.constants))


EXAMPLE = Example(
    name="evolution",
    title="OneMax-like evolution: global vs block-local mutation",
    paper="gain Θ(2^k·k)",
    vary="k",
    defaults={"k": 6, "l": 16, "lam": 1, "cap": 0},
    sweep=(2, 4, 6, 8, 10),
    constants={"m_u": 135_000_000},
    models=models,
    baseline=Decomposition("global", global_cost, run_global),
    improved=Decomposition("local", local_cost, run_local),
    simulated=simulated,
    real_sizes={"k": 2, "l": 3, "lam": 1, "cap": 3},
    minimum={"cap": 0},
    notes="Deterministic simulation: costs equal the expectation exactly. With --seeds N the blocks are fair coins "
          "and costs are averages of N runs (calls, tokens and passes have the same mean for λ = 1).",
)
