"""A task of mixed domains cut from shipped data: MMLU high-school physics, professional medicine,
high-school world history, college computer science, and arithmetic. Each item carries
``metadata["domain"]`` and ``metadata["description"]`` (the domain's label and the first words of the
question) — what a delegator reads to route it to a specialist. Multiple-choice items get a
lettered prompt, arithmetic ones a free-form prompt.

Registered as ``mixed_domains`` (40 items per domain, interleaved so that ``--limit`` keeps the
domains balanced).

Example:
    >>> task = mixed_task(2, 2)
    >>> [it.metadata["domain"] for it in task.items], task.items[0].metadata["description"].split()[:3]
    (['physics', 'physics', 'arithmetic', 'arithmetic'], ['physics', 'question:', 'An'])
    >>> [it.metadata["domain"] for it in interleaved(task).items]
    ['physics', 'arithmetic', 'physics', 'arithmetic']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import LETTERS, parse_choice, parse_number

DOMAINS: tuple[tuple[str, str, str], ...] = (
    ("physics", "mmlu_high_school_physics", "physics question:"),
    ("arithmetic", "arithmetic", "arithmetic calculation:"),
    ("medicine", "mmlu_professional_medicine", "medicine question:"),
    ("history", "mmlu_high_school_world_history", "history question:"),
    ("computing", "mmlu_college_computer_science", "computer science question:"),
)
"""(domain, shipped task, description label), in the order domains are added as k grows."""

MC_TEMPLATE = "{question}\n\n{options}\n\nAnswer with the letter ({letters}) of the correct option."
FREE_TEMPLATE = "Calculate: {question}\nReply with the number only."


def system_prompt(domain: str) -> str:
    """The specialist's system prompt.

    Example:
        >>> system_prompt("physics")
        'You are an expert in physics. Answer the question.'
    """
    return f"You are an expert in {domain}. Answer the question."


def _parse(text: str, choices: Sequence[str] | None) -> str | None:
    return parse_choice(text, choices) if choices else parse_number(text)


@dataclass(frozen=True, eq=False)
class MixedTask(Task):
    """A task mixing multiple-choice and free-form items: each item gets its own kind of prompt."""

    def prompt(self, item: Item, permutation_seed: int | None = None) -> str:
        """The multiple-choice template for items with options, the arithmetic one otherwise.

        Example:
            >>> mixed_task(2, 1).prompt(mixed_task(2, 1).items[1])
            'Calculate: 50 - 5 * 6 =\\nReply with the number only.'
        """
        shown = self.displayed_choices(item, permutation_seed)
        if shown is None:
            return FREE_TEMPLATE.format(question=item.question)
        letters = LETTERS[: len(shown)]
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(letters, shown, strict=True))
        return MC_TEMPLATE.format(question=item.question, options=options,
                                  letters=", ".join(letters[:-1]) + f" or {letters[-1]}")


@cache
def mixed_task(k: int, per_domain: int, c: int = 8) -> MixedTask:
    """``per_domain`` items from each of the first ``k`` :data:`DOMAINS`, with domain and c-word description.

    Example:
        >>> len(mixed_task(3, 4))
        12
    """
    from callscale.tasks import get_task

    if not 1 <= k <= len(DOMAINS):
        raise ValueError(f"the specialists example has 1 to {len(DOMAINS)} domains, got {k}")
    items: list[Item] = []
    for domain, source, label in DOMAINS[:k]:
        for it in get_task(source).subset(per_domain, seed=0).items:
            description = " ".join((label + " " + it.question).split()[:c])
            items.append(Item(id=f"{domain}/{it.id}", question=it.question, answer=it.answer, choices=it.choices,
                              metadata={"domain": domain, "description": description}))
    return MixedTask("mixed_domains", tuple(items), MC_TEMPLATE, parser=_parse, sampling={"max_tokens": 8})


def interleaved(task: MixedTask) -> MixedTask:
    """The items round-robin over their domains (first of each domain, then the second, …)."""
    by_domain: dict[str, list[Item]] = {}
    for it in task.items:
        by_domain.setdefault(str(it.metadata["domain"]), []).append(it)
    rows = [group[i] for i in range(max(map(len, by_domain.values()))) for group in by_domain.values() if i < len(group)]
    return MixedTask(task.name, tuple(rows), task.template, parser=task.parser, sampling=dict(task.sampling))


def mixed_domains() -> MixedTask:
    """The registered ``mixed_domains`` task: 40 items from each of the five domains, interleaved."""
    return interleaved(mixed_task(len(DOMAINS), 40))
