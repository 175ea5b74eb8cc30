"""The facts a primitive's request carries: which task and item it is about, which step asks, what it shows.

A model reads only the prompt; the simulated world (:mod:`callscale.primitives.world`) reads only
these facts, so prompts can be reworded freely and one world can serve several tasks. Facts are
not part of a request's identity (see :class:`~callscale.records.Request`). The schema:

=============== ================ ==========================================================
key             present for      value
=============== ================ ==========================================================
``task``        every request    the task's name
``item``        every request    the item's id
``op``          every request    one of :data:`OPS`
``permutation`` generate         the option-permutation seed (absent: original order)
``role``        generate         the specialist that answers (a Route's), absent otherwise
``shown``       verify           the answer as the judge is shown it (``B. Paris``, ``4``)
``candidates``  select, fuse     the candidates as listed, in order (shown answers; fused texts)
``specialists`` route            the specialists' names as listed
``description`` route            the words the delegator is shown
=============== ================ ==========================================================

Example:
    >>> from callscale.tasks.items import Item, Task
    >>> task = Task("t", (Item(id="a", question="Sky?", choices=("red", "blue"), answer="B"),), "{question}{options}")
    >>> dict(verify_facts(task, task.items[0], "B"))
    {'task': 't', 'item': 'a', 'op': 'verify', 'shown': 'B. blue'}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callscale.primitives.prompts import show_answer
from callscale.records import Fact, Request
from callscale.tasks.items import Item, Task

GENERATE, VERIFY, SELECT, FUSE, ROUTE, MAP, REDUCE = "generate", "verify", "select", "fuse", "route", "map", "reduce"
OPS = (GENERATE, VERIFY, SELECT, FUSE, ROUTE, MAP, REDUCE)
"""Every ``op`` a primitive's request can carry."""

Facts = dict[str, Fact]


def item_facts(task: Task, item: Item, op: str, **more: Fact) -> Facts:
    """The facts every request about ``item`` carries, plus ``more``.

    Example:
        >>> from callscale.tasks.items import Item, Task
        >>> task = Task("t", (Item(id="a", question="q", answer="1"),), "{question}")
        >>> item_facts(task, task.items[0], MAP)
        {'task': 't', 'item': 'a', 'op': 'map'}
    """
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}; one of {', '.join(OPS)}")
    return {"task": task.name, "item": item.id, "op": op, **more}


def generate_facts(task: Task, item: Item, permutation_seed: int | None = None, role: str | None = None) -> Facts:
    """Facts of the task's own prompt for ``item`` (options shown in ``permutation_seed``'s order).

    Example:
        >>> from callscale.tasks.items import Item, Task
        >>> task = Task("t", (Item(id="a", question="q", answer="1"),), "{question}")
        >>> generate_facts(task, task.items[0], 3, role="math")
        {'task': 't', 'item': 'a', 'op': 'generate', 'permutation': 3, 'role': 'math'}
    """
    facts = item_facts(task, item, GENERATE)
    if permutation_seed is not None:
        facts["permutation"] = permutation_seed
    if role is not None:
        facts["role"] = role
    return facts


def task_request(task: Task, item: Item, model: str, *, permutation_seed: int | None = None, system: str | None = None,
                 role: str | None = None, **sampling: Any) -> Request:
    """:meth:`Task.request <callscale.tasks.items.Task.request>` carrying its :func:`generate_facts`.

    Example:
        >>> from callscale.tasks.items import Item, Task
        >>> task = Task("t", (Item(id="a", question="2+2?", answer="4"),), "{question}")
        >>> r = task_request(task, task.items[0], "m", temperature=0.5)
        >>> r == task.request(task.items[0], "m", temperature=0.5), r.facts["op"]
        (True, 'generate')
    """
    request = task.request(item, model, permutation_seed=permutation_seed, system=system, **sampling)
    return request.with_facts(**generate_facts(task, item, permutation_seed, role))


def verify_facts(task: Task, item: Item, answer: str | None) -> Facts:
    """Facts of a yes/no judgement of ``answer`` (shown as :func:`~callscale.primitives.prompts.verify_prompt` shows it)."""
    return item_facts(task, item, VERIFY, shown=show_answer(answer, item.choices))


def select_facts(task: Task, item: Item, answers: Sequence[str | None]) -> Facts:
    """Facts of a pick among ``answers`` (listed as :func:`~callscale.primitives.prompts.select_prompt` lists them).

    Example:
        >>> from callscale.tasks.items import Item, Task
        >>> task = Task("t", (Item(id="a", question="q", answer="1"),), "{question}")
        >>> select_facts(task, task.items[0], ["1", None])["candidates"]
        ('1', '(no answer)')
    """
    return item_facts(task, item, SELECT, candidates=tuple(show_answer(a, item.choices) for a in answers))


def fuse_facts(task: Task, item: Item, texts: Sequence[str]) -> Facts:
    """Facts of a fusion of ``texts`` (listed as :func:`~callscale.primitives.prompts.fuse_prompt` lists them)."""
    return item_facts(task, item, FUSE, candidates=tuple(t.strip() for t in texts))


def route_facts(task: Task, item: Item, description: str, specialists: Sequence[str]) -> Facts:
    """Facts of a delegator's choice among ``specialists`` on seeing ``description``."""
    return item_facts(task, item, ROUTE, description=description, specialists=tuple(specialists))
