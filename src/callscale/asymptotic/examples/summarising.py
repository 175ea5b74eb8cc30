"""Open exercise: summarise a document of n words — one call over everything vs MapReduce.

**Single call**: one model reads the whole document and writes an s-token summary:
Θ(m·n·s) forward-pass cost, depth 1, context n + O(s) — impossible once n exceeds the context limit.
**MapReduce** (the :class:`~callscale.primitives.MapReduce` primitive): chunks of c words are each
summarised in s tokens, then groups of b partial summaries are merged until one is left:
n/c map calls and (n/c − 1)/(b − 1) reduce calls, Θ(m·n·s·(1 + s/c)) — the same order as the single
call, at a constant-factor premium — but every call's context is bounded by max(c, b·(s + 1)) + O(s),
whatever n, and the depth is 1 + ⌈log_b(n/c)⌉.

The lesson the paper's formalism leaves out: decomposing does not buy cost here; it buys a bounded
context (so any length fits) and pays Θ(log n) depth (latency). Exact for any n (the last chunk may
be shorter; the tree levels round up); the symbolic form assumes n = c·b^j. Sizes: ``n``, ``c``,
``b``, ``s``, ``context`` (limit, for the ``fits_context`` detail only). Model: ``summariser`` (m).

Example:
    >>> s = EXAMPLE.sizes({"n": 1024})
    >>> EXAMPLE.declared(EXAMPLE.improved, s)["calls"], EXAMPLE.declared(EXAMPLE.improved, s)["depth"]
    (21, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscale.asymptotic.examples.framework import Decomposition, Example, Sizes, Values
from callscale.asymptotic.synthetic import echo_length, synthetic_backend, word_count, words
from callscale.backends.base import Backend
from callscale.engine import Engine
from callscale.networks import Network
from callscale.primitives import Decision, Generate, MapReduce
from callscale.primitives.map_reduce import reduce_calls
from callscale.structure import Cost, ceil_log, is_symbolic, sceil, slog
from callscale.tasks.items import Item, Task

QUESTION = "Summarise the document."
MAP_INSTRUCTION = "Summarise this part of the document."
REDUCE_INSTRUCTION = "Merge these partial summaries into one summary."
SINGLE_HEAD = f"{QUESTION}\nDocument:"
H_SINGLE = word_count(SINGLE_HEAD)
H_MAP = word_count(f"Question: {QUESTION}\n{MAP_INSTRUCTION}\nText:")
H_REDUCE = word_count(f"Question: {QUESTION}\n{REDUCE_INSTRUCTION}")


def document(n: int, real: bool) -> str:
    """n words: synthetic, or the opening passages of shipped world-history questions.

    Example:
        >>> document(3, False), len(document(40, True).split())
        ('w w w', 40)
    """
    if not real:
        return words(n)
    from callscale.tasks import get_task

    text: list[str] = []
    for item in get_task("mmlu_high_school_world_history").items:
        text.extend(item.question.split())
        if len(text) >= n:
            break
    return " ".join(text[:n])


def _run(which: str) -> Any:
    async def run(engine: Engine, sizes: Sizes, real: bool) -> Mapping[str, Any]:
        n, c, b, s = sizes["n"], sizes["c"], sizes["b"], sizes["s"]
        doc = document(n, real)
        tokens = s
        if which == "single":
            task = Task("summarise", (Item(id="doc", question=f"{SINGLE_HEAD} {doc}", answer="-"),), "{question}",
                        sampling={"max_tokens": tokens})
            net = Network("single", (Generate("summary", "summariser", temperature=0.0),))
            context = H_SINGLE + n + s
        else:
            task = Task("summarise", (Item(id="doc", question=QUESTION, answer="-", metadata={"document": doc}),),
                        "{question}")
            net = Network("map_reduce", (MapReduce("summary", "summariser", chunk_words=c, fan_in=b,
                                                   map_instruction=MAP_INSTRUCTION, reduce_instruction=REDUCE_INSTRUCTION,
                                                   map_tokens=tokens),))
            context = max(H_MAP + min(c, n), H_REDUCE + min(b, -(-n // c)) * (s + 1) if n > c else 0) + s
        decision = (await net.run_item(engine, task, task.items[0]))[net.output_id]
        assert isinstance(decision, Decision)
        return {"max_context": context, "fits_context": context <= sizes["context"], "summary_words": word_count(decision.text)}

    return run


def single_cost(v: Values) -> Cost:
    """One call reading the document, writing s tokens.

    Example:
        >>> single_cost({"n": 100, "s": 16}).prompt_tokens
        104
    """
    return Cost.of("summariser", calls=1, prompt_tokens=H_SINGLE + v["n"], completion_tokens=v["s"])


def map_reduce_cost(v: Values) -> Cost:
    """n/c map calls (the document once, plus instructions) and a reduce tree of fan-in b.

    Example:
        >>> c = map_reduce_cost({"n": 100, "c": 10, "b": 3, "s": 4})
        >>> c.calls, c.depth  # 10 map calls, reduce levels of 4, 2 and 1 calls
        (17, 4)
    """
    n, c, b, s = v["n"], v["c"], v["b"], v["s"]
    if is_symbolic(n, c, b):
        chunks = n / c
        reduces = (chunks - 1) / (b - 1)
        levels = sceil(slog(chunks, b))
    else:
        chunks = -(-int(n) // int(c))
        reduces = reduce_calls(chunks, int(b))
        levels = ceil_log(chunks, int(b))
    mapping = Cost.of("summariser", calls=chunks, prompt_tokens=chunks * H_MAP + n, completion_tokens=chunks * s)
    # Every output but the last is read once by a reduce call, as "- summary" (s + 1 words).
    reducing = Cost.of("summariser", calls=reduces, prompt_tokens=reduces * H_REDUCE + (chunks + reduces - 1) * (s + 1),
                       completion_tokens=reduces * s, depth=levels)
    return mapping + reducing


def models(v: Values) -> dict[str, Any]:
    """One summariser model for both decompositions.

    Example:
        >>> models({"m": 5})
        {'summariser': 5}
    """
    return {"summariser": v["m"]}


def simulated(sizes: Sizes, seed: int | None) -> Backend:
    """Every call writes exactly s words.

    Example:
        >>> simulated(EXAMPLE.sizes(), None).card("summariser").params
        135000000
    """
    return synthetic_backend(echo_length, models(EXAMPLE.constants))


EXAMPLE = Example(
    name="summarising",
    title="summarising a long document: one call vs MapReduce (open exercise)",
    paper="gain Θ(1); MapReduce depth Θ(log n), context O(c + b·s)",
    vary="n",
    defaults={"n": 4096, "c": 64, "b": 4, "s": 16, "context": 8192},
    sweep=(256, 1024, 4096, 16384, 65536),
    constants={"m": 135_000_000},
    models=models,
    baseline=Decomposition("single", single_cost, _run("single")),
    improved=Decomposition("map_reduce", map_reduce_cost, _run("map_reduce")),
    simulated=simulated,
    real_sizes={"n": 48, "c": 24, "b": 2, "s": 12, "context": 8192},
    minimum={"b": 2},
    notes="Context limits and depth are not in the paper's formalism: MapReduce costs a constant factor more but "
          "every call fits a bounded context; the single call stops fitting at n ≈ context.",
)
