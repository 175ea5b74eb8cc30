"""k-task routing: one generalist of size k·m_s vs a delegator that reads c tokens, then a specialist.

Requests come in k task types. The **generalist** (a model of size m_g = k·m_s, big enough for
all k types) reads the whole request: Θ(m_g·n). The **routed** decomposition is the
:class:`~callscale.primitives.Route` primitive: a delegator of size m_d reads only the request's
c-word description (``metadata["description"]``) and the k specialist names, then a specialist of
size m_s (its own system prompt) answers the request: Θ(m_d·(c + k)) + Θ(m_s·n). Gain
k·m_s·n / (m_d·(c + k) + m_s·n) = Θ(k) while m_d·k ≪ m_s·n; the delegator's prompt lists the k
names, so at a fixed n the gain eventually saturates at m_s·n/m_d — keep the delegator small.

Sizes: ``k`` task types, ``n`` request words, ``c`` description words, ``a`` answer tokens,
``q`` requests (type i mod k). Models: ``generalist`` (k·m_s), ``delegator`` (m_d), ``specialist``
(m_s). On the real backend the requests are shipped arithmetic questions.

Example:
    >>> ex = EXAMPLE
    >>> ex.declared(ex.baseline, ex.sizes({"k": 8}))["calls"], ex.declared(ex.improved, ex.sizes({"k": 8}))["depth"]
    (1, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscale.asymptotic.examples.framework import Decomposition, Example, Sizes, Values
from callscale.asymptotic.synthetic import synthetic_backend, word_count, words
from callscale.backends.base import Backend
from callscale.engine import Engine
from callscale.networks import Network
from callscale.primitives import Decision, Generate, Route, Specialist
from callscale.primitives.prompts import ROUTE_HEAD, route_prompt
from callscale.records import Request
from callscale.structure import Cost
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import parse_number

TEMPLATE = "Answer the request.\n{question}"
REAL_TEMPLATE = "{question}\nReply with the number only."
REAL_NAMES = ("arithmetic", "physics", "medicine", "history", "computing", "law", "chemistry", "biology")


def specialist_system(name: str) -> str:
    """The system prompt that makes the shared small model the ``name`` specialist.

    Example:
        >>> specialist_system("t3")
        'You are the specialist for t3 requests.'
    """
    return f"You are the specialist for {name} requests."


def type_names(k: int, real: bool = False) -> list[str]:
    """The k task types' names (one word each).

    Example:
        >>> type_names(3), type_names(2, real=True)
        (['t1', 't2', 't3'], ['arithmetic', 'physics'])
    """
    if real:
        if k > len(REAL_NAMES):
            raise ValueError(f"the real routing example has at most {len(REAL_NAMES)} task types")
        return list(REAL_NAMES[:k])
    return [f"t{i + 1}" for i in range(k)]


HEAD_TEMPLATE = word_count(TEMPLATE.format(question=""))
HEAD_ROUTE = word_count(route_prompt("", []))
HEAD_SYSTEM = word_count(specialist_system("t1"))


def _task(sizes: Sizes, real: bool) -> Task:
    k, n, c, q = sizes["k"], sizes["n"], sizes["c"], sizes["q"]
    names = type_names(k, real)
    if real:
        from callscale.tasks import get_task

        source = get_task("arithmetic").items
        items = tuple(Item(id=f"r{i}", question=source[i].question, answer=source[i].answer,
                           metadata={"description": "arithmetic calculation", "domain": "arithmetic"}) for i in range(q))
        return Task("routing-real", items, REAL_TEMPLATE, parser=parse_number, sampling={"max_tokens": 8})
    items = tuple(Item(id=f"r{i}", question=words(n), answer="w",
                       metadata={"description": f"{names[i % k]} {words(c - 1)}".strip(), "domain": names[i % k]})
                  for i in range(q))
    return Task("routing", items, TEMPLATE, sampling={"max_tokens": sizes["a"]})


def _network(which: str, sizes: Sizes, real: bool) -> Network:
    if which == "generalist":
        return Network("generalist", (Generate("answer", "generalist", temperature=0.0),))
    names = type_names(sizes["k"], real)
    specialists = {name: Specialist("specialist", specialist_system(name)) for name in names}
    return Network("routed", (Route("route", "delegator", specialists, description_words=sizes["c"],
                                    fallback=names[0]),))


def _runner(which: str) -> Any:
    async def run(engine: Engine, sizes: Sizes, real: bool) -> Mapping[str, Any]:
        task = _task(sizes, real)
        net = _network(which, sizes, real)
        chosen, correct = [], 0.0
        for item in task.items:
            decision = (await net.run_item(engine, task, item))[net.output_id]
            assert isinstance(decision, Decision)
            chosen.append(decision.detail.get("specialist"))
            correct += task.score(decision.answer, item)
        out: dict[str, Any] = {"requests": len(task.items)}
        if which == "routed":
            out["routed_right"] = sum(c == it.metadata["domain"] for c, it in zip(chosen, task.items, strict=True))
        if real:
            out["correct"] = correct
        return out

    return run


def generalist_cost(v: Values) -> Cost:
    """One generalist call per request, reading the whole request.

    Example:
        >>> generalist_cost({"q": 2, "n": 100, "a": 1}).prompt_tokens
        206
    """
    q = v["q"]
    return Cost.of("generalist", calls=q, prompt_tokens=q * (HEAD_TEMPLATE + v["n"]), completion_tokens=q * v["a"])


def routed_cost(v: Values) -> Cost:
    """Per request: the delegator reads the route prompt (c description words, k names), then a specialist answers.

    Example:
        >>> routed_cost({"q": 1, "n": 100, "a": 1, "c": 8, "k": 4}).calls
        2
    """
    q = v["q"]
    delegate = Cost.of("delegator", calls=q, prompt_tokens=q * (HEAD_ROUTE + v["c"] + v["k"]), completion_tokens=q)
    answer = Cost.of("specialist", calls=q, prompt_tokens=q * (HEAD_SYSTEM + HEAD_TEMPLATE + v["n"]),
                     completion_tokens=q * v["a"])
    return delegate + answer


def models(v: Values) -> dict[str, Any]:
    """The generalist must cover k tasks: k times a specialist.

    Example:
        >>> models({"k": 4, "m_s": 10, "m_d": 3})["generalist"]
        40
    """
    return {"generalist": v["k"] * v["m_s"], "delegator": v["m_d"], "specialist": v["m_s"]}


def responder(request: Request) -> dict[str, float]:
    """Delegator: names the type in the description's first word. Others: ``max_tokens`` words.

    Example:
        >>> responder(Request.chat("delegator", route_prompt("t2 w w", ["t1", "t2"])))
        {'t2': 1.0}
    """
    text = request.messages[-1].content if request.messages else request.prompt or ""
    if text.startswith(ROUTE_HEAD):
        return {text.split("\nRequest: ", 1)[1].split()[0]: 1.0}
    return {words(request.sampling.max_tokens): 1.0}


def simulated(sizes: Sizes, seed: int | None) -> Backend:
    """Deterministic synthetic world with the example's model sizes.

    Example:
        >>> simulated(EXAMPLE.sizes({"k": 4}), None).card("generalist").params
        540000000
    """
    values = {**EXAMPLE.constants, **sizes}
    return synthetic_backend(responder, models(values))


EXAMPLE = Example(
    name="routing",
    title="k-task routing: generalist vs delegator + specialist",
    paper="gain Θ(k)",
    vary="k",
    defaults={"k": 8, "n": 2000, "c": 8, "a": 1, "q": 1},
    sweep=(2, 4, 8, 16, 32),
    constants={"m_s": 135_000_000, "m_d": 135_000_000},
    models=models,
    baseline=Decomposition("generalist", generalist_cost, _runner("generalist")),
    improved=Decomposition("routed", routed_cost, _runner("routed")),
    simulated=simulated,
    real_sizes={"k": 2, "n": 8, "c": 2, "a": 1, "q": 1},
    notes="The delegator's prompt lists the k specialist names: its cost is Θ(m_d·(c + k)), so the gain is "
          "Θ(k) while m_d·k ≪ m_s·n and saturates at m_s·n/m_d for fixed n.",
)
