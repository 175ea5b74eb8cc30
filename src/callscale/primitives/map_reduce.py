"""MapReduce: chunk a long input, map each chunk with an LLM, reduce the outputs in a tree of fan-in b.

The input is the item's ``metadata["document"]`` (or its question), split into chunks of
``chunk_words`` words. Each map call reads one chunk; each reduce call reads at most ``fan_in``
partial results; the tree is ⌈log_b(chunks)⌉ levels deep. The final text is parsed with the task's
parser. Calls: c map + Σ_levels ⌈·/b⌉ reduce calls (c − 1)/(b − 1) when c is a power of b.

Example:
    >>> reduce_calls(9, 3), reduce_calls(10, 3), reduce_calls(1, 3)
    (4, 7, 0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callscale.primitives.base import Decision, ItemContext, Node, Shape, Value, ask_each, input_depth, size
from callscale.primitives.facts import MAP, REDUCE, Facts, item_facts
from callscale.records import Request
from callscale.structure import Cost, Expr, ceil_log, is_symbolic, sceil, slog


def chunk_words(text: str, words: int) -> list[str]:
    """Split ``text`` into pieces of ``words`` whitespace-separated words (the last may be shorter)."""
    tokens = text.split()
    return [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] or [""]


def reduce_calls(chunks: int, fan_in: int) -> int:
    """Number of reduce calls a tree of fan-in ``fan_in`` makes over ``chunks`` map outputs."""
    calls, level = 0, chunks
    while level > 1:
        level = -(-level // fan_in)
        calls += level
    return calls


@dataclass
class MapReduce(Node):
    """See the module docstring."""

    id: str
    model: str
    chunk_words: int = 200
    fan_in: int = 4
    map_instruction: str = "Extract what in this text helps answer the question."
    reduce_instruction: str = "Combine these partial results into one answer to the question."
    map_tokens: int = 64
    temperature: float = 0.0
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.fan_in < 2:
            raise ValueError(f"node {self.id!r}: fan_in must be at least 2")
        if self.chunk_words < 1:
            raise ValueError(f"node {self.id!r}: chunk_words must be at least 1")

    def _request(self, text: str, facts: Facts) -> Request:
        return Request.chat(self.model, text, temperature=self.temperature, max_tokens=self.map_tokens, facts=facts)

    async def run(self, ctx: ItemContext, inputs: Sequence[Value]) -> Value:
        document = str(ctx.item.metadata.get("document") or ctx.item.question)
        depth = input_depth(inputs) + 1
        question = ctx.item.question if "document" in ctx.item.metadata else ""
        head = f"Question: {question}\n" if question else ""
        chunks = chunk_words(document, self.chunk_words)
        mapping = item_facts(ctx.task, ctx.item, MAP)
        mapped = await ask_each(ctx, [self._request(f"{head}{self.map_instruction}\nText: {c}", mapping) for c in chunks],
                                node=f"{self.id}.map", depth=depth)
        reducing = item_facts(ctx.task, ctx.item, REDUCE)
        level = [c.text for c in mapped]
        while len(level) > 1:
            depth += 1
            groups = [level[i : i + self.fan_in] for i in range(0, len(level), self.fan_in)]
            prompts = [f"{head}{self.reduce_instruction}\n" + "\n".join(f"- {p.strip()}" for p in g) for g in groups]
            reduced = await ask_each(ctx, [self._request(p, reducing) for p in prompts], node=f"{self.id}.reduce",
                                     depth=depth)
            level = [c.text for c in reduced]
        answer = ctx.task.parse(level[0], ctx.item)
        return Decision(answer, (answer,), depth, level[0], {"chunks": len(chunks)})

    def cost(self, sizes: Mapping[str, Expr], inputs: Sequence[Shape]) -> tuple[Cost, Shape]:
        """Sizes: ``document`` (words), ``head`` (instruction words per call)."""
        doc, head, out = size(sizes, "document"), size(sizes, "head"), self.map_tokens
        if is_symbolic(doc):
            chunks = doc / self.chunk_words
            reduces = (chunks - 1) / (self.fan_in - 1)
            levels = sceil(slog(chunks, self.fan_in))
        else:
            chunks = -(-int(doc) // self.chunk_words)
            reduces = reduce_calls(chunks, self.fan_in)
            levels = ceil_log(chunks, self.fan_in)
        mapping = Cost.of(self.model, calls=chunks, prompt_tokens=chunks * head + doc, completion_tokens=chunks * out)
        reducing = Cost.of(self.model, calls=reduces, prompt_tokens=reduces * head + (chunks + reduces - 1) * out,
                           completion_tokens=reduces * out, depth=levels)
        return mapping + reducing, Shape(count=1)
