"""Specialists that delegate, on real questions: a generalist vs a delegator and k specialists.

A mixed-domain task is cut from shipped data (MMLU high-school physics, professional medicine,
high-school world history, college computer science, and arithmetic). Each item carries
``metadata["domain"]`` and ``metadata["description"]``: the domain's label and the first words of
the question, c words in all — all the delegator reads. The **generalist** answers every item
itself; the **routed** decomposition (:class:`~callscale.primitives.Route`) lets the delegator pick
a specialist — the same model with a domain system prompt — which answers the full question.

Costs are priced with the paper's sizes: the generalist is k·m_s (it must cover k domains), each
specialist m_s, the delegator m_d. On the simulated backend a :class:`SpecialistWorld` answers:
the delegator picks the right domain with ``route_skill`` (a :class:`~callscale.primitives.world.TaskWorld`);
the generalist and an in-domain specialist are right on the same items (fraction ``p_expert``,
common random numbers), an out-of-domain specialist only with ``p_off``. On the real backend every
role is the embedded SmolLM2 model (one model, different system prompts), so its accuracy is what it
is — report it with its interval, not as a property of delegation.

Sizes: ``k`` domains (2–5), ``q`` items per domain, ``c`` description words.

Example:
    >>> task = mixed_task(2, 2)
    >>> [it.metadata["domain"] for it in task.items], task.items[0].metadata["description"].split()[:3]
    (['physics', 'physics', 'arithmetic', 'arithmetic'], ['physics', 'question:', 'An'])
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from functools import cache
from typing import Any

from callscale.asymptotic.examples.framework import Decomposition, Example, Sizes, Values
from callscale.asymptotic.synthetic import synthetic_backend, word_count
from callscale.backends.base import Backend
from callscale.backends.simulated import uniform
from callscale.engine import Engine
from callscale.networks import Network, wilson
from callscale.primitives import Decision, Generate, Route, Specialist
from callscale.primitives.prompts import ROUTE_HEAD, route_prompt
from callscale.primitives.world import TaskWorld
from callscale.records import Request
from callscale.structure import Cost
from callscale.tasks.items import Item, Task
from callscale.tasks.mixed import DOMAINS, mixed_task, system_prompt
from callscale.tasks.parsers import LETTERS


class SpecialistWorld:
    """Simulated answers for the mixed task (see module docstring)."""

    def __init__(self, task: Task, *, route_skill: float = 0.9, p_expert: float = 0.7, p_off: float = 0.25,
                 seed: int = 0) -> None:
        self.task = task
        self.p_expert, self.p_off, self.seed = p_expert, p_off, seed
        self.router = TaskWorld(task, {it.id: {it.answer: 1.0} for it in task.items}, route_skill=route_skill,
                                permutations=0)
        self.by_prompt = {task.prompt(it): it for it in task.items}
        self.domain_of_system = {system_prompt(d): d for d, _, _ in DOMAINS}

    def __call__(self, request: Request) -> Mapping[str, float]:
        messages = request.messages or ()
        text = messages[-1].content if messages else request.prompt or ""
        if text.startswith(ROUTE_HEAD):
            return self.router(request)
        item = self.by_prompt[text]
        system = messages[0].content if len(messages) > 1 else None
        domain = self.domain_of_system.get(system or "")
        p = self.p_expert if domain in (None, item.metadata["domain"]) else self.p_off
        right = uniform(f"specialists/{item.id}", self.seed) < p
        return {(item.answer if right else self.wrong(item)): 1.0}

    @staticmethod
    def wrong(item: Item) -> str:
        """A wrong answer written as the model would (next letter, or gold + 1).

        Example:
            >>> SpecialistWorld.wrong(Item(id="x", question="?", answer="4"))
            '5'
        """
        if item.choices:
            return LETTERS[(LETTERS.index(item.answer) + 1) % len(item.choices)]
        return str(int(float(item.answer)) + 1)


def _run(which: str) -> Any:
    async def run(engine: Engine, sizes: Sizes, real: bool) -> Mapping[str, Any]:
        task = mixed_task(sizes["k"], sizes["q"], sizes["c"])
        net = network(which, sizes["k"], sizes["c"], real)
        decisions = []
        for item in task.items:
            d = (await net.run_item(engine, task, item))[net.output_id]
            assert isinstance(d, Decision)
            decisions.append((item, d))
        correct = sum(task.score(d.answer, it) for it, d in decisions)
        n = len(decisions)
        lo, hi = wilson(correct / n, n)
        out: dict[str, Any] = {"items": n, "accuracy": correct / n, "ci_low": lo, "ci_high": hi}
        if which == "routed":
            out["routed_right"] = sum(d.detail.get("specialist") == it.metadata["domain"] for it, d in decisions) / n
        return out

    return run


def network(which: str, k: int, c: int, real: bool = False) -> Network:
    """The generalist or the routed network over the first k domains.

    Example:
        >>> network("routed", 3, 8).models()
        ('delegator', 'specialist')
    """
    if which == "generalist":
        return Network("generalist", (Generate("answer", "generalist", temperature=0.0),))
    specialists = {d: Specialist("specialist", system_prompt(d)) for d, _, _ in DOMAINS[:k]}
    return Network("routed", (Route("route", "delegator", specialists, description_words=c, fallback=DOMAINS[0][0],
                                    delegator_temperature=0.0 if real else 1.0),))


H_ROUTE = word_count(route_prompt("", []))


@cache
def _data(k: int, q: int, c: int) -> tuple[Fraction, Fraction, Fraction]:
    """Mean words per item of the prompt, the description and the system prompt."""
    task = mixed_task(k, q, c)
    n = len(task.items)
    prompt = Fraction(sum(word_count(task.prompt(it)) for it in task.items), n)
    described = Fraction(sum(min(c, word_count(it.metadata["description"])) for it in task.items), n)
    system = Fraction(sum(word_count(system_prompt(it.metadata["domain"])) for it in task.items), n)
    return prompt, described, system


def derived(sizes: Sizes) -> dict[str, Any]:
    """Mean prompt words ``n``, description words ``d`` and system-prompt words ``s`` of the cut items
    (every domain's system prompt has the same length, so misrouting does not change the count).

    Example:
        >>> derived({"k": 2, "q": 2, "c": 8})["s"]
        Fraction(9, 1)
    """
    n, d, s = _data(sizes["k"], sizes["q"], sizes["c"])
    return {"n": n, "d": d, "s": s}


def generalist_cost(v: Values) -> Cost:
    """One generalist call per item (k·q items), one answer token.

    Example:
        >>> generalist_cost({"k": 2, "q": 3, "n": 50}).calls
        6
    """
    items = v["k"] * v["q"]
    return Cost.of("generalist", calls=items, prompt_tokens=items * v["n"], completion_tokens=items)


def routed_cost(v: Values) -> Cost:
    """Per item: the delegator reads the description and the k names; a specialist answers.

    Example:
        >>> routed_cost({"k": 2, "q": 3, "n": 50, "d": 8, "s": 8}).calls
        12
    """
    items = v["k"] * v["q"]
    delegate = Cost.of("delegator", calls=items, prompt_tokens=items * (H_ROUTE + v["d"] + v["k"]), completion_tokens=items)
    answer = Cost.of("specialist", calls=items, prompt_tokens=items * (v["s"] + v["n"]), completion_tokens=items)
    return delegate + answer


def models(v: Values) -> dict[str, Any]:
    """The generalist covers k domains: k·m_s.

    Example:
        >>> models({"k": 3, "m_s": 2, "m_d": 1})["generalist"]
        6
    """
    return {"generalist": v["k"] * v["m_s"], "delegator": v["m_d"], "specialist": v["m_s"]}


def simulated(sizes: Sizes, seed: int | None) -> Backend:
    """The :class:`SpecialistWorld` with default skills, priced with the example's model sizes.

    Example:
        >>> simulated({"k": 2, "q": 1, "c": 8}, None).card("generalist").params
        270000000
    """
    task = mixed_task(sizes["k"], sizes["q"], sizes["c"])
    world = SpecialistWorld(task, seed=seed or 0)
    values = {**EXAMPLE.constants, **sizes}
    return synthetic_backend(world, models(values))


EXAMPLE = Example(
    name="specialists",
    title="specialists that delegate: generalist vs delegator + specialists on shipped questions",
    paper="cost gain Θ(k) at equal expertise; accuracy depends on routing",
    vary="k",
    defaults={"k": 4, "q": 25, "c": 8},
    sweep=(2, 3, 4, 5),
    constants={"m_s": 135_000_000, "m_d": 135_000_000},
    models=models,
    baseline=Decomposition("generalist", generalist_cost, _run("generalist")),
    improved=Decomposition("routed", routed_cost, _run("routed")),
    simulated=simulated,
    real_sizes={"k": 2, "q": 1, "c": 8},
    derived=derived,
    symbolic_names=("n", "d", "s"),
    notes="Simulated skills: route_skill 0.9, expert accuracy 0.7 for the generalist and in-domain specialists, "
          "0.25 off-domain. n, d and s are the cut items' mean prompt, description and system-prompt words.",
)
